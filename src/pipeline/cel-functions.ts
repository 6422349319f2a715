// Tekton's and cel-go's CEL functions that work on plain values, written to match their Go originals
// (tektoncd/triggers pkg/interceptors/cel/triggers.go, cel-go ext/encoders.go). cel.ts registers them with
// the CEL library and converts values in and out; nothing here knows about the library.
import { parseYaml, type Tags } from '../yaml.js';
import type { JsonObject, JsonValue } from '../model.js';

/** How much of a payload value an error message may quote: enough to recognise it, never a whole body. */
const QUOTE_LIMIT = 64;

export function quoteForError(s: string): string {
  return s.length <= QUOTE_LIMIT ? s : `${s.slice(0, QUOTE_LIMIT)}…(${s.length} characters)`;
}

/**
 * `s.truncate(n)`: Go's `s[:min(n, len(s))]`, which counts UTF-8 bytes, not characters. A cut inside a
 * multi-byte character leaves a broken sequence in Go; here it becomes U+FFFD, as it would in JSON output.
 */
export function truncateUtf8(s: string, n: bigint): string {
  if (n < 0n) throw new Error(`truncate length must not be negative, got ${n}`);
  const bytes = Buffer.from(s, 'utf8');
  if (n >= BigInt(bytes.length)) return s;
  return bytes.subarray(0, Number(n)).toString('utf8');
}

/** `s.parseJSON()`: Go's json.Unmarshal into map[string]interface{} (so only objects; `null` gives {}). */
export function parseJSONObject(s: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(s);
  } catch (err) {
    throw new Error(`failed to decode '${quoteForError(s)}' in parseJSON: ${(err as Error).message}`);
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'array' : typeof value;
    throw new Error(
      `failed to decode '${quoteForError(s)}' in parseJSON: cannot parse a JSON ${kind} as an object`,
    );
  }
  return value as JsonObject;
}

// sigs.k8s.io/yaml reads YAML 1.1 (yes/no are booleans, 0777 is octal, merge keys work) and, through
// go-yaml v2, leaves timestamps as strings when decoding into interface{}.
const YAML_OPTIONS = {
  version: '1.1',
  mapAsMap: true,
  maxAliasCount: 100,
  customTags: (tags: Tags) =>
    tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
} as const;

function yamlKey(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key === null) return 'null';
  if (typeof key === 'number' || typeof key === 'boolean' || typeof key === 'bigint') return String(key);
  throw new Error('invalid map key: only scalars can be keys');
}

