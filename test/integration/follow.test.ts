// Following runs end to end (contract §12.2, §12.3, §12.0 items 6, 7, 9): the real `serve` on loopback,
// the fake API running Tekton's state machine, deliveries over HTTP. keep prunes only what it may;
// cancelInProgress leaves the newest; limit runs one at a time in arrival order; a hand-over between two
// replicas starts nothing twice.
import { afterEach, describe, expect, it } from 'vitest';
import { routesFile, secretsDirWith, post } from '../helpers/gateway.js';
import { startFakeKube } from '../fake-kube/server.js';
import { until } from '../follow/kube.js';
import { Cleanup } from './harness.js';
import {
  deliver,
  followSetup,
  metric,
  names,
  pipelineRun as run,
  problems,
  reason,
  runs,
  statusGateway,
  type Run,
} from './following.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ROUTES = `apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci}
routes:
  - path: /hook
    provider: none
    triggers:
      - name: build
        filter: body.kind == 'keep'
        keep: 3
        template: {resourcetemplates: [${run('build')}]}
      - name: mixed
        filter: body.kind == 'keep-mixed'
        keep: {successful: 2, failed: 1}
        template: {resourcetemplates: [${run('mixed')}]}
      - name: only-successful
        filter: body.kind == 'keep-successful'
        keep: {successful: 1}
        template: {resourcetemplates: [${run('only')}]}
      - name: other
        filter: body.kind == 'keep-other'
        template: {resourcetemplates: [${run('other')}]}
      - name: pr
        filter: body.kind == 'cancel'
        concurrency: {key: "$(body.repo)#$(body.pr)", cancelInProgress: true}
        template: {resourcetemplates: [${run('pr')}]}
      - name: queue
        filter: body.kind == 'queue'
        concurrency: {key: "$(body.repo)", limit: 1}
        template: {resourcetemplates: [${run('queue')}]}
