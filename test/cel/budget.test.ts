// The cost guard (docs/cel.md): each evaluation stops at EVALUATION_BUDGET_MS, and all evaluations on one
// webhook body share WEBHOOK_BUDGET_MS, so no payload can keep the event loop busy for long.
import { describe, expect, it } from 'vitest';
import { EVALUATION_BUDGET_MS, WEBHOOK_BUDGET_MS } from '../../src/pipeline/cel-budget.js';
import { compileCel } from '../../src/pipeline/cel.js';
import type { CelInput, CelResult, JsonObject } from '../../src/model.js';
import { celInput } from './tekton-input.js';

// Generous: CI machines are shared, and the clock is read every few steps, not every step.
const SLACK_MS = 1_500;

function timed(source: string, input: CelInput): { result: CelResult; ms: number } {
  const compiled = compileCel(source);
  if (!compiled.ok) throw new Error(compiled.error);
  const started = performance.now();
  const result = compiled.program.evaluate(input);
  return { result, ms: performance.now() - started };
}

const items = (n: number): JsonObject => ({ items: Array.from({ length: n }, (_, i) => ({ id: `c${i}` })) });
const perExpression = expect.stringMatching(/stopped after \d+ ms \(the gateway's limit per expression\)/);

describe('the per-expression budget', () => {
  it.each([
    {
      name: 'nested comprehensions over the same list (quadratic)',
      source: 'body.items.exists(a, body.items.exists(b, a.id == b.id && a != b))',
    },
    {
      name: 'a comprehension building a list per item',
      source: 'body.items.map(a, body.items.filter(b, b.id == a.id)).size()',
    },
    { name: 'an enormous range', source: 'lists.range(1000000000).size()' },
    { name: 'marshalJSON of a large value', source: 'body.items.map(a, body.items).marshalJSON().size()' },
    {
      name: 'an error absorbed by || still fails',
      source: 'body.items.exists(a, body.items.exists(b, a.id == b.id && a != b)) || true',
    },
  ])('stops $name', ({ source }) => {
    const { result, ms } = timed(source, celInput({ body: items(5_000) }));
    expect(result).toEqual({ ok: false, error: perExpression });
    expect(ms).toBeLessThan(EVALUATION_BUDGET_MS + SLACK_MS);
  });

  it('stops translate() on a large string between positions', () => {
    const body = { text: 'ab '.repeat(2_000_000) };
    const { result, ms } = timed("body.text.translate('(a|b)+ ', '$1').size()", celInput({ body }));
    expect(result).toEqual({ ok: false, error: perExpression });
    expect(ms).toBeLessThan(EVALUATION_BUDGET_MS + SLACK_MS);
  });

  it('lets a linear scan of a large payload finish', () => {
    const { result } = timed("body.items.exists(c, c.id == 'c9999')", celInput({ body: items(10_000) }));
    expect(result).toEqual({ ok: true, value: true });
  });
});

describe('the per-webhook budget', () => {
  it('is shared by every expression evaluated on the same body, and a new webhook starts afresh', () => {
    const quadratic = 'body.items.exists(a, body.items.exists(b, a.id == b.id && a != b))';
    const webhook = celInput({ body: items(5_000) });
    const spent = [timed(quadratic, webhook), timed(quadratic, webhook)].reduce((sum, r) => sum + r.ms, 0);
    expect(spent).toBeGreaterThanOrEqual(WEBHOOK_BUDGET_MS - 50);

    const after = timed('true', webhook);
    expect(after.result).toEqual({
      ok: false,
      error: `evaluation stopped: this webhook's expressions together used the gateway's ${WEBHOOK_BUDGET_MS} ms of CEL time`,
    });
    expect(timed('true', celInput({ body: items(5_000) })).result).toEqual({ ok: true, value: true });
  });
});
