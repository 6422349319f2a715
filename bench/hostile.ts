// The "hostile load" section of issue #13, side by side with a baseline build: the gateway run as the Helm
// chart runs it (node --max-old-space-size=192), attacked on loopback. Figures:
//   - RSS peak with 8 and 64 concurrent unsigned 25 MiB bodies (must stay under the chart's 256 MiB limit);
//   - amplification: RSS added by one legitimate 24 MB delivery, per byte of body;
//   - latency of signed deliveries while 64 slow clients dribble bodies (p99 < 1 s);
//   - event-loop delay (as /healthz latency) while unsigned 320-entry Standard Webhooks requests with 3 MiB
//     bodies arrive (p99 < 50 ms).
// Run: npm run build && tsc -p bench && node .bench-tmp/build/bench/hostile.js [--baseline OLD/dist/main.js]
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, repoRoot, workDir } from './env.js';
import { sizedPush } from './payloads.js';
import { RssSampler, killAll, rssBytes, start, waitUntilServing, type Started } from './processes.js';
import { percentileSorted } from './stats.js';

const MiB = 1024 * 1024;
const SECRET = 'hostile-bench-secret';
const WHSEC_KEY = Buffer.alloc(32, 1);

const ROUTES = `apiVersion: tekton-gateway/v1
templates:
  t:
    params: [{name: ref, default: none}]
    resourcetemplates:
      - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: run-}, spec: {pipelineRef: {name: p}, params: [{name: ref, value: $(tt.params.ref)}]}}
routes:
  - path: /github
    provider: github
    secretRef: {secretName: gh, secretKey: secret}
    triggers:
      - {name: t, bindings: [{name: ref, value: "$(body.ref)"}], template: t}
  - path: /gitlab
    provider: gitlab
    secretRef: {secretName: gl, secretKey: key}
    triggers:
      - {name: t, template: t}
`;

interface Gateway {
  readonly server: Started;
  readonly url: string;
}

async function startGateway(name: string, main: string): Promise<Gateway> {
  const dir = path.join(workDir, 'hostile');
  mkdirSync(path.join(dir, 'secrets', 'gh'), { recursive: true });
  mkdirSync(path.join(dir, 'secrets', 'gl'), { recursive: true });
  writeFileSync(path.join(dir, 'secrets', 'gh', 'secret'), SECRET);
  writeFileSync(path.join(dir, 'secrets', 'gl', 'key'), `whsec_${WHSEC_KEY.toString('base64')}`);
  writeFileSync(path.join(dir, 'routes.yaml'), ROUTES);
  const port = await freePort();
  const admin = await freePort();
  const server = start(
    name,
    process.execPath,
    [
      '--max-old-space-size=192',
      main,
      'serve',
      '--dry-run',
      '--routes',
      path.join(dir, 'routes.yaml'),
      '--secrets-dir',
      path.join(dir, 'secrets'),
      '--port',
      String(port),
      '--admin-port',
      String(admin),
      '--log-level',
      'error',
      '--drain-delay',
      '0',
    ],
    { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntilServing(server, `${url}/healthz`);
  return { server, url };
}

const alive = (g: Gateway) => g.server.child.exitCode === null && g.server.child.signalCode === null;

/** Sends `body` (the same Buffer for every request: no extra memory here) and resolves with the status. */
function send(url: string, body: Buffer, headers: Record<string, string>): Promise<number | 'error'> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve('error'));
    req.end(body);
  });
}

async function rssPeak(g: Gateway, concurrent: number, body: Buffer): Promise<Record<string, unknown>> {
  const sampler = new RssSampler([g.server.pid], 50);
  const idle = rssBytes(g.server.pid);
  const statuses = await Promise.all(
    Array.from({ length: concurrent }, () =>
      send(`${g.url}/github`, body, { 'content-type': 'application/json' }),
    ),
  );
  const peak = sampler.stop().get(g.server.pid) ?? 0;
  const answers: Record<string, number> = {};
  for (const status of statuses) answers[String(status)] = (answers[String(status)] ?? 0) + 1;
  return {
    concurrent,
    idleMiB: +(idle / MiB).toFixed(1),
    peakMiB: +(peak / MiB).toFixed(1),
    answers,
    alive: alive(g),
  };
}

