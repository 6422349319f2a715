// Content type and body checks (contract §3 steps 3 and 5). A refusal is a value with a message that says
// what to fix; nothing here throws for bad input.
import type { HeaderMap, JsonObject } from '../model.js';
import { headerValue } from './provider.js';

export const MAX_DEPTH = 512;

export type Check<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const FORM_TYPES: ReadonlySet<string> = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);
const BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Identity encoding only; the Content-Type matters only for form bodies (contract §12.0 item 14). Tekton
 * accepts any Content-Type, and CronJobs that `curl -d` and SNS `text/plain` senders rely on that, so a JSON
 * body is read whatever its label. A form-encoded body (a hook set to "form" instead of JSON) is refused
 * before its signature is checked (Gitea and Forgejo sign the JSON, not the form), with what to change.
 */
export function checkContentType(headers: HeaderMap, body: Buffer): Check<undefined> {
  const encoding = headerValue(headers, 'content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return {
      ok: false,
      message: `Content-Encoding ${encoding} is not supported; send the body uncompressed`,
    };
  }
  const type = headerValue(headers, 'content-type');
  if (type === undefined) return { ok: true, value: undefined };
  const mediaType = type.split(';')[0]!.trim().toLowerCase();
  if (FORM_TYPES.has(mediaType) && !startsWithBrace(body)) {
    return {
      ok: false,
      message: `${mediaType} payloads are not supported: configure the webhook to send application/json (GitHub: Content type "application/json")`,
    };
  }
  return { ok: true, value: undefined };
}

/** Whether the first byte after an optional UTF-8 BOM and JSON whitespace is `{`. */
function startsWithBrace(body: Buffer): boolean {
  let i = body[0] === BOM[0] && body[1] === BOM[1] && body[2] === BOM[2] ? 3 : 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x09 || body[i] === 0x0a || body[i] === 0x0d))
    i++;
  return body[i] === 0x7b;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * UTF-8 JSON object, nesting at most 512 levels (deeper bodies would exhaust the recursion of later
 * stages); a leading BOM is ignored (TextDecoder drops it); for duplicate keys the last wins (JSON.parse).
 */
export function parseBody(body: Buffer, maxValues = Infinity): Check<JsonObject> | TooManyValues {
  // Before the parse, from the bytes: a body of millions of tiny values costs hundreds of bytes of heap per
  // value once parsed (issue #13: 1.8 M keys in 22 MiB exhausted a 192 MiB heap).
  if (hasMoreValues(body, maxValues)) {
    return {
      ok: false,
      tooManyValues: true,
      message: `the body holds more than gateway.maxBodyValues (${maxValues}) JSON values`,
    };
  }
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return { ok: false, message: 'the body is not valid UTF-8' };
  }
  if (mayNestTooDeep(body) && nestingDepth(body) > MAX_DEPTH) {
    return { ok: false, message: `the body nests deeper than ${MAX_DEPTH} levels` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `the body is not valid JSON: ${(e as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { ok: false, message: `the body must be a JSON object, not ${found}` };
  }
  return { ok: true, value: value as JsonObject };
}

/** A body refused for its number of values (413), not for its syntax (400). */
export interface TooManyValues {
  readonly ok: false;
  readonly tooManyValues: true;
  readonly message: string;
}

/**
 * True when the body holds more than `max` JSON values (every scalar, object and array counts). A value takes
 * at least one byte and the next one a separator, so a body of fewer than 2·max bytes cannot, and only larger
 * bodies are scanned. Counts outside strings: one for the root, one per `:` (a member's value), and in arrays
 * one per `,` plus one per non-empty array. Invalid JSON may count wrongly; JSON.parse refuses it anyway.
 */
export function hasMoreValues(body: Buffer, max: number): boolean {
  if (body.length < 2 * max) return false;
  let count = 1;
  let inString = false;
  /** Containers open, innermost last: true for an array. */
  const arrays: boolean[] = [];
  let arrayOpened = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (arrayOpened) {
      arrayOpened = false;
      if (c !== CLOSE_BRACKET) count++;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN[0]) arrays.push(false);
    else if (c === OPEN[1]) {
      arrays.push(true);
      arrayOpened = true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) arrays.pop();
    else if (c === 0x3a /* : */ || (c === 0x2c /* , */ && arrays[arrays.length - 1] === true)) count++;
    else continue;
    if (count > max) return true;
  }
  return count > max;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = [0x7b /* { */, 0x5b /* [ */] as const;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * False when the body cannot nest deeper than MAX_DEPTH: that takes more than MAX_DEPTH opening brackets.
 * Counting them is a few native indexOf calls; the exact scan below costs more than JSON.parse itself on a
 * typical push (issue #8, BENCHMARKS.md), so it only runs for bodies with that many brackets.
 */
function mayNestTooDeep(body: Buffer): boolean {
  let count = 0;
  for (const byte of OPEN) {
    for (let i = body.indexOf(byte); i !== -1; i = body.indexOf(byte, i + 1)) {
      if (++count > MAX_DEPTH) return true;
    }
  }
  return false;
}

/**
 * Deepest bracket nesting outside strings; stops counting once past the limit. Scans the UTF-8 bytes (already
 * checked valid): every byte of a multi-byte character is 0x80 or above, so none is mistaken for a quote, a
 * backslash or a bracket, and the bytes give the same answer as the decoded text at a fraction of the cost.
 */
function nestingDepth(body: Buffer): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN[0] || c === OPEN[1]) {
      if (++depth > max) {
        max = depth;
        if (max > MAX_DEPTH) return max;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return max;
}
