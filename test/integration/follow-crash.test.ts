// Two replicas as separate `node dist/main.js serve` processes (contract §12, §12.0 items 5, 7 and 9): the
// leader is killed with SIGKILL (no Lease release) and the other takes over. Mid-run, the Git host still
// receives queued → running → succeeded exactly once each, in order; mid-queue, a `limit: 1` group still
// runs one at a time in arrival order, with nothing started twice and nothing lost.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import { startFakeStatusHosts } from '../fake-git/status-hosts.js';
import { until } from '../follow/kube.js';
import { demoSecretsDir, post, routesFile, secretsDirWith, signed } from '../helpers/gateway.js';
import { Cleanup, childGateway, type ChildGateway } from './harness.js';
import { observeRuns } from './observe-runs.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const holderOf = (fake: FakeKube) =>
  (fake.get('leases', 'ci', 'tekton-gateway-gw') as { spec?: { holderIdentity?: string } } | undefined)?.spec
    ?.holderIdentity;

/** One replica: the built binary with its own POD_NAME, killed outright when the test ends. */
async function replica(
  pod: string,
  routes: string,
  kubeconfig: string,
  secretsDir: string,
  env: Record<string, string>,
): Promise<ChildGateway> {
  const gw = await childGateway(routes, kubeconfig, [], { secretsDir, env: { POD_NAME: pod, ...env } });
  cleanup.add(() => gw.kill());
  return gw;
}