`;

const setup = (replicas = 1) => followSetup(cleanup, ROUTES, replicas);

describe('keep (§12.2)', () => {
  it('keep 3: 6 finished and 2 running leave the 3 newest finished and both running; other triggers and foreign runs untouched', async () => {
    const { fake, gateways } = await setup();
    const gw = gateways[0]!;
    const finished: string[] = [];
    for (let i = 0; i < 6; i++) finished.push(await deliver(gw, { kind: 'keep' }));
    const running = [await deliver(gw, { kind: 'keep' }), await deliver(gw, { kind: 'keep' })];
    const other = await deliver(gw, { kind: 'keep-other' });
    // A run with the gateway's labels but no signature: never touched.
    const forged = structuredClone(fake.get('pipelineruns', 'ci', other)!) as Record<string, any>;
    await fetch(`${fake.url}/apis/tekton.dev/v1/namespaces/ci/pipelineruns`, {
      method: 'POST',
      headers: { Authorization: 'Bearer test-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'tekton.dev/v1',
        kind: 'PipelineRun',
        metadata: {
          name: 'forged',
          labels: { ...forged.metadata.labels, 'triggers.tekton.dev/trigger': 'build' },
          annotations: { 'tekton-gateway.dev/route': '/hook' },
        },
        spec: { pipelineRef: { name: 'b' } },
      }),
    });
    fake.advance('pipelineruns', 'ci', 'forged', 'succeeded');
    fake.advance('pipelineruns', 'ci', other, 'succeeded');
    for (const name of finished) {
      fake.advance('pipelineruns', 'ci', name, 'succeeded');
      await new Promise((r) => setTimeout(r, 1100)); // completion times a second apart
    }
    const expected = [...finished.slice(3), ...running, other, 'forged'].sort();
    await until(() => names(runs(fake)).join() === expected.join(), 8_000);
    // Deleted with propagationPolicy Background, sent explicitly.
    const deletes = fake.requests.filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(3);
    for (const d of deletes) expect(JSON.parse(d.body)).toMatchObject({ propagationPolicy: 'Background' });
    expect(await metric(gw, 'tekton_gateway_runs_pruned_total')).toContain(
      'tekton_gateway_runs_pruned_total{route="/hook",trigger="build"} 3',
    );
    expect(await metric(gw, 'tekton_gateway_leader ')).toBe('tekton_gateway_leader 1');
    expect(await metric(gw, 'tekton_gateway_runs_ignored_total')).toContain('reason="signature_missing"');
  }, 30_000);
  it('{successful: 2, failed: 1} counts each kind apart (timed out and cancelled are failed); {successful: 1} alone never deletes a failed run; running runs stay', async () => {
    const { fake, gateways } = await setup();
    const gw = gateways[0]!;
    // Finished in this order, a tick apart (completionTime has second resolution):
    const mixed = {
      s1: await deliver(gw, { kind: 'keep-mixed' }),
      f1: await deliver(gw, { kind: 'keep-mixed' }),
      s2: await deliver(gw, { kind: 'keep-mixed' }),
      t1: await deliver(gw, { kind: 'keep-mixed' }),
      s3: await deliver(gw, { kind: 'keep-mixed' }),
      c1: await deliver(gw, { kind: 'keep-mixed' }),
    };
    const running = await deliver(gw, { kind: 'keep-mixed' });
    const only = {
      s1: await deliver(gw, { kind: 'keep-successful' }),
      f1: await deliver(gw, { kind: 'keep-successful' }),
      s2: await deliver(gw, { kind: 'keep-successful' }),
      f2: await deliver(gw, { kind: 'keep-successful' }),
    };
    await until(() => reason(runs(fake).find((r) => r.metadata.name === running)!) === 'Started');
    const finish = async (name: string, how: 'succeeded' | 'failed' | 'timeout' | 'cancelled') => {
      if (how !== 'cancelled') return void fake.advance('pipelineruns', 'ci', name, how);
      // A user cancels it; Tekton's controller finishes it as Cancelled (Succeeded False).
      const answer = await fetch(`${fake.url}/apis/tekton.dev/v1/namespaces/ci/pipelineruns/${name}`, {
        method: 'PATCH',
        headers: { Authorization: 'Bearer test-token', 'Content-Type': 'application/merge-patch+json' },
        body: JSON.stringify({ spec: { status: 'Cancelled' } }),
      });
      expect(answer.status).toBe(200);
      await until(() => reason(runs(fake).find((r) => r.metadata.name === name)!) === 'Cancelled');
    };
    const ticks: [string, 'succeeded' | 'failed' | 'timeout' | 'cancelled'][][] = [
      [
        [mixed.s1, 'succeeded'],
        [only.s1, 'succeeded'],
      ],
      [
        [mixed.f1, 'failed'],
        [only.f1, 'failed'],
      ],
      [
        [mixed.s2, 'succeeded'],
        [only.s2, 'succeeded'],
      ],
      [
        [mixed.t1, 'timeout'],
        [only.f2, 'failed'],
      ],
      [[mixed.s3, 'succeeded']],
      [[mixed.c1, 'cancelled']],
    ];
    for (const tick of ticks) {
      for (const [name, how] of tick) await finish(name, how);
      await new Promise((r) => setTimeout(r, 1100));
    }
    const survivors = [mixed.s2, mixed.s3, mixed.c1, running, only.f1, only.s2, only.f2].sort();
    await until(() => names(runs(fake)).join() === survivors.join(), 8_000);
    await new Promise((r) => setTimeout(r, 500)); // nothing more goes
    expect(names(runs(fake))).toEqual(survivors);
    const deleted = fake.requests
      .filter((r) => r.method === 'DELETE')
      .map((r) => r.path.split('/').at(-1)!)
      .sort();
    expect(deleted).toEqual([mixed.s1, mixed.f1, mixed.t1, only.s1].sort());
    const running_ = runs(fake).find((r) => r.metadata.name === running)!;
    expect(reason(running_)).toBe('Started');
    expect(running_.spec['status']).toBeUndefined();
    const pruned = await metric(gw, 'tekton_gateway_runs_pruned_total');
    expect(pruned).toContain('tekton_gateway_runs_pruned_total{route="/hook",trigger="mixed"} 3');
    expect(pruned).toContain('tekton_gateway_runs_pruned_total{route="/hook",trigger="only-successful"} 1');
    expect(problems(gw)).toEqual([]);
  }, 40_000);
});

describe('keep on a schedule (§13, §12.2)', () => {
  it("prunes a schedule's runs in the schedule's own namespace (not one any route creates in)", async () => {
    const { fake, gateways } = await followSetup(
      cleanup,
      `apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci}