function yamlToJson(value: unknown): JsonValue {
  if (value instanceof Map) {
    const out: JsonObject = {};
    // defineProperty: a key named `__proto__` is stored as data, not lost into the prototype (issue #13).
    for (const [k, v] of value) {
      Object.defineProperty(out, yamlKey(k), {
        value: yamlToJson(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (Array.isArray(value)) return value.map(yamlToJson);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (value === undefined) return null;
  return value as JsonValue;
}

/** `s.parseYAML()`: a YAML mapping as JSON; an empty or null document gives {} as in Go. */
export function parseYAMLObject(s: string): JsonObject {
  let value: JsonValue;
  try {
    value = yamlToJson(parseYaml(s, YAML_OPTIONS));
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    throw new Error(`failed to decode '${quoteForError(s)}' in parseYAML: ${message}`);
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'sequence' : typeof value;
    throw new Error(
      `failed to decode '${quoteForError(s)}' in parseYAML: cannot parse a YAML ${kind} as a mapping`,
    );
  }
  return value;
}

// Go's encoding/json escapes these so the output is safe inside HTML; marshalJSON inherits it.
const GO_JSON_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goString(s: string): string {
  return JSON.stringify(s)
    .replace(/[<>&\u2028\u2029]/g, (c) => GO_JSON_ESCAPES[c]!)
    .replace(/\\ud[89a-f][0-9a-f]{2}/g, '\\ufffd'); // a lone surrogate is invalid UTF-8: Go writes U+FFFD
}

/**
 * Go's json.Marshal of decoded JSON: compact, object keys sorted, HTML characters escaped. `tick` is called for
 * every value, so a caller can stop a large marshal by throwing.
 */
export function marshalGoJSON(value: JsonValue, tick?: () => void): string {
  tick?.();
  if (value === null) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`json: unsupported value: ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map((item) => marshalGoJSON(item, tick)).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${goString(k)}:${marshalGoJSON(value[k]!, tick)}`).join(',')}}`;
}

const BASE64_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_RAW = /^[A-Za-z0-9+/]*$/;

/**
 * cel-go's `base64.decode`: standard alphabet with padding, else without (RawStdEncoding); Go ignores CR and
 * LF. Node's decoder skips any invalid character silently, so the input is validated first.
 */
export function decodeBase64(s: string): Uint8Array {
  const text = s.replace(/[\r\n]/g, '');
  const valid = BASE64_PADDED.test(text) || (BASE64_RAW.test(text) && text.length % 4 !== 1);
  if (!valid) {
    const bad = text.search(/[^A-Za-z0-9+/=]/);
    throw new Error(`illegal base64 data at input byte ${bad >= 0 ? bad : text.length}`);
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

// cel-go's strings extension, where @bufbuild/cel's version is correct but slow on large strings (it builds the
// result one character at a time, and `replace` copies the whole string per match): a 25 MiB payload made a
// single call block for seconds. These produce the same results in linear time.

function fromUtf16(units: Uint16Array): string {
  return Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString('utf16le');
}

/** `lowerAscii()` / `upperAscii()`: only A–Z / a–z change, everything else is kept. */
export function asciiCase(s: string, upper: boolean): string {
  if (!(upper ? /[a-z]/ : /[A-Z]/).test(s)) return s;
  const [from, to, delta] = upper ? [0x61, 0x7a, -32] : [0x41, 0x5a, 32];
  const units = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    units[i] = c >= from && c <= to ? c + delta : c;
  }
  return fromUtf16(units);
}

/** `size(s)`: code points, without building an array of them. */
export function countRunes(s: string): number {
  let count = s.length;
  for (let i = 0; i + 1 < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** `s.reverse()`: reverses characters (code points), keeping surrogate pairs in order. */
export function reverseRunes(s: string): string {
  const n = s.length;
  const units = new Uint16Array(n);
  for (let i = 0; i < n; i++) units[n - 1 - i] = s.charCodeAt(i);
  for (let i = 0; i + 1 < n; i++) {
    const low = units[i]!;
    const high = units[i + 1]!;
    if (low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff) {
      units[i] = high;
      units[i + 1] = low;
      i++;
    }
  }
  return fromUtf16(units);
}

/** Go's strings.Replace(s, old, repl, n): n < 0 (or absent) replaces all; an empty `old` matches between runes. */
export function replaceGo(s: string, old: string, repl: string, n: bigint | undefined): string {
  const all = n === undefined || n < 0n;
  if (n === 0n || old === repl) return s;
  if (old === '') {
    const runes = Array.from(s);
    const limit = all ? runes.length + 1 : Math.min(Number(n), runes.length + 1);
    const parts: string[] = [];
    for (let i = 0; i <= runes.length; i++) {
      if (i < limit) parts.push(repl);
      if (i < runes.length) parts.push(runes[i]!);
    }
    return parts.join('');
  }
  if (all) return s.split(old).join(repl);
  const parts: string[] = [];
  let pos = 0;
  for (let count = 0n; count < n; count++) {
    const at = s.indexOf(old, pos);
    if (at < 0) break;
    parts.push(s.slice(pos, at), repl);
    pos = at + old.length;
  }
  parts.push(s.slice(pos));
  return parts.join('');
}

const QUOTE_ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '"': '\\"',
  '\\': '\\\\',
};

/** `strings.quote(s)`: a double-quoted CEL string literal. */
export function quoteCel(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/[\0\x07\b\t\n\v\f\r"\\]/g, (c) => QUOTE_ESCAPES[c]!)}"`;
}
