// Two replicas as separate `node dist/main.js serve` processes (contract §12, §12.0 items 5 and 9): the
// leader is killed with SIGKILL mid-run (no Lease release), the other takes over and the Git host still
// receives queued → running → succeeded exactly once each, in order.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeKube } from '../fake-kube/server.js';
import { startFakeStatusHosts } from '../fake-git/status-hosts.js';
import { until } from '../follow/kube.js';
import { post, routesFile, secretsDirWith, signed } from '../helpers/gateway.js';
import { Cleanup, childGateway, type ChildGateway } from './harness.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

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
});
