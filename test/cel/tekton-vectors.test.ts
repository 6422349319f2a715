// Every vector of test/fixtures/vectors/tekton-cel.json (transcribed from tektoncd/triggers' cel_test.go) run
// through compileCel and intercept(). Tekton reports cel-go's wording; we compare the kind of outcome (passes,
// filter false, compile error, evaluation error), as the vectors' README asks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileCel } from '../../src/pipeline/cel.js';
import { parseURLToMap } from '../../src/pipeline/go-url.js';
import { intercept } from '../../src/pipeline/intercept.js';
import type { CelProgram, JsonObject, JsonValue } from '../../src/model.js';
import { celInput, type SecretFixture } from './tekton-input.js';

interface Vector {
  readonly id: string;
  readonly kind: 'interceptor' | 'expression' | 'parseURL' | 'evalContext';
  readonly input: {
    readonly body?: string | JsonObject | null;
    readonly headers?: Record<string, string[]>;
    readonly requestURL?: string;
    readonly secrets?: readonly { name: string; data: Record<string, string> }[];
    readonly filter?: string;
    readonly overlays?: readonly { key: string; expression: string }[];
    readonly expression?: string;
    readonly url?: string;
  };
  readonly expected: {
    readonly continue?: boolean;
    readonly extensions?: JsonObject;
    readonly extensionsNotChecked?: boolean;
    readonly status?: { code: number; messageRegex: string };
    readonly type?: string;
    readonly value?: JsonValue;
    readonly error?: { messageRegexOrSubstring: string };
  };
}

const file = new URL('../fixtures/vectors/tekton-cel.json', import.meta.url);
const vectors = (JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] }).vectors;
const ofKind = (kind: Vector['kind']) =>
  vectors.filter((v) => v.kind === kind).map((v) => ({ name: v.id, v }));

/**
 * Where our contract differs from Tekton on purpose, the vector's expectation is replaced, and the reason is
 * kept here. Each entry also runs the closest expression that our contract accepts.
 */
const CONTRACT_DEVIATIONS: Readonly<Record<string, { readonly why: string; readonly instead: string }>> = {
  'process/validating a secret with a namespace and name': {
    why: 'contract §2: the 3-argument compareSecret (namespace) is a load error; secrets come from the secrets directory',
    instead: "header.canonical('X-Secret-Token').compareSecret('token', 'test-secret') && body.count == 1.0",
  },
  'eval-error/missing secret': {
    why: 'the vector uses the 3-argument form, a load error for us; the 2-argument form must fail at evaluation',
    instead: "'testing'.compareSecret('testing', 'testSecret')",
  },
};

/**
 * Vectors of kind `expression` ran on Go-native maps where these paths are ints; in a webhook every JSON number
 * is a double (README), so int arithmetic on them fails with "no matching overload" and the double form works.
 */
const DOUBLE_ADJUSTED: Readonly<Record<string, string>> = {
  'eval/increment an integer/body.pull_request.commits + 1': 'body.pull_request.commits + 1.0',
};

// TestExpressionEvaluation's fake cluster holds the same Secret as the interceptor vectors.
const EXPRESSION_SECRETS: readonly SecretFixture[] = vectors.find((v) => v.input.secrets?.length)!.input
  .secrets!;

function mustCompile(source: string): CelProgram {
  const compiled = compileCel(source);
  if (!compiled.ok) throw new Error(`${source}: ${compiled.error}`);
  return compiled.program;
}

/** The kind of failure Tekton reported, read from its gRPC code and cel-go's message. */
function expectedFailure(v: Vector): 'filter-false' | 'compile' | 'body' | 'evaluation' {
  if (v.expected.status?.code === 9) return 'filter-false';
  const body = v.input.body ?? '{}';
  if (typeof body === 'string') {
    try {
      JSON.parse(body);
    } catch {
      return 'body';
    }
  }
  const message = v.expected.status?.messageRegex ?? v.expected.error?.messageRegexOrSubstring ?? '';
  return /Syntax error|failed to parse expression|check failed|undeclared reference/.test(message)
    ? 'compile'
    : 'evaluation';
}

