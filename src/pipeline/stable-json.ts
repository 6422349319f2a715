// Compact JSON with object keys sorted, as Go's encoding/json prints maps: Tekton bindings render objects
// and arrays this way, and users' templates and tests depend on the exact text.
import type { JsonValue } from '../model.js';

export function stableStringify(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(value[k]!)}`).join(',')}}`;
}

/** A value whose text would pass the caller's limit (gateway.maxValueBytes): a 422, not an exhausted heap. */
export class ValueTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the value is larger than gateway.maxValueBytes (${limit} bytes)`);
  }
}

/**
 * stableStringify, stopping with ValueTooLargeError as soon as the text passes `limit` characters. Each
 * object is serialised once, however many times it is reached: a recursive descent (`$(body..url)`) over
 * nested objects returns every level, each containing the next, and printing each result afresh made the work
 * quadratic in the body's size (issue #13). The text of a repeated object is reused; V8 concatenates strings
 * by reference, so only the final text is ever flattened.
 */
export function stableStringifyWithin(value: JsonValue, limit: number): string {
  const seen = new Map<object, string>();
  const walk = (v: JsonValue): string => {
    if (v === null || typeof v !== 'object') {
      const text = JSON.stringify(v);
      if (text.length > limit) throw new ValueTooLargeError(limit);
      return text;
    }
    const known = seen.get(v);
    if (known !== undefined) return known;
    let text: string;
    if (Array.isArray(v)) {
      text = '[';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) text += ',';
        text += walk(v[i]!);
        if (text.length > limit) throw new ValueTooLargeError(limit);
      }
      text += ']';
    } else {
      text = '{';
      let first = true;
      for (const key of Object.keys(v).sort()) {
        text += `${first ? '' : ','}${JSON.stringify(key)}:`;
        first = false;
        text += walk(v[key]!);
        if (text.length > limit) throw new ValueTooLargeError(limit);
      }
      text += '}';
    }
    if (text.length > limit) throw new ValueTooLargeError(limit);
    seen.set(v, text);
    return text;
  };
  return walk(value);
}
