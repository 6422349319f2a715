// Issue #13: the public edge tried as an attacker would, against the built `serve` as its own process on a
// small heap (--max-old-space-size=96, limits scaled down in proportion so the suite stays light). Each attack
// asserts its answer, that the process is still up, and that a legitimate signed delivery sent meanwhile is
// served.
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKubeconfig } from '../fake-kube/kubeconfig.js';
import { post, routesFile, signed } from '../helpers/gateway.js';
import { tempSecretsDir, writeSecret } from '../secrets/volume.js';
import { spawnServe, type ServeChild } from './child.js';
import { scrape, until, valueOf } from './support.js';

const MiB = 1024 * 1024;
const HEAP = ['--max-old-space-size=96'];
const GH_SECRET = 'hostile-test-secret';
// 32 random bytes, base64: a Standard Webhooks signing key.
const WHSEC_KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const WHSEC = `whsec_${WHSEC_KEY.toString('base64')}`;

const TEMPLATE = `templates:
  t:
    params: [{name: v, default: none}]
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: TaskRun
        metadata: {generateName: run-}
        spec: {taskRef: {name: run}, params: [{name: v, value: $(tt.params.v)}]}`;

const github = (path: string, trigger: string) => `  - path: ${path}
    provider: github
    secretRef: {secretName: gh, secretKey: token}
    triggers:
      - name: t
${trigger}
        template: t`;

const ROUTES = `apiVersion: tekton-gateway/v1
gateway:
  maxBodyBytes: ${4 * MiB}
  maxBytesInFlight: ${8 * MiB}
  bodyTimeoutMs: 1000
  maxBodyValues: 300000
  maxValueBytes: 65536
${TEMPLATE}
routes:
${github('/gh', '        bindings: [{name: v, value: "$(body.ref)"}]')}
${github('/urls', '        bindings: [{name: v, value: "$(body..url)"}]')}
${github('/list', '        bindings: [{name: v, value: "$(body.l[*])"}]')}
${github(
  '/cel',
  `        overlays: [{key: big, expression: "body.l.map(x, body.s + body.s + body.s + body.s)"}]
        bindings: [{name: v, value: $(extensions.big)}]`,
)}
${github(
  '/hdr',
  `        filter: "header['X-Probe'][0] == 'yes'"
        overlays: [{key: y, expression: "body.y.parseYAML()"}]
        bindings: [{name: v, value: $(extensions.y)}]`,
)}
  - path: /gl
    provider: gitlab
    secretRef: {secretName: gl, secretKey: key}
    triggers:
      - name: t
        template: t
  - path: /gone
    provider: github
    secretRef: {secretName: gone, secretKey: token}
    triggers:
      - name: t
        template: t
`;

const ghHeaders = (body: Buffer, id = crypto.randomUUID()) => signed.github(body, GH_SECRET, 'push', id);

let secrets: string;
let gw: ServeChild;

beforeAll(async () => {
  secrets = tempSecretsDir();
  writeSecret(secrets, 'gh', { token: GH_SECRET });
  writeSecret(secrets, 'gl', { key: WHSEC });
  writeSecret(secrets, 'gone', { token: 'present-at-start' });
  gw = await spawnServe(
    ['--dry-run', '--routes', routesFile(ROUTES), '--secrets-dir', secrets, '--max-in-flight', '4'],
    {},
    HEAP,
  );
}, 30_000);

afterAll(() => gw?.kill());

/** The process is up, and a signed delivery is served. */
async function bytesInFlight(): Promise<number> {
  return valueOf(await scrape(gw.adminUrl), 'tekton_gateway_in_flight_bytes', {}) ?? -1;
}

async function stillServing(): Promise<void> {
  expect(gw.process.exitCode).toBeNull();
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const res = await post(`${gw.url}/gh`, body, ghHeaders(body));
  expect(res.status).toBe(200);
  expect((res.json.triggers as { outcome: string }[])[0]!.outcome).toBe('rendered');
}

/**
 * A POST that sends `size` bytes of `{"a":"xxx…"}` as fast as the socket takes them; resolves with the status.
 * With `gate`, the headers go first and the body only once the gate opens.
 */
function bigPost(
  path: string,
  size: number,
  chunked = false,
  gate: Promise<unknown> = Promise.resolve(),
): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const url = new URL(`${gw.url}${path}`);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = String(size);
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers,
      agent: false,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve('closed'));
    const piece = Buffer.alloc(64 * 1024, 0x78);
    let sent = 0;
    const write = () => {
      while (sent < size) {
        const n = Math.min(piece.length, size - sent);
        sent += n;
        if (!req.write(piece.subarray(0, n))) return void req.once('drain', write);
      }
      req.end();
    };
    req.flushHeaders();
    void gate.then(write);
  });
}