describe('hand-over after a leader crash', () => {
  it('SIGKILL of the leader mid-run: every state posted exactly once, in order', async () => {
    const hosts = await startFakeStatusHosts();
    cleanup.add(() => hosts.close());
    const fake = await startFakeKube({ namespaces: ['ci'] });
    cleanup.add(() => fake.close());
    const dir = secretsDirWith(
      [
        ['gh-webhook', 'webhook-secret'],
        ['gh-status', hosts.token],
      ],
      false,
    );
    writeFileSync(join(dir, 'state-key'), 'a-state-key-of-at-least-16-bytes');
    const routes = routesFile(`apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci}
routes:
  - path: /github
    provider: github
    secretRef: {secretName: gh-webhook, secretKey: token}
    status:
      tokenRef: {secretName: gh-status, secretKey: token}
      apiURL: ${hosts.url}/github
    triggers:
      - name: build
        template: {resourcetemplates: [{apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: b-}, spec: {pipelineRef: {name: b}}}]}
`);
    const env = {
      POD_NAMESPACE: 'ci',
      STATE_KEY_FILE: join(dir, 'state-key'),
      STATUS_API_ORIGINS: hosts.url,
      TEKTON_GATEWAY_TEST_LEASE_MS: '1000,700,200',
      TEKTON_GATEWAY_TEST_WATCH_MS: '5,8000',
    };
    const a = await replica('pod-a', routes, fake.kubeconfigPath, dir, env);
    const b = await replica('pod-b', routes, fake.kubeconfigPath, dir, env);
    const holder = () =>
      (fake.get('leases', 'ci', 'tekton-gateway-gw') as { spec?: { holderIdentity?: string } } | undefined)
        ?.spec?.holderIdentity;
    await until(() => holder() === 'pod-a' || holder() === 'pod-b', 8_000);
    const [leader, other] = holder() === 'pod-a' ? [a, b] : [b, a];

    const runs: { name: string; sha: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const sha = String(i + 1).repeat(40);
      const body = Buffer.from(JSON.stringify({ after: sha, repository: { full_name: 'octo/app' } }));
      const answer = await post(
        `${other.url}/github`,
        body,
        signed.github(body, 'webhook-secret', 'push', `d-${i}`),
      );
      expect(answer.status).toBe(201);
      runs.push({
        name: (answer.json['triggers'] as { resources: { name: string }[] }[])[0]!.resources[0]!.name,
        sha,
      });
    }
    const posted = (sha: string) => hosts.accepted.filter((s) => s.commit === sha).map((s) => s.description);
    await until(() => runs.every((r) => posted(r.sha).length === 1), 8_000);
    for (const r of runs) fake.advance('pipelineruns', 'ci', r.name, 'started');
    await until(() => runs.every((r) => posted(r.sha).length === 2), 8_000);

    const killedAt = Date.now();
    void leader.kill();
    // While nobody leads: one run finishes, one moves on, one stays.
    fake.advance('pipelineruns', 'ci', runs[0]!.name, 'succeeded');
    fake.advance('pipelineruns', 'ci', runs[1]!.name, 'failed', 'step build exited 1');
    await until(() => holder() === (leader === a ? 'pod-b' : 'pod-a'), 10_000);
    const takeoverMs = Date.now() - killedAt;
    fake.advance('pipelineruns', 'ci', runs[2]!.name, 'succeeded');
    await until(() => runs.every((r) => posted(r.sha).length === 3), 10_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(posted(runs[0]!.sha)).toEqual(['queued', 'running', 'succeeded']);
    expect(posted(runs[1]!.sha)).toEqual(['queued', 'running', 'step build exited 1']);
    expect(posted(runs[2]!.sha)).toEqual(['queued', 'running', 'succeeded']);
    expect(hosts.accepted).toHaveLength(9);
    expect(takeoverMs).toBeLessThan(5_000);
    console.log(
      `hand-over: runs 3, transitions posted ${hosts.accepted.length}, duplicates 0, missed 0, takeover ${takeoverMs} ms`,
    );
  }, 60_000);

  it('SIGKILL of the leader mid-queue (limit 1): all 5 runs start once each, one at a time, in arrival order', async () => {
    const fake = await startFakeKube({ namespaces: ['ci'], tektonController: true });
    cleanup.add(() => fake.close());
    const observer = await observeRuns(fake, 'ci');
    cleanup.add(() => observer.stop());
    const stateKey = join(mkdtempSync(join(tmpdir(), 'state-key-')), 'key');
    writeFileSync(stateKey, 'a-state-key-of-at-least-16-bytes\n');
    const routes = routesFile(`apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci}
routes:
  - path: /hook
    provider: none
    triggers:
      - name: queue
        concurrency: {key: "$(body.repo)", limit: 1}
        template: {resourcetemplates: [{apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: q-}, spec: {pipelineRef: {name: b}}}]}
`);
    const env = {
      POD_NAMESPACE: 'ci',
      STATE_KEY_FILE: stateKey,
      TEKTON_GATEWAY_TEST_LEASE_MS: '1000,700,200',
      TEKTON_GATEWAY_TEST_WATCH_MS: '5,8000',
    };
    const a = await replica('pod-a', routes, fake.kubeconfigPath, demoSecretsDir, env);
    const b = await replica('pod-b', routes, fake.kubeconfigPath, demoSecretsDir, env);
    await until(() => holderOf(fake) === 'pod-a' || holderOf(fake) === 'pod-b', 8_000);
    const [leader, survivorPod] = holderOf(fake) === 'pod-a' ? [a, 'pod-b'] : [b, 'pod-a'];

    // Spread over both replicas, one after the other: arrival (received-at) order is creation order.
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await post(`${[a, b][i % 2]!.url}/hook`, JSON.stringify({ repo: 'o/r' }), {
        'content-type': 'application/json',
      });
      expect(answer.status).toBe(201);
      created.push((answer.json['triggers'] as { resources: { name: string }[] }[])[0]!.resources[0]!.name);
      await new Promise((r) => setTimeout(r, 5)); // received-at has millisecond resolution
    }
    // Each was created pending (the first is started at once by the leader).
    const posts = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pipelineruns'));
    expect(posts.map((r) => (JSON.parse(r.body) as { spec: { status?: string } }).spec.status)).toEqual(
      Array(5).fill('PipelineRunPending'),
    );

    let killedAt = 0;
    let takeoverMs = 0;
    let startedBeforeKill = 0;
    for (let step = 0; step < 5; step++) {
      await until(() => observer.startedOrder.length > step, 15_000);
      fake.advance('pipelineruns', 'ci', observer.startedOrder[step]!, 'succeeded');
      if (step === 1) {
        // Two have finished and the slot is free: the leader dies without releasing the Lease.
        killedAt = Date.now();
        await leader.kill();
        startedBeforeKill = observer.startedOrder.length;
        await until(() => holderOf(fake) === survivorPod, 15_000);
        takeoverMs = Date.now() - killedAt;
      }
    }
    await until(() => created.every((n) => observer.finished.has(n)), 10_000);
    // A little longer: a late duplicate start or stray patch would show up now.
    await new Promise((r) => setTimeout(r, 500));

    expect(observer.startedOrder).toEqual(created);
    expect(observer.maxRunning).toBe(1);
    expect([...observer.starts.values()]).toEqual([1, 1, 1, 1, 1]);
    expect(fake.objects().filter((o) => o['kind'] === 'PipelineRun')).toHaveLength(5);
    expect(holderOf(fake)).toBe(survivorPod);
    const startPatches = fake.requests.filter(
      (r) => r.method === 'PATCH' && r.body.includes('"status":null'),
    );
    expect(new Set(startPatches.map((r) => r.path)).size).toBe(5);
    expect(takeoverMs).toBeLessThan(10_000);
    console.log(
      `queue hand-over: runs ${created.length}, max running at once ${observer.maxRunning}, order kept ${
        observer.startedOrder.join() === created.join()
      }, started twice 0, started before the kill ${startedBeforeKill}, start patches sent ${startPatches.length}, takeover ${takeoverMs} ms`,
    );
  }, 90_000);
});
