// Contract §9: the admin port's /metrics after a scripted sequence of webhooks — one created, one skipped, a
// bad signature, no route, and a cluster outage — against the fake Kubernetes API, with every label value
// taken from the config.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import {
  demoSecret,
  demoSecretsDir,
  post,
  routesFile,
  signed,
  startGateway,
  type RunningGateway,
} from '../helpers/gateway.js';
import { parseExposition, samplesOf, scrape, valueOf, type Sample } from './support.js';

const ROUTES = `apiVersion: tekton-gateway/v1
routes:
  - path: /hook
    provider: github
    secretRef: {secretName: github-webhook, secretKey: secretkey}
    triggers:
      - name: build
        events: [push]
        template:
          resourcetemplates:
            - apiVersion: tekton.dev/v1
              kind: PipelineRun
              metadata: {generateName: build-}
              spec: {pipelineRef: {name: build}}
`;

const P = 'tekton_gateway_';

describe('GET /metrics on the admin port', () => {
  const secret = demoSecret('github-webhook', 'secretkey');
  const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', marker: 'request-only-value' }));
  let fake: FakeKube;
  let gw: RunningGateway;
  let file: string;
  let before: Sample[];
  let after: Sample[];
  const statuses: number[] = [];
  let retryAfter: string | null = null;

  beforeAll(async () => {
    fake = await startFakeKube();
    file = routesFile(ROUTES);
    gw = await startGateway(['--routes', file, '--secrets-dir', demoSecretsDir], {
      KUBECONFIG: fake.kubeconfigPath,
    });
    before = await scrape(gw.adminUrl);
    const send = async (path: string, headers: Record<string, string>) => {
      const res = await post(`${gw.url}${path}`, body, headers);
      statuses.push(res.status);
      return res;
    };
    // Paths below a route and query strings must not reach a label.
    await send('/hook/request-only-path?x=1', signed.github(body, secret, 'push', 'm-created'));
    await send('/hook', signed.github(body, secret, 'ping', 'm-skipped'));
    await send('/hook', signed.github(body, 'not-the-secret', 'push', 'm-401'));
    await send('/request-only-404', { 'content-type': 'application/json' });
    // Every create answered 503 with a Retry-After beyond the deadline: one attempt, then 503 to the sender.
    fake.setFaults({ errorRate: 1, status: 503, retryAfter: 30 });
    retryAfter = (await send('/hook', signed.github(body, secret, 'push', 'm-503'))).headers.get(
      'retry-after',
    );
    fake.setFaults({});
    after = await scrape(gw.adminUrl);
  });

  afterAll(async () => {
    await gw?.stop();
    await fake?.close();
  });

  it('the scripted requests got 201, 200, 401, 404, 503', () => {
    expect(statuses).toEqual([201, 200, 401, 404, 503]);
    expect(retryAfter).toBe('30');
  });

  it('requests_total counts each answer by config route, provider and code', () => {
    const requests = samplesOf(after, `${P}requests_total`).map((s) => [s.labels, s.value]);
    expect(requests).toEqual(
      expect.arrayContaining([
        [{ route: '/hook', provider: 'github', code: '201' }, 1],
        [{ route: '/hook', provider: 'github', code: '200' }, 1],
        [{ route: '/hook', provider: 'github', code: '401' }, 1],
        [{ route: '', provider: '', code: '404' }, 1],
        [{ route: '/hook', provider: 'github', code: '503' }, 1],
      ]),
    );
    expect(requests).toHaveLength(5);
    expect(samplesOf(before, `${P}requests_total`)).toEqual([]);
  });

  it('request_duration_seconds is a histogram per route', () => {
    expect(valueOf(after, `${P}request_duration_seconds_count`, { route: '/hook' })).toBe(4);
    expect(valueOf(after, `${P}request_duration_seconds_count`, { route: '' })).toBe(1);
    expect(valueOf(after, `${P}request_duration_seconds_bucket`, { route: '/hook', le: '+Inf' })).toBe(4);
    expect(valueOf(after, `${P}request_duration_seconds_sum`, { route: '/hook' })).toBeGreaterThan(0);
  });

  it('trigger_outcomes_total and resources_created_total', () => {
    const outcome = (o: string) =>
      valueOf(after, `${P}trigger_outcomes_total`, { route: '/hook', trigger: 'build', outcome: o });
    expect([outcome('created'), outcome('skipped'), outcome('failed')]).toEqual([1, 1, 1]);
    expect(samplesOf(after, `${P}trigger_outcomes_total`)).toHaveLength(3);
    expect(samplesOf(after, `${P}resources_created_total`).map((s) => [s.labels, s.value])).toEqual([
      [{ route: '/hook', trigger: 'build', kind: 'PipelineRun' }, 1],
    ]);
    expect(fake.objects()).toHaveLength(1);
  });

  it('kube_requests_total and kube_request_duration_seconds count each API attempt', () => {
    expect(valueOf(after, `${P}kube_requests_total`, { verb: 'create', code: '201' })).toBe(1);
    expect(valueOf(after, `${P}kube_requests_total`, { verb: 'create', code: '503' })).toBe(1);
    expect(samplesOf(after, `${P}kube_requests_total`)).toHaveLength(2);
    expect(valueOf(after, `${P}kube_request_duration_seconds_count`)).toBe(2);
    expect(fake.requests).toHaveLength(2);
  });

  it('config_reloads_total has success and failure from the start; config_info carries the file sha256', () => {
    expect(valueOf(before, `${P}config_reloads_total`, { result: 'success' })).toBe(0);
    expect(valueOf(before, `${P}config_reloads_total`, { result: 'failure' })).toBe(0);
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(samplesOf(after, `${P}config_info`).map((s) => [s.labels, s.value])).toEqual([
      [{ sha256: sha }, 1],
    ]);
  });

  it("Node's default process metrics carry the same prefix", () => {
    const names = new Set(after.map((s) => s.name));
    expect(names).toContain(`${P}process_cpu_user_seconds_total`);
    expect(names).toContain(`${P}nodejs_heap_size_used_bytes`);
    expect(names).toContain(`${P}nodejs_eventloop_lag_seconds`);
    expect([...names].filter((n) => !n.startsWith(P))).toEqual([]);
  });

  it('no label value comes from a request', () => {
    const values = after.flatMap((s) => Object.values(s.labels));
    for (const fromRequest of [
      'request-only-path',
      'request-only-404',
      'request-only-value',
      'm-created',
      'x=1',
    ]) {
      expect(values.filter((v) => v.includes(fromRequest))).toEqual([]);
    }
  });

  it('/metrics is served on the admin port only', async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(404);
    const res = await fetch(`${gw.adminUrl}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(parseExposition(await res.text()).length).toBeGreaterThan(0);
  });
});

describe('metrics of two gateways in one process', () => {
  it('are kept apart: each has its own registry', async () => {
    const file = routesFile(ROUTES);
    const a = await startGateway(['--dry-run', '--routes', file, '--secrets-dir', demoSecretsDir]);
    const b = await startGateway(['--dry-run', '--routes', file, '--secrets-dir', demoSecretsDir]);
    try {
      await post(`${a.url}/nowhere`, '{}', { 'content-type': 'application/json' });
      expect(
        valueOf(await scrape(a.adminUrl), `${P}requests_total`, { route: '', provider: '', code: '404' }),
      ).toBe(1);
      expect(samplesOf(await scrape(b.adminUrl), `${P}requests_total`)).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
