// values.schema.json through ajv: Helm validates the merged values against it before rendering, so the
// tests do the same for every value set.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { CHART_DIR } from './render.js';

export const VALUES_SCHEMA = JSON.parse(readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8')) as {
  $schema: string;
  properties: Record<string, { properties?: Record<string, { enum?: string[] }> }>;
};

// strict: every keyword must be known to draft-07, so a misspelt keyword (which Helm would ignore) fails here.
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(VALUES_SCHEMA);

/** Problems as `instancePath message` lines; empty when the values are valid. */
export function validateValues(values: unknown): string[] {
  if (validate(values)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  );
}
