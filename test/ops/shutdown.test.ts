// Contract §8, shutdown, with the built binary and real signals: SIGTERM under load turns /readyz to 503 at
// once, keeps serving through the drain delay, stops accepting, lets every request in flight finish and
// exits 0; a second SIGTERM or the shutdown deadline exits 1. SIGHUP reloads.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import { demoSecretsDir, post, routesFile } from '../helpers/gateway.js';
import { spawnServe, type ServeChild } from './child.js';
import { scrape, until, valueOf } from './support.js';

const ROUTES = routesFile(`apiVersion: tekton-gateway/v1
routes:
  - path: /hook
    provider: none
    triggers:
      - name: run
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: run-}, spec: {taskRef: {name: run}}}
  - path: /fast
    provider: none
    triggers:
      - name: never
        filter: 'false'
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: run-}, spec: {taskRef: {name: run}}}
`);
const JSON_HEADERS = { 'content-type': 'application/json' };

let fake: FakeKube;
let child: ServeChild | undefined;
beforeAll(async () => {
  fake = await startFakeKube();
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => {
  child?.kill();
  child = undefined;
  fake.setFaults({});
});

const serve = async (flags: string[]) =>
  (child = await spawnServe(['--routes', ROUTES, '--secrets-dir', demoSecretsDir, ...flags], {
    KUBECONFIG: fake.kubeconfigPath,
  }));

type Outcome = { status: number } | { error: string };
const webhook = (url: string, path = '/hook'): Promise<Outcome> =>
  post(`${url}${path}`, '{"a":1}', JSON_HEADERS).then(
    (r) => ({ status: r.status }),
    (e: unknown) => ({ error: String((e as Error).cause ?? e) }),
  );

describe('SIGTERM', () => {
  it('under load: /readyz 503 at once, served through the drain, every in-flight request answered, exit 0', async () => {
    const gw = await serve(['--drain-delay', '1', '--shutdown-timeout', '20']);
    // Every create takes 3 s, longer than the drain delay: requests are still in flight when the listener
    // closes, and must be answered.
    fake.setFaults({ latencyMs: 3_000 });
    const IN_FLIGHT = 24;
    const before = fake.requests.length;
    const inFlight = Array.from({ length: IN_FLIGHT }, () => webhook(gw.url));
    // Clients that keep sending quick webhooks (all skipped: 200) on keep-alive connections, as a load
    // balancer would until the endpoint is gone.
    let sending = true;
    const loadResults: Outcome[] = [];
    const loops = Array.from({ length: 4 }, async () => {
      while (sending) loadResults.push(await webhook(gw.url, '/fast'));
    });
    expect(await until(() => fake.requests.length - before >= IN_FLIGHT, 10_000)).toBe(true);

    const signalled = performance.now();
    gw.process.kill('SIGTERM');
    expect(await until(async () => (await fetch(`${gw.url}/readyz`)).status === 503, 2_000, 10)).toBe(true);
    const readyzOff = performance.now() - signalled;
    expect((await fetch(`${gw.adminUrl}/readyz`)).status).toBe(503);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    // Still served during the drain: a new webhook on a new connection is accepted and finishes.
    const duringDrain = webhook(gw.url);
    await gw.line((l) => l.msg === 'shutting down');
    // The load stops half-way through the drain, as endpoints would have been updated by then.
    await new Promise((resolve) => setTimeout(resolve, 500));
    sending = false;

    const results = await Promise.all([...inFlight, duringDrain]);
    await Promise.all(loops);
    const exit = await gw.exited;
    const failed = [
      ...results.filter((r) => !('status' in r) || r.status !== 201),
      ...loadResults.filter((r) => !('status' in r) || r.status !== 200),
    ];
    console.log(
      `shutdown figures: ${JSON.stringify({
        inFlightAtSignal: IN_FLIGHT,
        loadRequests: loadResults.length,
        failed: failed.length,
        readyzOffMs: Math.round(readyzOff),
        exitMs: Math.round(exit.at - signalled),
        exitCode: exit.code,
      })}`,
    );
    expect(failed).toEqual([]);
    expect(results).toHaveLength(IN_FLIGHT + 1);
    expect(exit).toMatchObject({ code: 0, signal: null });
    const messages = gw.lines.map((l) => l.msg as string);
    expect(messages).toContain('drain delay over: no new connections');
    expect(gw.lines.at(-1)).toMatchObject({ msg: 'stopped', exitCode: 0 });
    // Every webhook was logged, and nothing failed inside the gateway.
    expect(gw.lines.filter((l) => l.msg === 'webhook')).toHaveLength(IN_FLIGHT + 1 + loadResults.length);
    expect(loadResults.length).toBeGreaterThan(IN_FLIGHT);
    expect(gw.lines.filter((l) => l.level === 'error')).toEqual([]);
    // The port is closed after the exit.
    expect('error' in (await webhook(gw.url))).toBe(true);
  }, 60_000);

  it('a second SIGTERM exits 1 at once, without waiting for the drain or in-flight requests', async () => {
    const gw = await serve(['--drain-delay', '30', '--shutdown-timeout', '60']);
    fake.setFaults({ latencyMs: 30_000 });
    const before = fake.requests.length;
    const pending = webhook(gw.url);
    expect(await until(() => fake.requests.length > before, 5_000)).toBe(true);
    gw.process.kill('SIGTERM');
    await gw.line((l) => l.msg === 'shutting down');
    gw.process.kill('SIGTERM');
    const exit = await gw.exited;
    expect(exit.code).toBe(1);
    expect(gw.lines.map((l) => l.msg)).toContain('second stop signal: exiting now');
    expect(gw.lines.map((l) => l.msg)).not.toContain('drain delay over: no new connections');
    expect(gw.lines.find((l) => l.msg === 'stopped')).toMatchObject({ exitCode: 1 });
    // The in-flight request was cut, not answered.
    expect('error' in (await pending)).toBe(true);
  });

  it('exits 1 at --shutdown-timeout when in-flight requests do not finish', async () => {
    const gw = await serve(['--drain-delay', '0', '--shutdown-timeout', '1']);
    fake.setFaults({ latencyMs: 30_000 });
    const before = fake.requests.length;
    const pending = webhook(gw.url);
    expect(await until(() => fake.requests.length > before, 5_000)).toBe(true);
    gw.process.kill('SIGTERM');
    const exit = await gw.exited;
    expect(exit.code).toBe(1);
    expect(
      gw.lines.find((l) => l.msg === 'shutdown timeout: in-flight requests did not finish'),
    ).toMatchObject({
      level: 'error',
      inFlight: 1,
    });
    expect('error' in (await pending)).toBe(true);
  });
});

describe('SIGHUP', () => {
  it('reloads the routes file', async () => {
    const gw = await serve(['--drain-delay', '0']);
    gw.process.kill('SIGHUP');
    const reloaded = await gw.line((l) => l.msg === 'config reloaded');
    expect(reloaded).toMatchObject({ level: 'info', cause: 'SIGHUP' });
    expect([...reloaded.routes].sort()).toEqual(['/fast', '/hook']);
    expect(
      valueOf(await scrape(gw.adminUrl), 'tekton_gateway_config_reloads_total', { result: 'success' }),
    ).toBe(1);
    expect(await webhook(gw.url)).toEqual({ status: 201 });
    gw.process.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);
  });
});