describe('tekton-cel.json: interceptor vectors (Process)', () => {
  it.each(ofKind('interceptor'))('$name', ({ v }) => {
    const deviation = CONTRACT_DEVIATIONS[v.id];
    const sources = [
      ...(v.input.filter ? [v.input.filter] : []),
      ...(v.input.overlays ?? []).map((o) => o.expression),
    ];
    const compiled = sources.map((s) => ({ source: s, result: compileCel(s) }));
    const failedCompile = compiled.find((c) => !c.result.ok);

    if (deviation !== undefined) {
      expect(failedCompile?.result).toEqual({ ok: false, error: expect.stringMatching(/compareSecret/) });
    }
    const filter = deviation?.instead ?? v.input.filter;
    if (v.expected.continue === false && expectedFailure(v) === 'body') {
      // The pipeline's parse stage answers 400 before any CEL runs; such a body never reaches intercept().
      expect(() => JSON.parse(v.input.body as string)).toThrow(SyntaxError);
      return;
    }
    if (v.expected.continue === false && expectedFailure(v) === 'compile') {
      expect(failedCompile).toBeDefined();
      return;
    }
    if (deviation === undefined) expect(failedCompile).toBeUndefined();

    const trigger = {
      name: 't',
      events: undefined,
      filters: filter ? [mustCompile(filter)] : [],
      overlays: (v.input.overlays ?? []).map((o) => ({ key: o.key, expression: mustCompile(o.expression) })),
    };
    const input = celInput({
      body: JSON.parse((v.input.body as string | null) ?? '{}') as JsonValue,
      headers: v.input.headers,
      requestURL: v.input.requestURL,
      secrets: v.input.secrets,
    });
    const result = intercept(trigger, undefined, input);

    if (v.expected.continue) {
      expect(result.kind).toBe('pass');
      if (!v.expected.extensionsNotChecked && result.kind === 'pass') {
        expect(result.extensions).toEqual(v.expected.extensions);
      }
    } else if (expectedFailure(v) === 'filter-false') {
      expect(result).toEqual({ kind: 'skip', reason: `filter returned false: ${filter}` });
    } else {
      expect(result).toEqual({ kind: 'error', reason: expect.stringContaining(sources.at(-1)!) });
    }
  });
});

describe('tekton-cel.json: expression vectors (TestExpressionEvaluation)', () => {
  it.each(ofKind('expression'))('$name', ({ v }) => {
    const deviation = CONTRACT_DEVIATIONS[v.id];
    const input = celInput({
      body: v.input.body as JsonObject,
      headers: v.input.headers,
      requestURL: v.input.requestURL,
      secrets: v.input.secrets ?? EXPRESSION_SECRETS,
    });
    const source = v.input.expression!;
    const compiled = compileCel(source);

    if (v.expected.error !== undefined) {
      const failed = compiled.ok ? compiled.program.evaluate(input) : compiled;
      expect(failed.ok).toBe(false);
      if (deviation !== undefined) {
        expect(compiled).toEqual({ ok: false, error: expect.stringMatching(/compareSecret/) });
        expect(mustCompile(deviation.instead).evaluate(input)).toEqual({
          ok: false,
          error: expect.stringMatching(/failed to find secret 'testSecret'/),
        });
      }
      return;
    }

    expect(compiled.ok).toBe(true);
    const adjusted = DOUBLE_ADJUSTED[v.id];
    if (adjusted !== undefined) {
      expect(mustCompile(source).evaluate(input)).toEqual({
        ok: false,
        error: expect.stringMatching(/no matching overload.*JSON numbers are doubles/),
      });
    }
    const expected =
      v.expected.type === 'bytes'
        ? Buffer.from(v.expected.value as string).toString('base64')
        : v.expected.value;
    expect(mustCompile(adjusted ?? source).evaluate(input)).toEqual({ ok: true, value: expected });
  });
});

describe('tekton-cel.json: parseURL vectors (TestURLToMap)', () => {
  it.each(ofKind('parseURL'))('$name', ({ v }) => {
    expect(parseURLToMap(v.input.url!)).toEqual(v.expected.value);
    const viaCel = mustCompile(`${JSON.stringify(v.input.url)}.parseURL()`).evaluate(celInput({}));
    expect(viaCel).toEqual({ ok: true, value: v.expected.value });
  });
});

describe('tekton-cel.json: evalContext vectors (TestMakeEvalContextWithError)', () => {
  it.each(ofKind('evalContext'))('$name: the body is rejected before CEL runs', ({ v }) => {
    expect(() => JSON.parse(v.input.body as string)).toThrow(SyntaxError);
  });
});

describe('tekton-cel.json: the file itself', () => {
  it('holds the vectors this suite expects (so a new kind is not silently ignored)', () => {
    expect(new Set(vectors.map((v) => v.kind))).toEqual(
      new Set(['interceptor', 'expression', 'parseURL', 'evalContext']),
    );
    for (const id of [...Object.keys(CONTRACT_DEVIATIONS), ...Object.keys(DOUBLE_ADJUSTED)]) {
      expect(vectors.map((v) => v.id)).toContain(id);
    }
  });
});
