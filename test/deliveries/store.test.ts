// The store's rules on their own (contract §14, §12.0 item 12): the two rings, the bounds read at every insert,
// and the outcome update that background completion (§3) calls.
import { describe, expect, it } from 'vitest';
import { DeliveryStore, UNVERIFIED_RING, type StoredDelivery } from '../../src/deliveries/store.js';
import type { DeliveryBounds } from '../../src/model.js';

function entry(eventId: string, timeMs: number, over: Partial<StoredDelivery> = {}): StoredDelivery {
  return {
    eventId,
    timeMs,
    route: '/github',
    provider: 'github',
    event: 'push',
    status: 503,
    durationMs: 1,
    replica: 'r',
    verified: true,
    triggers: [
      { name: 'build', outcome: 'failed', reason: 'the cluster could not create it', retryable: true },
    ],
    error: undefined,
    replayOf: undefined,
    dedupeKey: eventId,
    request: { method: 'POST', path: '/github', headers: {}, body: Buffer.from('{}'), bodyBytes: 2 },
    response: { status: 503, body: {} },
    updatedMs: undefined,
    bytes: 100,
    ...over,
  };
}

describe('DeliveryStore', () => {
  it('evicts the oldest past max, and applies lowered bounds at the next insert (a reload)', () => {
    let bounds: DeliveryBounds = { max: 3, maxBytes: 10_000 };
    const counts: number[] = [];
    const store = new DeliveryStore(
      () => bounds,
      (n) => counts.push(n),
    );
    for (let i = 0; i < 5; i++) store.add(entry(`e${i}`, i));
    expect(store.list({ limit: 10 }).map((d) => d.eventId)).toEqual(['e4', 'e3', 'e2']);
    bounds = { max: 10, maxBytes: 250 };
    store.add(entry('e5', 5));
    expect(store.list({ limit: 10 }).map((d) => d.eventId)).toEqual(['e5', 'e4']);
    expect(store.bytes).toBe(200);
    expect(counts.at(-1)).toBe(2);
  });

  it(`keeps at most ${UNVERIFIED_RING} unverified entries apart, merged by time in the list`, () => {
    const store = new DeliveryStore(() => ({ max: 2, maxBytes: 10_000 }));
    store.add(entry('good', 1000));
    for (let i = 0; i < 60; i++) store.add(entry(`bad${i}`, i * 10 + 5, { verified: false, bytes: 0 }));
    const all = store.list({ limit: 1000 });
    expect(all).toHaveLength(1 + UNVERIFIED_RING);
    expect(all[0]!.eventId).toBe('good');
    expect(all[1]!.eventId).toBe('bad59');
    expect(all.at(-1)!.eventId).toBe('bad10');
  });

  it('filters by route and outcome; outcome=rejected finds requests refused before any trigger', () => {
    const store = new DeliveryStore(() => ({ max: 10, maxBytes: 10_000 }));
    store.add(entry('a', 1));
    store.add(entry('b', 2, { route: '', triggers: [], error: 'no route for path /x', verified: false }));
    store.add(entry('c', 3, { route: '/gitlab', triggers: [{ name: 't', outcome: 'skipped' }] }));
    expect(store.list({ limit: 10, route: '/gitlab' }).map((d) => d.eventId)).toEqual(['c']);
    expect(store.list({ limit: 10, outcome: 'failed' }).map((d) => d.eventId)).toEqual(['a']);
    expect(store.list({ limit: 10, outcome: 'rejected' }).map((d) => d.eventId)).toEqual(['b']);
  });

  it('updateOutcome(eventId, triggers): a background retry replaces the trigger entries by name', () => {
    const store = new DeliveryStore(() => ({ max: 10, maxBytes: 10_000 }));
    store.add(
      entry('ev', 1, {
        triggers: [
          { name: 'build', outcome: 'failed' },
          { name: 'lint', outcome: 'skipped' },
        ],
      }),
    );
    const ref = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name: 'build-abc' };
    expect(store.updateOutcome('ev', [{ name: 'build', outcome: 'created', resources: [ref] }], 42)).toBe(
      true,
    );
    const d = store.get('ev')!;
    expect(d.triggers).toEqual([
      { name: 'build', outcome: 'created', resources: [ref] },
      { name: 'lint', outcome: 'skipped' },
    ]);
    expect(d.updatedMs).toBe(42);
    // What was answered stays as it was.
    expect(d.response.status).toBe(503);
    expect(store.updateOutcome('gone', [], 43)).toBe(false);
  });

  it('get() finds the newest delivery with an id; replay numbers count up per original', () => {
    const store = new DeliveryStore(() => ({ max: 10, maxBytes: 10_000 }));
    store.add(entry('dup', 1, { status: 401, verified: false }));
    store.add(entry('dup', 2, { status: 201 }));
    expect(store.get('dup')!.status).toBe(201);
    expect(store.nextReplayNumber('dup')).toBe(1);
    store.add(entry('dup-replay-1', 3, { replayOf: 'dup' }));
    store.add(entry('dup-replay-2', 4, { replayOf: 'dup' }));
    expect(store.nextReplayNumber('dup')).toBe(3);
  });
});
