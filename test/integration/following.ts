// Set-up shared by the suites that follow runs through `serve` in-process (keep, concurrency, races): the
// fake API playing Tekton's controller, gateways with a state key and short test timings, deliveries over
// HTTP, and readings of the runs, logs and metrics.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { post, routesFile, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import { until } from '../follow/kube.js';
import type { Cleanup } from './harness.js';

/** A PipelineRun resource template for routes YAML (flow style). */
export const pipelineRun = (name: string) =>
  `{apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: ${name}-}, spec: {pipelineRef: {name: b}}}`;

export function stateKeyFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'state-key-'));
  const file = join(dir, 'key');
  writeFileSync(file, 'a-state-key-of-at-least-16-bytes\n');
  return file;
}

/** Short Lease and watch timings for tests (docs/follow.md), so a hand-over takes about a second. */
export const FOLLOW_TEST_TIMINGS = {
  TEKTON_GATEWAY_TEST_LEASE_MS: '1000,700,200',
  TEKTON_GATEWAY_TEST_WATCH_MS: '5,8000',
} as const;

/**
 * One `serve` (pod-a, in-process) that reports commit status: the fake cluster's kubeconfig, a state key, a
 * secrets directory and the fake Git hosts' origin allowed for status calls.
 */
export function statusGateway(s: {
  readonly fake: FakeKube;
  readonly hostsUrl: string;
  readonly routes: string;
  readonly secrets: string;
  readonly stateKey?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly options?: Parameters<typeof startGateway>[2];
}): Promise<RunningGateway> {
  return startGateway(
    [
      '--routes',
      s.routes,
      '--state-key-file',
      s.stateKey ?? stateKeyFile(),
      '--secrets-dir',
      s.secrets,
      '--status-api-origins',
      s.hostsUrl,
    ],
    {
      KUBECONFIG: s.fake.kubeconfigPath,
      POD_NAMESPACE: 'ci',
      POD_NAME: 'pod-a',
      ...FOLLOW_TEST_TIMINGS,
      ...s.env,
    },
    s.options,
  );
}

/** The fake API (Tekton's controller on) and `replicas` gateways on one routes file; `start` adds one. */
export async function followSetup(
  cleanup: Cleanup,
  routesYaml: string,
  replicas = 1,
  namespaces: readonly string[] = ['ci'],
) {
  const fake = await startFakeKube({ namespaces, tektonController: true });
  cleanup.add(() => fake.close());
  const routes = routesFile(routesYaml);
  const key = stateKeyFile();
  const gateways: RunningGateway[] = [];
  const start = async (pod: string) => {
    const gw = await startGateway(['--routes', routes, '--state-key-file', key], {
      KUBECONFIG: fake.kubeconfigPath,
      POD_NAMESPACE: 'ci',
      POD_NAME: pod,
      ...FOLLOW_TEST_TIMINGS,
      TEKTON_GATEWAY_TEST_RETRY_WINDOW_MS: '0',
    });
    cleanup.add(() => gw.stop());
    gateways.push(gw);
    return gw;
  };
  for (let i = 0; i < replicas; i++) await start(`pod-${i}`);
  await until(() => fake.get('leases', 'ci', 'tekton-gateway-gw') !== undefined, 5_000);
  return { fake, gateways, start };
}

/** POSTs a JSON body to `/hook`; answers the name of the run created. */
export async function deliver(gw: RunningGateway, body: Record<string, unknown>): Promise<string> {
  const answer = await post(`${gw.url}/hook`, JSON.stringify(body), { 'content-type': 'application/json' });
  expect(answer.status).toBe(201);
  const triggers = answer.json['triggers'] as { outcome: string; resources?: { name: string }[] }[];
  const created = triggers.find((t) => t.outcome === 'created')!;
  return created.resources![0]!.name;
}

export type Run = {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown>;
  status?: { conditions?: { status: string; reason: string }[] };
};
export const runs = (fake: FakeKube) =>
  fake.objects().filter((o) => o['kind'] === 'PipelineRun') as unknown as Run[];
export const reason = (r: Run | undefined) => r?.status?.conditions?.[0]?.reason;
export const reasonOf = (fake: FakeKube, name: string) =>
  reason(runs(fake).find((r) => r.metadata.name === name));
export const names = (list: Run[]) => list.map((r) => r.metadata.name).sort();

/** Warn and error lines after start-up (provider none's own notice at start is expected). */
export const problems = (gw: RunningGateway) =>
  gw.logs.filter((l) => /"level":"(warn|error)"/.test(l) && !l.includes('checks no signature'));

/** The exposition lines of one metric. */
export async function metric(gw: RunningGateway, name: string): Promise<string> {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}