describe('hostile load against serve on a 96 MiB heap', () => {
  it('memory before authentication: concurrent unsigned bodies past maxBytesInFlight get 503 + Retry-After, none an OOM', async () => {
    // Every request's headers first (the budget is reserved from Content-Length before any body byte is read),
    // the bodies once the gateway has turned some away: the requests are truly concurrent however fast the
    // gateway would read one body.
    const rejected = async () =>
      valueOf(await scrape(gw.adminUrl), 'tekton_gateway_requests_rejected_total', { reason: 'memory' }) ?? 0;
    const before = await rejected();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const sent = Promise.all(Array.from({ length: 12 }, () => bigPost('/gh', 4 * MiB - 10, false, gate)));
    await until(async () => (await rejected()) > before, 10_000);
    open();
    const results = await sent;
    // 8 MiB of budget holds two 4 MiB bodies at once: the rest are turned away before being read.
    expect(results.filter((r) => r === 401).length).toBeGreaterThanOrEqual(2);
    expect(results.filter((r) => r === 503 || r === 'closed').length).toBeGreaterThanOrEqual(1);
    const metrics = await scrape(gw.adminUrl);
    expect(
      valueOf(metrics, 'tekton_gateway_requests_rejected_total', { reason: 'memory' }),
    ).toBeGreaterThanOrEqual(1);
    expect(valueOf(metrics, 'tekton_gateway_in_flight_bytes', {})).toBe(0);
    await stillServing();
  });

  it('a chunked body is cut off when it crosses the budget; a 503 at the budget says Retry-After: 1', async () => {
    // Two declared bodies that are never finished reserve 7.8 MiB of the 8 MiB budget.
    const held = Array.from({ length: 2 }, () => slowSender('/gh', Math.floor(3.9 * MiB)));
    try {
      expect(await until(async () => (await bytesInFlight()) >= 7.7 * MiB, 3_000)).toBe(true);
      expect(await bigPost('/gh', 1 * MiB, true)).toSatisfy((r) => r === 503 || r === 'closed');
      const body = Buffer.from(JSON.stringify({ ref: 'x'.repeat(300 * 1024) }));
      const res = await post(`${gw.url}/gh`, body, ghHeaders(body));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.json.error).toContain('gateway.maxBytesInFlight');
    } finally {
      for (const h of held) h.stop();
    }
    expect(await until(async () => (await bytesInFlight()) === 0, 3_000)).toBe(true);
    await stillServing();
  });

  it('slow clients hold no slot: 16 dribbling senders get 408, a signed delivery meanwhile is served', async () => {
    const slow = Array.from({ length: 16 }, () => slowSender('/gh', 1000));
    await until(
      async () => (valueOf(await scrape(gw.adminUrl), 'tekton_gateway_in_flight_bytes', {}) ?? 0) >= 16_000,
      2_000,
    );
    // --max-in-flight is 4: with slots taken before the body, every slot would be held now.
    await stillServing();
    const statuses = await Promise.all(slow.map((s) => s.status));
    expect(statuses.every((s) => s === 408)).toBe(true);
  });

  it('Standard Webhooks: 320 signature entries over a large body are refused after one HMAC per key', async () => {
    const body = Buffer.alloc(3 * MiB, 0x20);
    body[0] = 0x7b;
    body[body.length - 1] = 0x7d;
    const entries = Array.from({ length: 320 }, () => `v1,${Buffer.alloc(32, 7).toString('base64')}`).join(
      ' ',
    );
    const res = await post(`${gw.url}/gl`, body, {
      'content-type': 'application/json',
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': entries,
    });
    expect(res.status).toBe(401);
    expect(res.json.error).toContain('webhook-signature does not match');
    await stillServing();
  });

  it('Standard Webhooks: a replay with a new Idempotency-Key is the same delivery (signed webhook-id)', async () => {
    const body = Buffer.from('{"object_kind":"push"}');
    const id = `msg_${crypto.randomUUID()}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', WHSEC_KEY)
      .update(`${id}.${timestamp}.`)
      .update(body)
      .digest('base64');
    const send = (key: string) =>
      post(`${gw.url}/gl`, body, {
        'content-type': 'application/json',
        'x-gitlab-event': 'Push Hook',
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${signature}`,
        'idempotency-key': key,
      });
    const first = await send('key-1');
    const replay = await send('key-2');
    expect([first.status, replay.status]).toEqual([200, 200]);
    expect([first.json.eventId, replay.json.eventId]).toEqual([id, id]);
    const name = (r: typeof first) =>
      (r.json.triggers as { objects: { metadata: { name: string } }[] }[])[0]!.objects[0]!.metadata.name;
    // The same dedupe key renders the same fixed name: the cluster would answer `duplicate`.
    expect(name(replay)).toBe(name(first));
  });

  it('a body with more JSON values than maxBodyValues is 413, not a parsed heap', async () => {
    const keys = Array.from({ length: 320_000 }, (_, i) => `"k${i}":0`).join(',');
    const body = Buffer.from(`{${keys}}`);
    const res = await post(`${gw.url}/gh`, body, ghHeaders(body));
    expect(res.status).toBe(413);
    expect(res.json.error).toContain('gateway.maxBodyValues (300000)');
    await stillServing();
  });

  it('$(body..url) over deeply nested levels is 422 past maxValueBytes, without quadratic printing', async () => {
    let nested: Record<string, unknown> = { url: 'https://x' };
    for (let i = 0; i < 480; i++) nested = { url: nested, pad: 'p'.repeat(800) };
    const body = Buffer.from(JSON.stringify(nested));
    const res = await post(`${gw.url}/urls`, body, ghHeaders(body));
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.json)).toContain('gateway.maxValueBytes');
    await stillServing();
  });

  it('$(body.l[*]) over a 200k-element array answers (422 past maxValueBytes), no stack overflow', async () => {
    const body = Buffer.from(JSON.stringify({ l: Array.from({ length: 200_000 }, (_, i) => i % 10) }));
    const res = await post(`${gw.url}/list`, body, ghHeaders(body));
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.json)).toContain('gateway.maxValueBytes');
    await stillServing();
  });

  it('a CEL overlay building a huge string from list elements fails its trigger (422)', async () => {
    const body = Buffer.from(
      JSON.stringify({ s: 'x'.repeat(50_000), l: Array.from({ length: 300 }, () => 0) }),
    );
    const res = await post(`${gw.url}/cel`, body, ghHeaders(body));
    expect(res.status).toBe(422);
    // 300 references to a 200 KB string: 60 MB if printed, refused from its size without printing it.
    expect((res.json.triggers as { reason: string }[])[0]!.reason).toContain('gateway.maxValueBytes');
    await stillServing();
  });

  it('a header named __proto__ and a parseYAML __proto__ key are plain entries', async () => {
    const body = Buffer.from(JSON.stringify({ y: '__proto__: {polluted: 1}\nb: 2' }));
    const res = await post(`${gw.url}/hdr`, body, {
      ...ghHeaders(body),
      'x-probe': 'yes',
      __proto__: 'x',
    } as Record<string, string>);
    expect(res.status).toBe(200);
    const run = (res.json.triggers as { objects: { spec: { params: { value: string }[] } }[] }[])[0]!
      .objects[0]!;
    expect(JSON.parse(run.spec.params[0]!.value)).toEqual(JSON.parse('{"__proto__":{"polluted":1},"b":2}'));
    await stillServing();
  });

  it('a secret file removed at runtime answers 503 + Retry-After 5 with an error log line', async () => {
    rmSync(join(secrets, 'gone'), { recursive: true });
    const body = Buffer.from('{}');
    const headers = signed.github(body, 'present-at-start', 'push', 'gone-1');
    expect(
      await until(async () => (await post(`${gw.url}/gone`, body, headers)).status === 503, 20_000, 200),
    ).toBe(true);
    const res = await post(`${gw.url}/gone`, body, headers);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.json.error).toContain('secret files can be read');
    const line = await gw.line((l) => l.msg === 'webhook' && l.route === '/gone' && l.status === 503);
    expect(line.level).toBe('error');
    await stillServing();
  }, 30_000);
});