routes:
  - path: /hook
    provider: none
    triggers:
      - name: build
        template: {resourcetemplates: [${run('build')}]}
schedules:
  - name: tick
    cron: "* * * * * *"
    namespace: batch
    keep: 1
    template: {resourcetemplates: [${run('tick')}]}
`,
      1,
      ['ci', 'batch'],
    );
    const inBatch = () =>
      fake
        .objects()
        .filter((o) => (o['metadata'] as { namespace: string }).namespace === 'batch') as unknown as Run[];
    const finished: string[] = [];
    // Each slot's run is finished once it exists, a second apart (completionTime has second resolution).
    while (finished.length < 3) {
      await until(() => inBatch().some((r) => !finished.includes(r.metadata.name)), 5_000);
      const next = inBatch().find((r) => !finished.includes(r.metadata.name))!.metadata.name;
      await until(() => reason(runs(fake).find((r) => r.metadata.name === next)) === 'Started');
      fake.advance('pipelineruns', 'batch', next, 'succeeded');
      finished.push(next);
      await new Promise((r) => setTimeout(r, 1100));
    }
    // Only the newest finished one stays (runs of later slots may be there too, unfinished or not).
    await until(() => !inBatch().some((r) => finished.slice(0, 2).includes(r.metadata.name)), 8_000);
    expect(inBatch().map((r) => r.metadata.name)).toContain(finished[2]);
    expect(await metric(gateways[0]!, 'tekton_gateway_runs_pruned_total')).toMatch(
      /tekton_gateway_runs_pruned_total\{route="schedules\/tick",trigger="tick"\} 2$/,
    );
    // Signed and labelled like a webhook's runs: none ignored.
    expect(problems(gateways[0]!)).toEqual([]);
  }, 40_000);
});

describe('concurrency (§12.3)', () => {
  it('cancelInProgress: 5 pushes to one PR leave only the newest uncancelled; another PR is its own group', async () => {
    const { fake, gateways } = await setup();
    const gw = gateways[0]!;
    const first: string[] = [];
    for (let i = 0; i < 5; i++) first.push(await deliver(gw, { kind: 'cancel', repo: 'o/r', pr: 1 }));
    const second = await deliver(gw, { kind: 'cancel', repo: 'o/r', pr: 2 });
    await until(() => runs(fake).filter((r) => reason(r) === 'Cancelled').length === 4, 15_000);
    await until(() => reason(runs(fake).find((r) => r.metadata.name === first[4])!) === 'Started');
    const cancelled = runs(fake).filter((r) => reason(r) === 'Cancelled');
    expect(names(cancelled)).toEqual(first.slice(0, 4).sort());
    await until(() => reason(runs(fake).find((r) => r.metadata.name === second)!) === 'Started', 10_000);
    expect(reason(runs(fake).find((r) => r.metadata.name === first[4])!)).toBe('Started');
    expect(reason(runs(fake).find((r) => r.metadata.name === second)!)).toBe('Started');
    expect(await metric(gw, 'tekton_gateway_runs_cancelled_total')).toContain('trigger="pr"} 4');
  }, 30_000);

  it('limit 1: 5 deliveries create 5 pending runs; one runs at a time, in arrival order; a hand-over starts nothing twice', async () => {
    const { fake, gateways, start } = await setup(2);
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push(await deliver(gateways[i % 2]!, { kind: 'queue', repo: 'o/r' }));
    const startedOrder: string[] = [];
    let maxRunning = 0;
    const isRunning = (r: Run) =>
      r.spec['status'] === undefined && ['Started', 'Running'].includes(reason(r) ?? '');
    for (let step = 0; step < 5; step++) {
      await until(
        () => runs(fake).some((r) => isRunning(r) && !startedOrder.includes(r.metadata.name)),
        8_000,
      );
      const now = runs(fake).filter(isRunning);
      maxRunning = Math.max(maxRunning, now.length);
      const current = now.find((r) => !startedOrder.includes(r.metadata.name))!;
      startedOrder.push(current.metadata.name);
      if (step === 2) {
        // Hand-over mid-queue: the leader stops (releasing the Lease), another replica takes over.
        const leaderIndex = gateways.findIndex(
          (g) =>
            g.logs.some((l) => l.includes('leading: following runs')) &&
            !g.logs.some((l) => l.includes('no longer leading')),
        );
        await gateways[leaderIndex]!.stop();
        await start('pod-9');
      }
      fake.advance('pipelineruns', 'ci', current.metadata.name, 'succeeded');
    }
    expect(startedOrder).toEqual(created);
    expect(maxRunning).toBe(1);
    const starts = fake.requests.filter((r) => r.method === 'PATCH' && r.body.includes('"status":null'));
    // Every run was created pending and started by the gateway; a repeated start patch is harmless, but
    // each run started exactly once as Tekton saw it (startedOrder above has no repeats).
    expect(new Set(starts.map((s) => s.path)).size).toBe(5);
  }, 60_000);
});

describe('commit status (§12.1) through serve', () => {
  it('GitHub receives pending "queued" → pending "running" → success, exactly once each, in order; failure and cancelled too; 503 is retried', async () => {
    const { startFakeStatusHosts } = await import('../fake-git/status-hosts.js');
    const { signed } = await import('../helpers/gateway.js');
    const hosts = await startFakeStatusHosts();
    cleanup.add(() => hosts.close());
    const fake = await startFakeKube({ namespaces: ['ci'] });
    cleanup.add(() => fake.close());
    const secrets = secretsDirWith([
      ['gh-webhook', 'webhook-secret'],
      ['gh-status', hosts.token],
    ]);
    const routes = routesFile(`apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci, dashboardURL: "https://tekton.example.com"}
