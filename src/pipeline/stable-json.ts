// Compact JSON with object keys sorted, as Go's encoding/json prints maps: Tekton bindings render objects
// and arrays this way, and users' templates and tests depend on the exact text.
import type { JsonValue } from '../model.js';

export function stableStringify(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(value[k]!)}`).join(',')}}`;
}
