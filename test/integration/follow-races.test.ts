// Races between the leader's decision and its request (contract §12.0 items 6 and 7), through `serve`: a run
// it prunes was deleted by someone else first (404), a run it cancels finished meanwhile (Tekton's webhook
// 400 "no updates are allowed"), a run it starts was deleted or cancelled meanwhile (404; 409 on the start
// patch's resourceVersion precondition, so a user's cancel is never undone). None is an error, and the
// next prune, cancel or start still happens. The fake's `before` hook lands the other client's change in
// the window, so each race is hit every time rather than by luck.
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeKube, RecordedRequest } from '../fake-kube/server.js';
import { until } from '../follow/kube.js';
import { Cleanup } from './harness.js';
import {
  deliver,
  followSetup,
  metric,
  names,
  pipelineRun as run,
  problems,
  reasonOf,
  runs,
} from './following.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ROUTES = `apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci}
routes:
  - path: /hook
    provider: none
    triggers:
      - name: tidy
        filter: body.kind == 'keep'
        keep: 1
        template: {resourcetemplates: [${run('tidy')}]}
      - name: pr
        filter: body.kind == 'cancel'
        concurrency: {key: "$(body.repo)", cancelInProgress: true}
        template: {resourcetemplates: [${run('pr')}]}
      - name: queue
        filter: body.kind == 'queue'
        concurrency: {key: "$(body.repo)", limit: 1}
        template: {resourcetemplates: [${run('queue')}]}
