// Contract v2 §5 (issue #14): a `$(…)` that finds nothing is replaced by the param's default in place,
// keeping the text around it, as tektoncd/triggers' applyEventValuesToParams does. The vectors live in
// test/fixtures/vectors/tekton-binding-defaults.json (source noted there and in test/fixtures/README.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import type { JsonValue, PipelineIO, Template } from '../../src/model.js';
import { resolveParams } from '../../src/pipeline/bind.js';
import { compileBindingValue } from '../../src/pipeline/expressions.js';
import { handleWebhook } from '../../src/pipeline/handle.js';

interface Vector {
  id: string;
  input: {
    params: { name: string; value: string }[];
    templateParams: { name: string; default?: string }[];
    body: string;
    headers: Record<string, string[]>;
  };
  expected: { params?: { name: string; value: string }[]; error?: boolean };
}

const file = new URL('../fixtures/vectors/tekton-binding-defaults.json', import.meta.url);
const vectors = (JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] }).vectors;
const cases = vectors.map((v) => [v.id, v] as const);

describe('binding defaults applied in place', () => {
  it('has the vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(9);
  });

  it.each(cases)('resolveParams: %s', (_id, v) => {
    const template: Template = { name: 't', params: v.input.templateParams, resourcetemplates: [] };
    const header = Object.fromEntries(Object.entries(v.input.headers).map(([k, vs]) => [k, vs.join(',')]));
    const result = resolveParams(
      v.input.params.map((p) => ({ name: p.name, value: compileBindingValue(p.value) })),
      template,
      { body: JSON.parse(v.input.body) as JsonValue, header, extensions: {}, eventId: 'e' },
    );
    if (v.expected.error) {
      expect(result).toMatchObject({ ok: false, kind: 'binding' });
      return;
    }
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.fromEntries(result.params)).toEqual(
      Object.fromEntries(v.expected.params!.map((p) => [p.name, p.value])),
    );
  });

  it.each(cases)('through the whole pipeline (dry run): %s', async (_id, v) => {
    const names = v.input.templateParams.map((p) => p.name);
    const yaml = JSON.stringify({
      apiVersion: 'tekton-gateway/v1',
      routes: [
        {
          path: '/el',
          provider: 'none',
          triggers: [
            {
              name: 't',
              bindings: v.input.params,
              template: {
                params: v.input.templateParams,
                resourcetemplates: [
                  {
                    apiVersion: 'tekton.dev/v1',
                    kind: 'PipelineRun',
                    metadata: { generateName: 'run-' },
                    spec: { params: names.map((n) => ({ name: n, value: `$(tt.params.${n})` })) },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    const loaded = loadConfigBytes(Buffer.from(yaml), 'routes.yaml');
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    const io: PipelineIO = {
      now: () => 0,
      randomUUID: () => '00000000-0000-4000-8000-000000000000',
      secrets: () => undefined,
      create: undefined,
      serverDryRun: false,
      skipVerify: false,
      deadline: 10_000,
      trace: undefined,
    };
    const headers = Object.fromEntries(
      Object.entries(v.input.headers).map(([k, vs]) => [k.toLowerCase(), vs]),
    );
    const result = await handleWebhook(
      loaded.config,
      loaded.config.routes[0]!,
      { method: 'POST', path: '/el', requestURL: '/el', headers, body: Buffer.from(v.input.body) },
      io,
    );
    expect(result.kind).toBe('processed');
    if (result.kind !== 'processed') return;
    const trigger = result.triggers[0]!;
    if (v.expected.error) {
      expect(trigger).toMatchObject({ outcome: 'failed' });
      return;
    }
    expect(trigger.outcome).toBe('rendered');
    const objects = (
      trigger as unknown as { objects: { spec: { params: { name: string; value: string }[] } }[] }
    ).objects;
    expect(objects[0]!.spec.params).toEqual(v.expected.params);
  });
});