describe('answers never carry the API server address', () => {
  let api: ServeChild;
  afterAll(() => api?.kill());

  it('an unreachable cluster is 503 naming no address', async () => {
    writeSecret(secrets, 'gone', { token: 'present-at-start' });
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    // A closed port on loopback: connection refused on every attempt.
    const kubeconfig = writeKubeconfig(join(dir, 'config'), { server: 'https://127.0.0.1:9', token: 't' });
    api = await spawnServe(
      [
        '--routes',
        routesFile(
          ROUTES.replace('  bodyTimeoutMs: 1000', '  bodyTimeoutMs: 1000\n  requestTimeoutMs: 1500'),
        ),
        '--secrets-dir',
        secrets,
      ],
      { KUBECONFIG: kubeconfig },
      HEAP,
    );
    const body = Buffer.from('{"ref":"x"}');
    const res = await post(`${api.url}/gh`, body, ghHeaders(body));
    expect(res.status).toBe(503);
    const text = JSON.stringify(res.json);
    expect(text).toContain('<the Kubernetes API>');
    expect(text).not.toContain('127.0.0.1');
  }, 30_000);
});

/** A POST that declares `size` bytes and sends one byte every 200 ms until stopped. */
function slowSender(path: string, size: number): { status: Promise<number | 'closed'>; stop(): void } {
  const url = new URL(`${gw.url}${path}`);
  const req = request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(size) },
    agent: false,
  });
  const status = new Promise<number | 'closed'>((resolve) => {
    // `timer` is set below, before any of these can run.
    req.on('response', (res) => {
      clearInterval(timer);
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => {
      clearInterval(timer);
      resolve('closed');
    });
  });
  req.write('{');
  const timer = setInterval(() => req.write(' '), 200);
  return {
    status,
    stop: () => {
      clearInterval(timer);
      req.destroy();
    },
  };
}
