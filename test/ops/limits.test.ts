// Issue #6, limits: a cap on webhooks in flight with a clear 503, per-route shares so a noisy route cannot
// starve the others, freed slots handed to waiting routes in turn, and no slot lost to a client that stalls
// or goes away. Issue #13: a slot is taken only once the body has arrived, so a webhook holds one while the
// cluster works on it: the fake API below holds each create until the test lets it go.
import { afterEach, describe, expect, it } from 'vitest';
import { demoSecretsDir, post, routesFile, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import { scrape, slowPost, until, valueOf } from './support.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const ROUTES = (gateway = '') => `apiVersion: tekton-gateway/v1
${gateway}
routes:
${['/a', '/b']
  .map(
    (path) => `  - path: ${path}
    provider: none
    triggers:
      - name: run
        template:
            params: [{name: id, default: none}]
            resourcetemplates:
              - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: run-}, spec: {taskRef: {name: run}, params: [{name: id, value: $(tt.params.id)}]}}
        bindings: [{name: id, value: $(body.id)}]`,
  )
  .join('\n')}
`;

/** Each held webhook's gate, by the id its body carries: the fake API answers its create once it opens. */
const gates = new Map<string, Promise<void>>();
const openers: (() => void)[] = [];
let holds = 0;

/** A webhook that holds its slot until `finish()`: the cluster does not answer its create before. */
function hold(gw: RunningGateway, path: string) {
  const id = `hold-${++holds}`;
  let open = () => {};
  gates.set(id, new Promise<void>((resolve) => (open = resolve)));
  openers.push(open);
  return { response: post(`${gw.url}${path}`, JSON.stringify({ id }), JSON_HEADERS), finish: open };
}

let gw: RunningGateway | undefined;
let fake: FakeKube | undefined;
afterEach(async () => {
  for (const open of openers.splice(0)) open();
  gates.clear();
  await gw?.stop();
  await fake?.close();
  gw = undefined;
  fake = undefined;
});

async function gateway(flags: string[], maxWaitMs: number, settings = '') {
  fake = await startFakeKube({
    faults: {
      hold: (r) => {
        const id = /"(hold-[0-9]+)"/.exec(r.body)?.[1];
        return id === undefined ? undefined : gates.get(id);
      },
    },
  });
  gw = await startGateway(
    ['--routes', routesFile(ROUTES(settings)), '--secrets-dir', demoSecretsDir, ...flags],
    { KUBECONFIG: fake.kubeconfigPath },
    { maxWaitMs },
  );
  return gw;
}

describe('in-flight limits', () => {
  it('answers 503 with Retry-After and {error, eventId} once every slot is taken', async () => {
    const gw = await gateway(['--max-in-flight', '2', '--max-in-flight-per-route', '2'], 200);
    const held = [hold(gw, '/a'), hold(gw, '/b')];
    expect(await until(() => gw.handle.load().inFlight === 2, 2_000)).toBe(true);

    const busy = await post(`${gw.url}/a`, '{}', JSON_HEADERS);
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(busy.json.error).toContain('limit of webhooks in flight');
    expect(busy.json.eventId).toMatch(/^[0-9a-f-]{36}$/);

    for (const h of held) h.finish();
    expect((await Promise.all(held.map((h) => h.response))).map((r) => r.status)).toEqual([201, 201]);
    expect((await post(`${gw.url}/a`, '{}', JSON_HEADERS)).status).toBe(201);
    const metrics = await scrape(gw.adminUrl);
    expect(
      valueOf(metrics, 'tekton_gateway_requests_total', { route: '/a', provider: 'none', code: '503' }),
    ).toBe(1);
    const line = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.status === 503);
    expect(line).toMatchObject({
      msg: 'webhook',
      route: '/a',
      error: busy.json.error,
      eventId: busy.json.eventId,
    });
  });

  it('a noisy route gets at most its share; another route is still served at once', async () => {
    const gw = await gateway(['--max-in-flight', '4', '--max-in-flight-per-route', '2'], 10_000);
    const noisy = [hold(gw, '/a'), hold(gw, '/a')];
    expect(await until(() => gw.handle.load().inFlight === 2, 2_000)).toBe(true);
    // Two slots are free, but not for /a: its third webhook waits.
    const third = post(`${gw.url}/a`, '{}', JSON_HEADERS);
    expect(await until(() => gw.handle.load().waiting === 1, 2_000)).toBe(true);

    expect((await post(`${gw.url}/b`, '{}', JSON_HEADERS)).status).toBe(201);
    expect(gw.handle.load()).toEqual({ inFlight: 2, waiting: 1 });

    for (const h of noisy) h.finish();
    expect((await Promise.all(noisy.map((h) => h.response))).map((r) => r.status)).toEqual([201, 201]);
    expect((await third).status).toBe(201);
  });

  it('hands freed slots to waiting routes in turn, not to the longest queue', async () => {
    const gw = await gateway(['--max-in-flight', '2', '--max-in-flight-per-route', '2'], 10_000);
    const holders = [hold(gw, '/a'), hold(gw, '/a')];
    expect(await until(() => gw.handle.load().inFlight === 2, 2_000)).toBe(true);
    const order: string[] = [];
    const queued: Promise<void>[] = [];
    for (const [name, path] of [
      ['a3', '/a'],
      ['a4', '/a'],
      ['b1', '/b'],
    ] as const) {
      queued.push(
        post(`${gw.url}${path}`, '{}', JSON_HEADERS).then((r) => {
          order.push(`${name}:${r.status}`);
        }),
      );
      const waiting = queued.length;
      expect(await until(() => gw.handle.load().waiting === waiting, 2_000)).toBe(true);
    }
    // One slot frees: /a has its turn (a3), then /b (b1), then /a again (a4) — FIFO would serve a4 before b1.
    holders[0]!.finish();
    await Promise.all(queued);
    expect(order).toEqual(['a3:201', 'b1:201', 'a4:201']);
    holders[1]!.finish();
    await Promise.all(holders.map((h) => h.response));
  });

  it('a body still arriving holds no slot, and its bytes come back when the client goes away', async () => {
    const gw = await gateway(['--max-in-flight', '1'], 200);
    const { request } = await import('node:http');
    const req = request(`${gw.url}/a`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'content-length': '100' },
    });
    req.on('error', () => {});
    req.write('{"a":');
    const bytes = async () => valueOf(await scrape(gw.adminUrl), 'tekton_gateway_in_flight_bytes', {}) ?? -1;
    expect(await until(async () => (await bytes()) === 100, 2_000)).toBe(true);
    // The one slot is free for a webhook whose body has arrived.
    expect(gw.handle.load().inFlight).toBe(0);
    expect((await post(`${gw.url}/b`, '{}', JSON_HEADERS)).status).toBe(201);
    req.destroy();
    expect(await until(async () => (await bytes()) === 0, 2_000)).toBe(true);
  });

  it('a stalled upload gets 408 at gateway.bodyTimeoutMs and never held a slot', async () => {
    const gw = await gateway(['--max-in-flight', '1'], 200, 'gateway: {bodyTimeoutMs: 300}');
    const stalled = slowPost(`${gw.url}/a`, JSON_HEADERS, Buffer.from('{"a":'), Buffer.from('1}'));
    expect((await post(`${gw.url}/b`, '{}', JSON_HEADERS)).status).toBe(201);
    const answer = await stalled.response;
    expect(answer.status).toBe(408);
    expect(answer.headers.connection).toBe('close');
    expect(answer.json.error).toContain('gateway.bodyTimeoutMs (300 ms)');
    const metrics = await scrape(gw.adminUrl);
    expect(
      valueOf(metrics, 'tekton_gateway_requests_total', { route: '/a', provider: 'none', code: '408' }),
    ).toBe(1);
    expect(valueOf(metrics, 'tekton_gateway_in_flight_bytes', {})).toBe(0);
  });
});
