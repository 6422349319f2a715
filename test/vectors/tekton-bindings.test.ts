// Every vector of test/fixtures/vectors/tekton-bindings.json (tektoncd/triggers' own tests) run through our
// binding code. Where our design differs on purpose, the test asserts our behaviour and says why.
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import type { JsonObject, JsonValue, PipelineIO, Route, Template } from '../../src/model.js';
import { resolveParams, evaluateBinding } from '../../src/pipeline/bind.js';
import {
  BindingSyntaxError,
  compileBindingValue,
  compileRef,
  scanExpressions,
} from '../../src/pipeline/expressions.js';
import { handleWebhook } from '../../src/pipeline/handle.js';
import { evaluatePath, relaxedToJsonPath } from '../../src/pipeline/jsonpath.js';
import { decodeTektonText, vectors } from '../helpers/shared.js';

interface Vector {
  id: string;
  kind: string;
  input: Record<string, unknown>;
  expected: Record<string, unknown>;
}

const all = vectors<Vector>('tekton-bindings.json');
const ofKind = (kind: string) => all.filter((v) => v.kind === kind).map((v) => [v.id, v] as const);

/** Tekton prints single strings JSON-escaped; objects/arrays and JSON scalars compare as written. */
function expectedText(raw: string): string {
  try {
    JSON.parse(raw);
    return raw;
  } catch {
    return decodeTektonText(raw);
  }
}

function headerMap(headers: Record<string, string[]> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, v.join(',')]));
}

