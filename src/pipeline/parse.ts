// Content type and body checks (contract §3 steps 3 and 5). A refusal is a value with a message that says
// what to fix; nothing here throws for bad input.
import type { HeaderMap, JsonObject } from '../model.js';
import { headerValue } from './provider.js';

export const MAX_DEPTH = 512;

export type Check<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** JSON, any `…+json`, or no content type at all; identity encoding only. */
export function checkContentType(headers: HeaderMap): Check<undefined> {
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
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return { ok: true, value: undefined };
  if (mediaType === 'application/x-www-form-urlencoded') {
    return {
      ok: false,
      message:
        'form-encoded payloads are not supported: configure the webhook to send application/json (GitHub: Content type "application/json")',
    };
  }
  return { ok: false, message: `Content-Type ${mediaType} is not supported; send application/json` };
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * UTF-8 JSON object, nesting at most 512 levels (deeper bodies would exhaust the recursion of later
 * stages); a leading BOM is ignored (TextDecoder drops it); for duplicate keys the last wins (JSON.parse).
 */
export function parseBody(body: Buffer): Check<JsonObject> {
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
