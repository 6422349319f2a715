// Tekton's and cel-go's CEL functions that work on plain values, written to match their Go originals
// (tektoncd/triggers pkg/interceptors/cel/triggers.go, cel-go ext/encoders.go). cel.ts registers them with
// the CEL library and converts values in and out; nothing here knows about the library.
import YAML from 'yaml';
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
  customTags: (tags: YAML.Tags) =>
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
    for (const [k, v] of value) out[yamlKey(k)] = yamlToJson(v);
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
    value = yamlToJson(YAML.parse(s, YAML_OPTIONS));
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

/** Go's json.Marshal of decoded JSON: compact, object keys sorted, HTML characters escaped. */
export function marshalGoJSON(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`json: unsupported value: ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(marshalGoJSON).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${goString(k)}:${marshalGoJSON(value[k]!)}`).join(',')}}`;
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
