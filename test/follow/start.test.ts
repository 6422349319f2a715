// What serve's shutdown relies on from startFollowing (contract §12.1a, §12.0 item 13): `settle` waits for the
// `error` statuses being posted (a retry abandoned at shutdown posts one just before the process exits), and
// never longer than it is told. The production reporter is replaced by one the test answers.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import type { ReportResult, Reporter } from '../../src/follow/follower.js';
import { startFollowing, type Following } from '../../src/follow/start.js';
import { loadCluster } from '../../src/kube/create.js';
import { createLogger } from '../../src/log.js';
import { GatewayMetrics } from '../../src/metrics.js';
import type { Config, StatusErrorReport } from '../../src/model.js';
import { startFakeKube } from '../fake-kube/server.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const ROUTES = `apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci}
routes:
  - path: /github
    provider: github
    secretRef: {secretName: w, secretKey: token}
    status: {tokenRef: {secretName: s, secretKey: token}}
    triggers:
      - name: build
        template: {resourcetemplates: [{apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: b-}, spec: {pipelineRef: {name: b}}}]}
`;

async function setup(reporter: Reporter): Promise<{ following: Following; report: StatusErrorReport }> {
  const fake = await startFakeKube({ namespaces: ['ci'] });
  cleanup.push(() => fake.close());
  const loaded = loadConfigBytes(Buffer.from(ROUTES), 'routes.yaml');
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const config: Config = loaded.config;
  const cluster = loadCluster({ KUBECONFIG: fake.kubeconfigPath });
  if (!cluster.ok) throw new Error(cluster.message);
  const following = startFollowing({
    kubeConfig: cluster.cluster.kubeConfig,
    config: () => config,
    identity: { podNamespace: 'ci', podName: 'pod-a' },
    instance: 'ci.gw',
    stateKey: Buffer.from('a-state-key-of-at-least-16-bytes'),
    mode: 'on',
    reporter,
    log: createLogger('error', () => undefined),
    metrics: new GatewayMetrics(),
    env: { TEKTON_GATEWAY_TEST_LEASE_MS: '1000,700,200' },
  });
  cleanup.push(() => following.stop());
  const trigger = config.routes[0]!.triggers[0]!;
  const report: StatusErrorReport = {
    routePath: '/github',
    trigger,
    namespace: 'ci',
    eventId: 'e-1',
    annotations: {
      'tekton-gateway.dev/status-repository': 'octo/app',
      'tekton-gateway.dev/status-commit': 'a'.repeat(40),
      'tekton-gateway.dev/status-context': 'gw/build',
    },
    reason: 'background retries abandoned at shutdown: the cluster was unavailable',
  };
  return { following, report };
}

/** A reporter whose answers the test releases; it records what it was asked to post. */
function heldReporter() {
  const calls: string[] = [];
  let release: (result: ReportResult) => void = () => undefined;
  const reporter: Reporter = (_run, state, _trigger, reason) => {
    calls.push(`${state} ${reason ?? ''}`);
    return new Promise<ReportResult>((resolve) => (release = resolve));
  };
  return { reporter, calls, release: (result: ReportResult) => release(result) };
}

describe('startFollowing: error statuses and settle', () => {
  it('settle with nothing being posted resolves at once', async () => {
    const { following } = await setup(heldReporter().reporter);
    const started = Date.now();
    await following.settle(5_000);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('settle waits for an error post under way, even after stop(), and resolves when the host answered', async () => {
    const held = heldReporter();
    const { following, report } = await setup(held.reporter);
    // At shutdown, stop() comes first and the abandoned retry's error after it.
    await following.stop();
    following.statusError(report);
    expect(held.calls).toEqual([`error ${report.reason}`]);
    let settled = false;
    const settling = following.settle(5_000).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(settled).toBe(false);
    held.release({ kind: 'success' });
    await settling;
    expect(settled).toBe(true);
  });

  it('settle gives up after the time it is given when the host does not answer', async () => {
    const held = heldReporter();
    const { following, report } = await setup(held.reporter);
    following.statusError(report);
    const started = Date.now();
    await following.settle(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(2_000);
    held.release({ kind: 'success' });
  });

  it('after stop() a retryable answer is not retried: settle does not wait for a backoff', async () => {
    const held = heldReporter();
    const { following, report } = await setup(held.reporter);
    await following.stop();
    following.statusError(report);
    held.release({ kind: 'retry', afterMs: 10_000, message: 'HTTP 503' });
    const started = Date.now();
    await following.settle(5_000);
    expect(Date.now() - started).toBeLessThan(500);
    expect(held.calls).toHaveLength(1);
  });
});