describe('tekton-bindings.json', () => {
  it('has the vectors this suite maps', () => {
    expect(all.length).toBe(53);
    expect(new Set(all.map((v) => v.kind))).toEqual(
      new Set(['jsonpath', 'findExpressions', 'toJSONPath', 'bindingParams', 'resolveBindings', 'endToEnd']),
    );
  });

  it.each(ofKind('jsonpath'))('jsonpath %s', (_id, v) => {
    const event = JSON.parse(v.input.eventJSON as string) as JsonObject;
    const text = v.input.expression as string;
    if (v.expected.error) {
      expect(() => {
        const compiled = compileBindingValue(text);
        const ref = compiled.parts.find((p) => typeof p !== 'string');
        if (!ref) throw new Error('no $(…) reference: literal text');
      }).toThrow();
      return;
    }
    const compiled = compileBindingValue(text);
    const result = evaluateBinding(compiled, { body: event.body!, header: {}, extensions: {}, eventId: '' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const ref = compiled.parts[0];
    if (typeof ref === 'string' || ref === undefined) throw new Error('expected a reference');
    const { values } = evaluatePath(event.body!, ref.steps);
    const raw = v.expected.value as string;
    expect(result.text).toBe(
      values.length === 1 && typeof values[0] === 'string' ? decodeTektonText(raw) : raw,
    );
  });

  it.each(ofKind('findExpressions'))('findExpressions %s', (_id, v) => {
    const value = v.input.value as string;
    const { found } = scanExpressions(value);
    expect(found.map((f) => value.slice(f.start, f.end))).toEqual(v.expected.originals);
    const expected = v.expected.expressions as string[];
    expect(found).toHaveLength(expected.length);
    found.forEach((f, i) => {
      if (f.inside === '') {
        // Tekton finds `$()` but it can never resolve; we refuse it when the config loads.
        expect(() => compileRef(f.inside)).toThrow(BindingSyntaxError);
        expect(expected[i]).toBe('$()');
        return;
      }
      const ref = compileRef(f.inside);
      const first = ref.steps[0];
      // Header names are canonicalised as Tekton does (`$(header.one)` reads X `One`).
      const canonical = `$(${ref.root}${first?.kind === 'field' ? `.${first.name}` : ''}`;
      expect(expected[i]!.startsWith(canonical)).toBe(true);
    });
  });

  it.each(ofKind('toJSONPath'))('toJSONPath %s', (_id, v) => {
    const text = v.input.expression as string;
    const wrapped = text.startsWith('$(') && text.endsWith(')');
    if (v.expected.error) {
      if (!wrapped) {
        // Not wrapped in $(): in a binding value that is plain text, not an expression.
        expect(compileBindingValue(text).parts).toEqual([text]);
      } else {
        expect(() => relaxedToJsonPath(text.slice(2, -1))).toThrow();
        expect(() => compileBindingValue(text)).toThrow(BindingSyntaxError);
      }
      return;
    }
    expect(relaxedToJsonPath(text.slice(2, -1))).toBe(v.expected.value);
  });

  it.each(ofKind('bindingParams'))('bindingParams %s', (_id, v) => {
    const params = v.input.params as { name: string; value: string }[];
    const templateParams = (v.input.templateParams as { name: string; default?: string }[] | null) ?? [];
    const declared = [...templateParams];
    for (const p of params) if (!declared.some((d) => d.name === p.name)) declared.push({ name: p.name });
    const template: Template = { name: 't', params: declared, resourcetemplates: [] };
    const bodyText = v.input.body as string | null;
    const body: JsonValue = bodyText === null || bodyText === '' ? null : (JSON.parse(bodyText) as JsonValue);
    const event = {
      body,
      header: headerMap(v.input.headers as Record<string, string[]>),
      extensions: (v.input.extensions ?? {}) as Record<string, JsonValue>,
      eventId: (v.input.eventID as string | undefined) ?? '',
    };
    let bindings;
    try {
      bindings = params.map((p) => ({ name: p.name, value: compileBindingValue(p.value) }));
    } catch (e) {
      // A malformed $(…) is a load error for us, before any request arrives.
      expect(e).toBeInstanceOf(BindingSyntaxError);
      expect(v.expected.error).toBe(true);
      return;
    }
    const result = resolveParams(bindings, template, event);
    if (v.expected.error) {
      expect(result.ok).toBe(false);
      return;
    }
    const expected = v.expected.params as { name: string; value: string }[];
    const unbound = declared.filter((d) => d.default === undefined && !params.some((p) => p.name === d.name));
    if (unbound.length > 0) {
      // Tekton leaves such a param out and renders `$(tt.params.x)` literally; we refuse the trigger (and
      // the loader refuses the config) instead of creating a run with an unresolved param.
      expect(expected.some((e) => unbound.some((u) => u.name === e.name))).toBe(false);
      expect(result).toMatchObject({ ok: false, kind: 'param' });
      return;
    }
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.fromEntries(result.params)).toEqual(
      Object.fromEntries(expected.map((e) => [e.name, expectedText(e.value)])),
    );
  });

  it.each(ofKind('resolveBindings'))('resolveBindings %s', (_id, v) => {
    const store = v.input.store as {
      triggerBindings: Record<string, { name: string; value: string }[]>;
      clusterTriggerBindings: Record<string, { name: string; value: string }[]>;
    };
    // TriggerBindings and ClusterTriggerBindings are both reusable `bindings:` entries for us.
    const reusable = { ...store.triggerBindings, ...store.clusterTriggerBindings };
    const entries = (v.input.bindings as Record<string, string>[]).map((b) => {
      const { kind: _kind, ...rest } = b;
      return rest;
    });
    const yaml = JSON.stringify({
      apiVersion: 'tekton-gateway/v1',
      bindings: reusable,
      routes: [
        {
          path: '/x',
          provider: 'none',
          triggers: [
            {
              name: 't',
              bindings: entries,
              template: {
                resourcetemplates: [
                  { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { generateName: 'x-' } },
                ],
              },
            },
          ],
        },
      ],
    });
    const loaded = loadConfigBytes(Buffer.from(yaml), 'routes.yaml');
    if (v.expected.error) {
      expect(loaded.ok).toBe(false);
      return;
    }
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const bindings = loaded.config.routes[0]!.triggers[0]!.bindings;
    expect(bindings.map((b) => ({ name: b.name, value: b.value.text }))).toEqual(v.expected.params);
  });

  it.each(ofKind('endToEnd'))('endToEnd %s', async (_id, v) => {
    const input = v.input as {
      body: string;
      headers: Record<string, string[]>;
      bindings: { name: string; value: string }[];
      templateParams: { name: string; default?: string }[];
      resourceTemplate: JsonObject;
      eventListener: string;
      trigger: string;
      eventID: string;
    };
    const namespace = (input.resourceTemplate.metadata as JsonObject).namespace as string;
    const yaml = JSON.stringify({
      apiVersion: 'tekton-gateway/v1',
      gateway: { name: input.eventListener },
      routes: [
        {
          path: '/el',
          provider: 'none',
          triggers: [
            {
              name: input.trigger,
              bindings: input.bindings,
              template: { params: input.templateParams, resourcetemplates: [input.resourceTemplate] },
            },
          ],
        },
      ],
    });
    const loaded = loadConfigBytes(Buffer.from(yaml), 'routes.yaml');
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    const created: JsonObject[] = [];
    const io: PipelineIO = {
      now: () => 0,
      randomUUID: () => input.eventID,
      secrets: () => undefined,
      create: async (request) => {
        created.push(request.object);
        expect(request.namespace).toBe(namespace);
        return { kind: 'created', object: request.object };
      },
      serverDryRun: false,
      skipVerify: false,
      deadline: 10_000,
      trace: undefined,
    };
    const headers = Object.fromEntries(Object.entries(input.headers).map(([k, vs]) => [k.toLowerCase(), vs]));
    const route: Route = loaded.config.routes[0]!;
    const result = await handleWebhook(
      loaded.config,
      route,
      {
        method: 'POST',
        path: '/el',
        requestURL: '/el',
        headers,
        body: Buffer.from(input.body),
      },
      io,
    );
    expect(result.kind).toBe('processed');
    expect(created).toHaveLength(1);
    const expected = structuredClone((v.expected as { createdResource: JsonObject }).createdResource);
    // We add app.kubernetes.io/managed-by to Tekton's three labels (contract §6), and v2's instance label and
    // route and arrival annotations (run following; the clock here reads 0).
    const metadata = expected.metadata as JsonObject;
    Object.assign(metadata.labels as JsonObject, {
      'app.kubernetes.io/managed-by': 'tekton-gateway',
      'tekton-gateway.dev/instance': `default.${loaded.config.gateway.name}`,
    });
    metadata.annotations = {
      'tekton-gateway.dev/route': '/el',
      'tekton-gateway.dev/received-at': new Date(0).toISOString(),
    };
    expect(created[0]).toEqual(expected);
  });
});