routes:
  - path: /github
    provider: github
    secretRef: {secretName: gh-webhook, secretKey: token}
    status:
      tokenRef: {secretName: gh-status, secretKey: token}
      apiURL: ${hosts.url}/github
    triggers:
      - name: build
        template: {resourcetemplates: [${run('build')}]}
  - path: /github-broken
    provider: github
    secretRef: {secretName: gh-webhook, secretKey: token}
    status:
      tokenRef: {secretName: gh-status, secretKey: token}
      apiURL: ${hosts.url}/github
    triggers:
      - name: refused
        # Neither pipelineRef nor pipelineSpec: Tekton's webhook refuses it (502).
        template: {resourcetemplates: [{apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: x-}, spec: {}}]}
`);
    const gw = await statusGateway({ fake, hostsUrl: hosts.url, routes, secrets });
    cleanup.add(() => gw.stop());
    const push = async (sha: string, delivery: string) => {
      const body = Buffer.from(
        JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { full_name: 'octo/app' } }),
      );
      const answer = await post(
        `${gw.url}/github`,
        body,
        signed.github(body, 'webhook-secret', 'push', delivery),
      );
      expect(answer.status).toBe(201);
      return (answer.json['triggers'] as { resources: { name: string }[] }[])[0]!.resources[0]!.name;
    };
    const posted = (sha: string) =>
      hosts.accepted.filter((a) => a.commit === sha).map((a) => `${a.state} ${a.description}`);

    const ok = 'a'.repeat(40);
    const name = await push(ok, 'd-1');
    await until(() => posted(ok).length === 1, 8_000);
    fake.advance('pipelineruns', 'ci', name, 'started');
    await until(() => posted(ok).length === 2);
    hosts.fail(1, 503, { 'Retry-After': '1' });
    fake.advance('pipelineruns', 'ci', name, 'succeeded');
    await until(() => posted(ok).length === 3, 8_000);
    await until(
      () =>
        (fake.get('pipelineruns', 'ci', name) as any).metadata.annotations[
          'tekton-gateway.dev/status-reported'
        ] === 'success',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(posted(ok)).toEqual(['pending queued', 'pending running', 'success succeeded']);
    expect(hosts.answered.filter(([, s]) => s === 503)).toHaveLength(1);
    expect(hosts.accepted[0]!).toMatchObject({
      context: 'gw/build',
      url: `https://tekton.example.com/#/namespaces/ci/pipelineruns/${name}`,
    });

    // Failed without ever being seen running (level-triggered): queued, then the failure only.
    const failed = 'b'.repeat(40);
    const second = await push(failed, 'd-2');
    await until(() => posted(failed).length === 1, 8_000);
    fake.advance('pipelineruns', 'ci', second, 'failed', 'task build failed: exit 1');
    await until(() => posted(failed).length === 2, 8_000);
    expect(posted(failed)).toEqual(['pending queued', 'failure task build failed: exit 1']);

    const cancelled = 'c'.repeat(40);
    const third = await push(cancelled, 'd-3');
    await until(() => posted(cancelled).length === 1, 8_000);
    fake.advance('pipelineruns', 'ci', third, 'started');
    fake.advance('pipelineruns', 'ci', third, 'cancelled');
    await until(() => posted(cancelled).at(-1) === 'error cancelled', 8_000);
    expect(posted(cancelled)[0]).toBe('pending queued');
    // Deleted while queued: the host is told it was cancelled ("deleted", §12.0 item 6).
    const deletedSha = 'e'.repeat(40);
    const fourth = await push(deletedSha, 'd-5');
    await until(() => posted(deletedSha).length === 1, 8_000);
    await until(
      () =>
        (fake.get('pipelineruns', 'ci', fourth) as any).metadata.annotations[
          'tekton-gateway.dev/status-reported'
        ] === 'pending',
    );
    fake.remove('pipelineruns', 'ci', fourth);
    await until(() => posted(deletedSha).length === 2, 8_000);
    expect(posted(deletedSha)).toEqual(['pending queued', 'error deleted']);

    // A branch deletion (all-zero commit): created as usual, the answer says why no status is reported.
    const zeroBody = Buffer.from(
      JSON.stringify({ after: '0'.repeat(40), repository: { full_name: 'octo/app' } }),
    );
    const zero = await post(
      `${gw.url}/github`,
      zeroBody,
      signed.github(zeroBody, 'webhook-secret', 'push', 'd-6'),
    );
    expect(zero.status).toBe(201);
    expect((zero.json['triggers'] as Record<string, unknown>[])[0]).toMatchObject({
      outcome: 'created',
      statusSkipped: 'status commit is not a commit hash',
    });

    // A trigger that failed to create: `error` with the reason, posted by the replica that answered (§12.1a).
    const refusedSha = 'd'.repeat(40);
    const body = Buffer.from(JSON.stringify({ after: refusedSha, repository: { full_name: 'octo/app' } }));
    const refused = await post(
      `${gw.url}/github-broken`,
      body,
      signed.github(body, 'webhook-secret', 'push', 'd-4'),
    );
    expect(refused.status).toBe(502);
    await until(() => posted(refusedSha).length === 1, 8_000);
    expect(posted(refusedSha)[0]).toMatch(
      /^error the cluster refused PipelineRun ci\/x-[a-z0-9]{10} \(HTTP 400\)/,
    );
    expect(hosts.accepted.find((a) => a.commit === refusedSha)).toMatchObject({
      context: 'gw/refused',
      url: 'https://tekton.example.com',
    });
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(text).toContain(
      'tekton_gateway_status_reports_total{route="/github",trigger="build",provider="github",result="retry"} 1',
    );
    expect(text).toMatch(
      /status_reports_total\{route="\/github",trigger="build",provider="github",result="success"\} \d+/,
    );
  }, 60_000);
});
