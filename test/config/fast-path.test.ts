// The loader accepts a valid file through js-yaml (fast) and reports problems through the `yaml` Document
// API (positions). Both must mean the same config: every routes file in the repository loads to an identical
// snapshot either way, and the fast path is really the one taken.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfigBytes, type LoadResult } from '../../src/config/load.js';
import * as yaml from '../../src/yaml.js';
import { repoRoot } from '../helpers/shared.js';

vi.mock('../../src/yaml.js', async (original) => {
  const actual = await original<typeof yaml>();
  return { ...actual, loadAllPlain: vi.fn(actual.loadAllPlain) };
});

const corpus = [
  'routes.yaml',
  'test/helm/values/routes.yaml',
  ...readdirSync(join(repoRoot, 'test/golden/import'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `test/golden/import/${f}`),
];

/** A config as plain data: compiled CEL programs by their source text. */
function snapshot(result: LoadResult): unknown {
  if (!result.ok) return result;
  return JSON.parse(
    JSON.stringify(result, (_key, value: unknown) => {
      if (value instanceof Map) return Object.fromEntries(value);
      if (value && typeof value === 'object' && 'evaluate' in value && 'source' in value) {
        return { cel: (value as { source: string }).source };
      }
      return value;
    }),
  );
}

afterEach(() => vi.mocked(yaml.loadAllPlain).mockClear());

describe('fast and positioned parses agree', () => {
  it('covers the example and the import goldens', () => {
    expect(corpus).toContain('routes.yaml');
    expect(corpus.length).toBeGreaterThanOrEqual(5);
  });

  it.each(corpus.map((f) => [f]))('%s loads to the same config either way, through the fast path', (file) => {
    const bytes = readFileSync(join(repoRoot, file));
    const fast = loadConfigBytes(bytes, file);
    expect(fast.ok, fast.ok ? '' : fast.problems.join('\n')).toBe(true);
    expect(vi.mocked(yaml.loadAllPlain)).toHaveBeenCalledTimes(1);
    expect(snapshot(fast)).toEqual(snapshot(loadConfigBytes(bytes, file, { parser: 'positions' })));
  });

  it('an invalid file is reported with positions, the same as without the fast path', () => {
    const text = 'apiVersion: tekton-gateway/v1\nrotes: []\n';
    const result = loadConfigBytes(Buffer.from(text), 'r.yaml');
    expect(result).toEqual(loadConfigBytes(Buffer.from(text), 'r.yaml', { parser: 'positions' }));
    expect(result.ok ? [] : result.problems).toContain(
      'r.yaml:2:1: rotes: unknown key (did you mean "routes"?); allowed: apiVersion, gateway, bindings, templates, routes, schedules',
    );
  });

  it('a file with aliases goes to the Document parse, which bounds alias expansion', () => {
    const text = `apiVersion: tekton-gateway/v1
templates:
  t: &t
    resourcetemplates: [{apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: x-}}]
routes:
  - {path: /a, provider: none, triggers: [{name: t, template: *t}]}
`;
    const result = loadConfigBytes(Buffer.from(text), 'r.yaml');
    expect(result.ok).toBe(true);
    expect(vi.mocked(yaml.loadAllPlain)).not.toHaveBeenCalled();
  });
});