`;

const RUNS = '/apis/tekton.dev/v1/namespaces/ci/pipelineruns';

/** The first request that `matches` gets `change` applied right before it is served; answers whether it was. */
function raceOnce(
  fake: FakeKube,
  matches: (r: RecordedRequest) => boolean,
  change: () => void,
): () => boolean {
  let fired = false;
  fake.setFaults({
    before: (r) => {
      if (fired || !matches(r)) return;
      fired = true;
      change();
    },
  });
  return () => fired;
}

const tick = () => new Promise((r) => setTimeout(r, 1100)); // completionTime has second resolution

describe('races the leader loses are not errors, and the loop goes on', () => {
  it('prune: the run was deleted by someone else first (404); the next prune still happens', async () => {
    const { fake, gateways } = await followSetup(cleanup, ROUTES);
    const gw = gateways[0]!;
    const [r1, r2, r3] = [
      await deliver(gw, { kind: 'keep' }),
      await deliver(gw, { kind: 'keep' }),
      await deliver(gw, { kind: 'keep' }),
    ];
    fake.advance('pipelineruns', 'ci', r1!, 'succeeded');
    await tick();
    const raced = raceOnce(
      fake,
      (r) => r.method === 'DELETE' && r.path === `${RUNS}/${r1}`,
      () => fake.remove('pipelineruns', 'ci', r1!),
    );
    fake.advance('pipelineruns', 'ci', r2!, 'succeeded');
    await until(raced, 8_000);
    await until(() => names(runs(fake)).join() === [r2!, r3!].sort().join(), 8_000);
    await tick();
    fake.advance('pipelineruns', 'ci', r3!, 'succeeded');
    await until(() => names(runs(fake)).join() === r3, 8_000);

    const deletes = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deletes).toEqual([`${RUNS}/${r1}`, `${RUNS}/${r2}`]);
    // Only the run this gateway deleted counts as pruned.
    expect(await metric(gw, 'tekton_gateway_runs_pruned_total')).toBe(
      'tekton_gateway_runs_pruned_total{route="/hook",trigger="tidy"} 1',
    );
    expect(problems(gw)).toEqual([]);
  }, 30_000);

  it('cancel: the run finished meanwhile (webhook 400 "no updates are allowed") is success; the next cancel still happens', async () => {
    const { fake, gateways } = await followSetup(cleanup, ROUTES);
    const gw = gateways[0]!;
    const p1 = await deliver(gw, { kind: 'cancel', repo: 'o/r' });
    await until(() => reasonOf(fake, p1) === 'Started');
    const raced = raceOnce(
      fake,
      (r) => r.method === 'PATCH' && r.path === `${RUNS}/${p1}` && r.body.includes('Cancelled'),
      () => fake.advance('pipelineruns', 'ci', p1, 'succeeded'),
    );
    const p2 = await deliver(gw, { kind: 'cancel', repo: 'o/r' });
    await until(raced, 8_000);
    await until(() => reasonOf(fake, p2) === 'Started');
    const p3 = await deliver(gw, { kind: 'cancel', repo: 'o/r' });
    await until(() => reasonOf(fake, p2) === 'Cancelled', 8_000);
    await new Promise((r) => setTimeout(r, 300)); // a retried cancel or a late log line would show now

    expect(reasonOf(fake, p1)).toBe('Succeeded');
    expect(reasonOf(fake, p3)).toBe('Started');
    const cancels = fake.requests.filter((r) => r.method === 'PATCH' && r.body.includes('"Cancelled"'));
    // A second decision made before the watch brought p1's finish may patch p1 again: same 400, same quiet.
    expect(new Set(cancels.map((r) => r.path))).toEqual(new Set([`${RUNS}/${p1}`, `${RUNS}/${p2}`]));
    // p1 was not cancelled by the gateway (it finished first); p2 was.
    expect(await metric(gw, 'tekton_gateway_runs_cancelled_total')).toBe(
      'tekton_gateway_runs_cancelled_total{route="/hook",trigger="pr"} 1',
    );
    expect(problems(gw)).toEqual([]);
  }, 30_000);

  it('start: the pending run was deleted meanwhile (404); the next pending run still starts', async () => {
    const { fake, gateways } = await followSetup(cleanup, ROUTES);
    const gw = gateways[0]!;
    const q = [];
    for (let i = 0; i < 3; i++) {
      q.push(await deliver(gw, { kind: 'queue', repo: 'o/q' }));
      await new Promise((r) => setTimeout(r, 5)); // received-at has millisecond resolution
    }
    const [q1, q2, q3] = q as [string, string, string];
    await until(() => reasonOf(fake, q1) === 'Started');
    const raced = raceOnce(
      fake,
      (r) => r.method === 'PATCH' && r.path === `${RUNS}/${q2}` && r.body.includes('"status":null'),
      () => fake.remove('pipelineruns', 'ci', q2),
    );
    fake.advance('pipelineruns', 'ci', q1, 'succeeded');
    await until(raced, 8_000);
    await until(() => reasonOf(fake, q3) === 'Started', 8_000);

    expect(names(runs(fake))).toEqual([q1, q3].sort());
    expect(await metric(gw, 'tekton_gateway_runs_started_total')).toBe(
      'tekton_gateway_runs_started_total{route="/hook",trigger="queue"} 2',
    );
    expect(problems(gw)).toEqual([]);
  }, 30_000);

  it.each([
    {
      name: 'asked to cancel (the controller has not acted yet): the start patch must not undo the cancel',
      change: (fake: FakeKube, name: string) =>
        fake.patch('pipelineruns', 'ci', name, { spec: { status: 'Cancelled' } }),
    },
    {
      name: 'already finished as Cancelled',
      change: (fake: FakeKube, name: string) => fake.advance('pipelineruns', 'ci', name, 'cancelled'),
    },
  ])(
    'start: the pending run was cancelled by a user meanwhile, $name; it stays cancelled and the next one starts',
    async ({ change }) => {
      const { fake, gateways } = await followSetup(cleanup, ROUTES);
      const gw = gateways[0]!;
      const q = [];
      for (let i = 0; i < 3; i++) {
        q.push(await deliver(gw, { kind: 'queue', repo: 'o/c' }));
        await new Promise((r) => setTimeout(r, 5));
      }
      const [q1, q2, q3] = q as [string, string, string];
      await until(() => reasonOf(fake, q1) === 'Started');
      await until(() => reasonOf(fake, q2) === 'PipelineRunPending');
      const raced = raceOnce(
        fake,
        (r) => r.method === 'PATCH' && r.path === `${RUNS}/${q2}` && r.body.includes('"status":null'),
        () => change(fake, q2),
      );
      fake.advance('pipelineruns', 'ci', q1, 'succeeded');
      await until(raced, 8_000);
      await until(() => reasonOf(fake, q3) === 'Started', 8_000);
      await new Promise((r) => setTimeout(r, 300));

      expect(reasonOf(fake, q2)).toBe('Cancelled');
      expect(await metric(gw, 'tekton_gateway_runs_started_total')).toBe(
        'tekton_gateway_runs_started_total{route="/hook",trigger="queue"} 2',
      );
      expect(problems(gw)).toEqual([]);
    },
    30_000,
  );

  it('a running member deleted by a user frees its slot: the next pending run starts', async () => {
    const { fake, gateways } = await followSetup(cleanup, ROUTES);
    const gw = gateways[0]!;
    const q1 = await deliver(gw, { kind: 'queue', repo: 'o/d' });
    await new Promise((r) => setTimeout(r, 5));
    const q2 = await deliver(gw, { kind: 'queue', repo: 'o/d' });
    await until(() => reasonOf(fake, q1) === 'Started');
    await until(() => reasonOf(fake, q2) === 'PipelineRunPending');
    fake.remove('pipelineruns', 'ci', q1);
    await until(() => reasonOf(fake, q2) === 'Started', 8_000);
    expect(problems(gw)).toEqual([]);
  }, 30_000);
});
