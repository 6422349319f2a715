// Readers for untyped YAML data: a value of the wrong type reads as absent, and the caller decides
// whether that is worth a finding.
export type Obj = Record<string, unknown>;

export const obj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;

export const arr = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Strings of a list, skipping anything else; undefined when `v` is not a list. */
export function strings(v: unknown): string[] | undefined {
  const list = arr(v);
  return list?.filter((s): s is string => typeof s === 'string');
}

/** A string map (labels, matchLabels); non-string values are skipped. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(obj(v) ?? {})) if (typeof value === 'string') out[k] = value;
  return out;
}

/** A binding value or default as Tekton would see it: a string; YAML numbers and booleans as their text. */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}
