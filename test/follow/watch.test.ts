// The supervised list + watch on the fake API (contract §12.0 item 9, §12.1a): it sees changes, resumes
// after the server ends the watch, relists after 410, and relists when the watch goes silent.
import { afterEach, describe, expect, it } from 'vitest';
import { RunWatch, type WatchEventType } from '../../src/follow/watch.js';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import { clientFor, until } from './kube.js';

const RUNS = '/apis/tekton.dev/v1/namespaces/ci/pipelineruns';
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function create(fake: FakeKube, name: string, labels: Record<string, string> = { app: 'gw' }) {
  const response = await fetch(`${fake.url}${RUNS}`, {
    method: 'POST',
    headers: { Authorization: 'Bearer test-token', 'Content-Type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'tekton.dev/v1',
      kind: 'PipelineRun',
      metadata: { name, labels },
      spec: { pipelineRef: { name: 'b' } },
    }),
  });
  expect(response.status).toBe(201);
}

async function setup(timings = { timeoutSeconds: 1, inactivityMs: 600, backoffMs: 50, maxBackoffMs: 200 }) {
  const fake = await startFakeKube({ namespaces: ['ci'] });
  cleanup.push(() => fake.close());
  const client = clientFor(fake);
  cleanup.push(() => client.close());
  const lists: string[] = [];
  const watches: string[] = [];
  const events: [WatchEventType, string][] = [];
  const known = new Map<string, Record<string, unknown>>();
  const watch = new RunWatch({
    client,
    path: RUNS,
    labelSelector: 'app=gw',
    timings,
    onList: (objects) => {
      known.clear();
      for (const o of objects) known.set((o['metadata'] as { name: string }).name, o);
    },
    onEvent: (type, object) => {
      const name = (object['metadata'] as { name: string }).name;
      events.push([type, name]);
      if (type === 'DELETED') known.delete(name);
      else known.set(name, object);
    },
    onRequest: (kind, reason) => (kind === 'list' ? lists : watches).push(reason),
  });
  cleanup.push(() => watch.stop());
  return { fake, watch, lists, watches, events, known };
}

describe('run watch', () => {
  it('lists, then streams changes that carry its labels only', async () => {
    const t = await setup();
    await create(t.fake, 'before');
    t.watch.start();
    await until(() => t.known.has('before'));
    await create(t.fake, 'mine');
    await create(t.fake, 'other', { app: 'else' });
    t.fake.advance('pipelineruns', 'ci', 'mine', 'running');
    t.fake.remove('pipelineruns', 'ci', 'before');
    await until(() => t.events.length >= 3);
    expect(t.events).toEqual([
      ['ADDED', 'mine'],
      ['MODIFIED', 'mine'],
      ['DELETED', 'before'],
    ]);
    expect([...t.known.keys()]).toEqual(['mine']);
  });

  it('when the server ends the watch (timeoutSeconds) it resumes from the last resourceVersion, without a relist', async () => {
    const t = await setup({ timeoutSeconds: 1, inactivityMs: 3_000, backoffMs: 50, maxBackoffMs: 200 });
    t.watch.start();
    await until(() => t.watches.length >= 3, 5_000);
    expect(t.lists).toEqual(['start']);
    const query = t.fake.requests.filter((r) => r.query.get('watch') === '1').map((r) => r.query);
    expect(query[0]!.get('timeoutSeconds')).toBe('1');
    expect(query[0]!.get('allowWatchBookmarks')).toBe('true');
    expect(query[0]!.get('labelSelector')).toBe('app=gw');
  });

  it('410 Expired → relist, and nothing that happened meanwhile is lost', async () => {
    const t = await setup({ timeoutSeconds: 10, inactivityMs: 5_000, backoffMs: 50, maxBackoffMs: 200 });
    t.watch.start();
    await until(() => t.fake.openWatches() === 1);
    await create(t.fake, 'a');
    await until(() => t.known.has('a'));
    t.fake.silenceWatches(true);
    t.fake.advance('pipelineruns', 'ci', 'a', 'succeeded');
    t.fake.silenceWatches(false);
    t.fake.expireHistory();
    await until(() => t.lists.length === 2);
    await until(() => JSON.stringify(t.known.get('a')).includes('"Succeeded"'));
  });

  it('a silent watch is aborted after the inactivity timeout and relisted', async () => {
    const t = await setup({ timeoutSeconds: 10, inactivityMs: 400, backoffMs: 50, maxBackoffMs: 200 });
    t.watch.start();
    await until(() => t.fake.openWatches() === 1);
    t.fake.silenceWatches(true);
    await create(t.fake, 'missed');
    await until(() => t.lists.length >= 2, 3_000);
    t.fake.silenceWatches(false);
    await until(() => t.known.has('missed'), 3_000);
  });

  it('a cut connection is re-established and an API outage is retried with backoff', async () => {
    const t = await setup({ timeoutSeconds: 10, inactivityMs: 5_000, backoffMs: 50, maxBackoffMs: 200 });
    t.watch.start();
    await until(() => t.fake.openWatches() === 1);
    let failed = 0;
    // The next three list/watch requests answer 503: the API is down when the connection is cut.
    t.fake.setFaults({
      choose: (r) => (r.method === 'GET' && failed++ < 3 ? { status: 503 } : undefined),
    });
    t.fake.cutWatches();
    await create(t.fake, 'after');
    await until(() => t.known.has('after'), 3_000);
  });
});