async function amplification(g: Gateway): Promise<Record<string, unknown>> {
  const body = sizedPush(24_000_000);
  const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  await new Promise((r) => setTimeout(r, 500));
  const idle = rssBytes(g.server.pid);
  const sampler = new RssSampler([g.server.pid], 20);
  const status = await send(`${g.url}/github`, body, {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': 'amp-1',
    'x-hub-signature-256': sig,
  });
  const peak = sampler.stop().get(g.server.pid) ?? 0;
  return {
    bodyBytes: body.length,
    status,
    idleMiB: +(idle / MiB).toFixed(1),
    peakMiB: +(peak / MiB).toFixed(1),
    factor: +((peak - idle) / body.length).toFixed(2),
    alive: alive(g),
  };
}

/** A POST declaring 1000 bytes that sends one every 500 ms until the gateway answers or `stop`. */
function slowClient(url: string): () => void {
  const u = new URL(url);
  const req = request({
    host: u.hostname,
    port: u.port,
    path: u.pathname,
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': '1000' },
  });
  req.on('error', () => {});
  req.on('response', (res) => res.resume());
  req.write('{');
  const timer = setInterval(() => req.write(' '), 500);
  return () => {
    clearInterval(timer);
    req.destroy();
  };
}

async function slowClients(g: Gateway): Promise<Record<string, unknown>> {
  const stops = Array.from({ length: 64 }, () => slowClient(`${g.url}/github`));
  await new Promise((r) => setTimeout(r, 500));
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    const begin = performance.now();
    const status = await send(`${g.url}/github`, body, {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': `slow-${i}`,
      'x-hub-signature-256': sig,
    });
    latencies.push(performance.now() - begin);
    statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const stop of stops) stop();
  latencies.sort((a, b) => a - b);
  return {
    slowClients: 64,
    deliveries: 40,
    statuses,
    p50Ms: +percentileSorted(latencies, 50).toFixed(1),
    p99Ms: +percentileSorted(latencies, 99).toFixed(1),
    alive: alive(g),
  };
}

async function signatureEntries(g: Gateway): Promise<Record<string, unknown>> {
  const body = Buffer.alloc(3 * MiB, 0x20);
  body[0] = 0x7b;
  body[body.length - 1] = 0x7d;
  const entries = Array.from({ length: 320 }, () => `v1,${Buffer.alloc(32, 7).toString('base64')}`).join(' ');
  const delays: number[] = [];
  let running = true;
  const probe = (async () => {
    while (running) {
      const begin = performance.now();
      await fetch(`${g.url}/healthz`).then((r) => r.text());
      delays.push(performance.now() - begin);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const statuses: Record<string, number> = {};
  for (let i = 0; i < 8; i++) {
    const status = await send(`${g.url}/gitlab`, body, {
      'content-type': 'application/json',
      'webhook-id': `msg_${i}`,
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': entries,
    });
    statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
  }
  running = false;
  await probe;
  delays.sort((a, b) => a - b);
  return {
    requests: 8,
    entries: 320,
    bodyMiB: 3,
    statuses,
    healthzP50Ms: +percentileSorted(delays, 50).toFixed(1),
    healthzP99Ms: +percentileSorted(delays, 99).toFixed(1),
    healthzMaxMs: +(delays.at(-1) ?? 0).toFixed(1),
    alive: alive(g),
  };
}

async function measure(name: string, main: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { build: main };
  const body25 = Buffer.alloc(25 * MiB, 0x20);
  body25[0] = 0x7b;
  body25[body25.length - 1] = 0x7d;
  // A fresh process per figure: one that died (OOM) must not spoil the next.
  const steps: [string, (g: Gateway) => Promise<Record<string, unknown>>][] = [
    ['amplification', amplification],
    ['rss8', (g) => rssPeak(g, 8, body25)],
    ['rss64', (g) => rssPeak(g, 64, body25)],
    ['slowClients', slowClients],
    ['signatureEntries', signatureEntries],
  ];
  for (const [key, step] of steps) {
    process.stderr.write(`hostile: ${name} ${key}\n`);
    const g = await startGateway(`${name}-${key}`, main);
    try {
      out[key] = await step(g);
    } catch (error) {
      out[key] = { error: (error as Error).message, alive: alive(g) };
    } finally {
      await g.server.stop();
    }
  }
  return out;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const value = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const gateway = value('--gateway') ?? path.join(repoRoot, 'dist/main.js');
  const baseline = value('--baseline');
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    loadAverage: os.loadavg().map((l) => +l.toFixed(2)),
    cpus: os.cpus().length,
    node: process.version,
  };
  if (baseline) results['baseline'] = await measure('baseline', baseline);
  results['gateway'] = await measure('gateway', gateway);
  results['loadAverageAtEnd'] = os.loadavg().map((l) => +l.toFixed(2));
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exitCode = 1;
  })
  .finally(killAll);
