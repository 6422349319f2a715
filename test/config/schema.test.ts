// routes.schema.json is generated from the loader's schema and must not go stale; editors that use it
// accept the example and catch what the loader catches structurally.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { routesJsonSchema, routesJsonSchemaText } from '../../src/config/json-schema.js';
import { parseYaml } from '../../src/yaml.js';
import { repoRoot } from '../helpers/shared.js';

describe('routes.schema.json', () => {
  it('is up to date with src/config/schema.ts (run `npm run schema`)', () => {
    expect(readFileSync(join(repoRoot, 'routes.schema.json'), 'utf8')).toBe(routesJsonSchemaText());
  });

  const validate = new Ajv({ allErrors: true, strict: false }).compile(routesJsonSchema());

  it('accepts the example routes.yaml', () => {
    const example = parseYaml(readFileSync(join(repoRoot, 'routes.yaml'), 'utf8'));
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['an unknown key', { apiVersion: 'tekton-gateway/v1', routes: [], rotes: [] }],
    [
      'a wrong provider',
      { apiVersion: 'tekton-gateway/v1', routes: [{ path: '/a', provider: 'gitlub', triggers: [] }] },
    ],
    ['a missing apiVersion', { routes: [] }],
    [
      'a filter that is a number',
      {
        apiVersion: 'tekton-gateway/v1',
        routes: [{ path: '/a', provider: 'none', triggers: [{ name: 't', template: 'x', filter: 3 }] }],
      },
    ],
  ])('rejects %s', (_name, doc) => {
    expect(validate(doc)).toBe(false);
  });
});
