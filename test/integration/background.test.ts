// Background completion end to end (contract §3, §12.0 item 13): the built binary, the fake API down past
// the webhook deadline, a 503 that says `retrying`, the API back, and exactly one run — also when the sender
// redelivers meanwhile; and on SIGTERM, retries still pending are abandoned, logged, and exit 1.
// `npm test` builds first; run `npm run build` before running this suite alone.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoSecret, post, routesFile, signed } from '../helpers/gateway.js';
import { Cleanup, EVENTID, childGateway, fakeKube, type Obj } from './harness.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const githubSecret = demoSecret('github-webhook', 'secretkey');
const ROUTES = `apiVersion: tekton-gateway/v1
gateway:
  requestTimeoutMs: 1500
  retryWindowSeconds: 60
routes:
  - path: /run
    provider: github
    secretRef: {secretName: github-webhook, secretKey: secretkey}
    triggers:
      - name: build
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: build-}, spec: {pipelineRef: {name: build}}}
`;
const body = Buffer.from('{"ref":"refs/heads/main","head_commit":{"id":"abc123"}}');
const send = (url: string, delivery: string) =>
  post(`${url}/run`, body, signed.github(body, githubSecret, 'push', delivery));
const only = (res: { json: Obj }) => (res.json.triggers as Obj[])[0]!;

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('API down past the deadline → 503 retrying → API back → exactly one run', () => {
  it('with a redelivery by the sender during the outage and one after', async () => {
    const fake = await fakeKube(cleanup, { faults: { errorRate: 1, status: 503 } });
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'bg-token-')), 'token');
    writeFileSync(tokenFile, 'bg-admin-token\n');
    const gw = await childGateway(routesFile(ROUTES), fake.kubeconfigPath, [
      '--shutdown-timeout',
      '5',
      '--admin-token-file',
      tokenFile,
    ]);
    cleanup.add(() => gw.stop());
    const stored = async () => {
      const adminPort = gw.logs.find((l) => l.msg === 'listening')!.adminPort as number;
      const res = await fetch(`http://127.0.0.1:${adminPort}/deliveries/bg-1`, {
        headers: { authorization: 'Bearer bg-admin-token' },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { triggers: Obj[] }).triggers[0]!;
    };

    const sent = Date.now();
    const first = await send(gw.url, 'bg-1');
    expect(first.status).toBe(503);
    expect(only(first)).toMatchObject({ outcome: 'failed', retryable: true, retrying: true });
    const retryUntil = Date.parse(only(first).retryUntil as string);
    expect(only(first).retryUntil).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(retryUntil).toBeGreaterThan(sent + 55_000);
    expect(retryUntil).toBeLessThan(Date.now() + 61_000);
    expect((await stored()).outcome).toBe('failed');

    // The sender redelivers while the API is still down: the same job, the same window.
    const again = await send(gw.url, 'bg-1');
    expect(again.status).toBe(503);
    expect(only(again).retryUntil).toBe(only(first).retryUntil);

    fake.setFaults({});
    await until(() => gw.logs.some((l) => l.msg === 'background retry finished'));
    const finished = gw.logs.find((l) => l.msg === 'background retry finished')!;
    expect(finished).toMatchObject({ level: 'info', eventId: 'bg-1', route: '/run', trigger: 'build' });
    expect(['created', 'duplicate']).toContain(finished.result);
    // The deliveries page shows how the delivery ended, not the 503 it was answered.
    expect((await stored()).outcome).toBe(finished.result);

    // A redelivery after recovery finds the run: duplicate, never a second run.
    const after = await send(gw.url, 'bg-1');
    expect(after.status).toBe(201);
    expect(only(after).outcome).toBe('duplicate');
    const runs = (fake.objects() as Obj[]).filter((o) => o.metadata.labels[EVENTID] === 'bg-1');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.metadata.name).toMatch(/^build-[a-z0-9]{10}$/);
    expect(await gw.stop()).toBe(0);
  });

  it('without a dedupe key nothing is retried in the background', async () => {
    const fake = await fakeKube(cleanup, { faults: { errorRate: 1, status: 503 } });
    const routes = ROUTES.replace('provider: github', 'provider: github\n    dedupe: off');
    const gw = await childGateway(routesFile(routes), fake.kubeconfigPath);
    cleanup.add(() => gw.stop());
    const res = await send(gw.url, 'bg-2');
    expect(res.status).toBe(503);
    expect(only(res)).not.toHaveProperty('retrying');
    expect(only(res)).not.toHaveProperty('retryUntil');
  });
});

describe('SIGTERM with retries pending', () => {
  it('waits until the shutdown timeout, logs each abandoned eventId at error, exits 1', async () => {
    const fake = await fakeKube(cleanup, { faults: { errorRate: 1, status: 503 } });
    const gw = await childGateway(routesFile(ROUTES), fake.kubeconfigPath, ['--shutdown-timeout', '2']);
    cleanup.add(() => gw.stop());
    expect((await send(gw.url, 'bg-3')).status).toBe(503);
    expect((await send(gw.url, 'bg-4')).status).toBe(503);
    const signalled = Date.now();
    const code = await gw.stop();
    expect(code).toBe(1);
    // It kept trying until the timeout rather than giving up at once.
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1_900);
    const abandoned = gw.logs.filter((l) => l.msg === 'background retry abandoned');
    expect(abandoned.map((l) => [l.level, l.eventId, l.result]).sort()).toEqual([
      ['error', 'bg-3', 'abandoned'],
      ['error', 'bg-4', 'abandoned'],
    ]);
    expect(fake.objects()).toEqual([]);
  });

  it('exits 0 when the cluster comes back before the timeout', async () => {
    const fake = await fakeKube(cleanup, { faults: { errorRate: 1, status: 503 } });
    const gw = await childGateway(routesFile(ROUTES), fake.kubeconfigPath, ['--shutdown-timeout', '10']);
    cleanup.add(() => gw.stop());
    expect((await send(gw.url, 'bg-5')).status).toBe(503);
    fake.setFaults({});
    expect(await gw.stop()).toBe(0);
    expect(gw.logs.filter((l) => l.msg === 'background retry abandoned')).toEqual([]);
    expect(fake.objects()).toHaveLength(1);
  });
});
