// Issue #6, limits: a cap on webhooks in flight with a clear 503, per-route shares so a noisy route cannot
// starve the others, freed slots handed to waiting routes in turn, and no slot lost to a client that stalls
// or goes away.
import { afterEach, describe, expect, it } from 'vitest';
import { demoSecretsDir, post, routesFile, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { SERVER_TIMEOUTS } from '../../src/http/server.js';
import { scrape, slowPost, until, valueOf } from './support.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const ROUTES = `apiVersion: tekton-gateway/v1
routes:
${['/a', '/b']
  .map(
    (path) => `  - path: ${path}
    provider: none
    triggers:
      - name: run
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: run-}, spec: {taskRef: {name: run}}}`,
  )
  .join('\n')}
`;

/** A webhook that holds its slot until `finish()`: its body arrives in two parts. */
const hold = (gw: RunningGateway, path: string) =>
  slowPost(`${gw.url}${path}`, JSON_HEADERS, Buffer.from('{"a":'), Buffer.from('1}'));

let gw: RunningGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

async function gateway(flags: string[], maxWaitMs: number, serverTimeouts = SERVER_TIMEOUTS) {
  gw = await startGateway(
    ['--dry-run', '--routes', routesFile(ROUTES), '--secrets-dir', demoSecretsDir, ...flags],
    {},
    { maxWaitMs, serverTimeouts },
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
    expect(busy.headers.get('retry-after')).toBe('5');
    expect(busy.json.error).toContain('limit of webhooks in flight');
    expect(busy.json.eventId).toMatch(/^[0-9a-f-]{36}$/);

    for (const h of held) h.finish();
    expect((await Promise.all(held.map((h) => h.response))).map((r) => r.status)).toEqual([200, 200]);
    expect((await post(`${gw.url}/a`, '{}', JSON_HEADERS)).status).toBe(200);
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

    expect((await post(`${gw.url}/b`, '{}', JSON_HEADERS)).status).toBe(200);
    expect(gw.handle.load()).toEqual({ inFlight: 2, waiting: 1 });

    for (const h of noisy) h.finish();
    expect((await Promise.all(noisy.map((h) => h.response))).map((r) => r.status)).toEqual([200, 200]);
    expect((await third).status).toBe(200);
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
    expect(order).toEqual(['a3:200', 'b1:200', 'a4:200']);
    holders[1]!.finish();
    await Promise.all(holders.map((h) => h.response));
  });

  it('gives the slot back when the client goes away mid-body', async () => {
    const gw = await gateway(['--max-in-flight', '1'], 200);
    const { request } = await import('node:http');
    const req = request(`${gw.url}/a`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'content-length': '100' },
    });
    req.on('error', () => {});
    req.write('{"a":');
    expect(await until(() => gw.handle.load().inFlight === 1, 2_000)).toBe(true);
    req.destroy();
    expect(await until(() => gw.handle.load().inFlight === 0, 2_000)).toBe(true);
    expect((await post(`${gw.url}/a`, '{}', JSON_HEADERS)).status).toBe(200);
  });

  it('a stalled upload is cut at the request timeout and its slot given back', async () => {
    const gw = await gateway(['--max-in-flight', '1'], 200, {
      headersTimeoutMs: 400,
      requestTimeoutMs: 500,
      keepAliveTimeoutMs: 5_000,
      checkIntervalMs: 100,
    });
    const stalled = hold(gw, '/a');
    expect(await until(() => gw.handle.load().inFlight === 1, 2_000)).toBe(true);
    // Node answers 408 (or just closes) when the body does not arrive in time.
    const outcome = await stalled.response.then(
      (r) => r.status,
      () => 'closed',
    );
    expect([408, 'closed']).toContain(outcome);
    expect(await until(() => gw.handle.load().inFlight === 0, 2_000)).toBe(true);
    expect((await post(`${gw.url}/a`, '{}', JSON_HEADERS)).status).toBe(200);
  });
});
