// Contract §8, hot reload: the routes file is a ConfigMap volume updated the way the kubelet does it (a new
// timestamped directory, a `..data` symlink renamed over the old one), 100 times, some versions invalid,
// while a client sends webhooks without pause.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSecretsDir, post, startGateway, type RunningGateway } from '../helpers/gateway.js';
// The kubelet's AtomicWriter is the same for Secret and ConfigMap volumes.
import { tempSecretsDir, writeSecret as writeVolume } from '../secrets/volume.js';
import { scrape, slowPost, until, valueOf } from './support.js';

const P = 'tekton_gateway_';
const JSON_HEADERS = { 'content-type': 'application/json' };

const trigger = `
      - name: run
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: run-}, spec: {taskRef: {name: run}}}`;

function version(routes: readonly string[], comment: string): string {
  return `apiVersion: tekton-gateway/v1
# ${comment}
routes:
${routes.map((path) => `  - path: ${path}\n    provider: none\n    triggers:${trigger}`).join('\n')}
`;
}

/** Invalid in different ways, each with a route that must never be served. */
function invalidVersion(i: number): string {
  const kinds = [
    // an unknown key
    `${version(['/stable', `/bad${i}`], `invalid ${i}`)}unknownKey: true\n`,
    // a CEL syntax error and an undeclared template param: two problems at once
    version(['/stable', `/bad${i}`], `invalid ${i}`)
      .replace('- name: run', "- name: run\n        filter: 'body.('")
      .replace('taskRef: {name: run}', 'taskRef: {name: $(tt.params.nope)}'),
    // not YAML
    `apiVersion: tekton-gateway/v1\n# invalid ${i}\nroutes: [\n`,
    // a secretRef whose file does not exist
    version(['/stable', `/bad${i}`], `invalid ${i}`).replace(
      'provider: none',
      'provider: github\n    secretRef: {secretName: missing-secret, secretKey: token}',
    ),
  ];
  return kinds[i % kinds.length]!;
}

function mountRoutes(yaml: string): { dir: string; file: string; swap(yaml: string): void } {
  const root = tempSecretsDir();
  const swap = (text: string) => writeVolume(root, 'config', { 'routes.yaml': text });
  swap(yaml);
  const dir = join(root, 'config');
  return { dir, file: join(dir, 'routes.yaml'), swap };
}

interface Load {
  sent: number;
  failed: { status?: number; error?: string }[];
  stop(): Promise<void>;
}

/** `clients` loops that POST to `path` back to back until stopped; any answer but 200 is a failure. */
function load(url: string, clients: number): Load {
  let running = true;
  const state: Load = {
    sent: 0,
    failed: [],
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      state.sent++;
      try {
        const res = await post(url, '{"hello":"world"}', JSON_HEADERS);
        if (res.status !== 200) state.failed.push({ status: res.status });
      } catch (error) {
        state.failed.push({ error: String(error) });
      }
    }
  });
  return state;
}

describe('hot reload of a ConfigMap-mounted routes file under load', () => {
  const SWAPS = 100;
  const mount = mountRoutes(version(['/stable', '/v0'], 'version 0'));
  let gw: RunningGateway;
  const figures = { swaps: 0, invalid: 0, sent: 0, failed: -1, maxMs: -1, medianMs: -1 };

  beforeAll(async () => {
    // Polling only once a minute: every swap must be seen through the directory watch.
    gw = await startGateway(
      ['--dry-run', '--routes', mount.file, '--secrets-dir', demoSecretsDir],
      {},
      {
        reload: { pollIntervalMs: 60_000 },
      },
    );
  });
  afterAll(async () => {
    await gw?.stop();
    console.log(`reload figures: ${JSON.stringify(figures)}`);
  });

  it(`swaps ${SWAPS} times: no failed request, new routes within 2 s, invalid versions keep the old`, async () => {
    const traffic = load(`${gw.url}/stable`, 4);
    const delays: number[] = [];
    let lastValid = 0;
    let lastValidYaml = version(['/stable', '/v0'], 'version 0');
    let invalid = 0;
    try {
      for (let i = 1; i <= SWAPS; i++) {
        if (i % 5 === 0) {
          invalid++;
          mount.swap(invalidVersion(i));
          const counted = await until(
            async () =>
              valueOf(await scrape(gw.adminUrl), `${P}config_reloads_total`, { result: 'failure' }) ===
              invalid,
            5_000,
          );
          expect(counted, `invalid version ${i} counted as a failed reload`).toBe(true);
          expect((await post(`${gw.url}/v${lastValid}`, '{}', JSON_HEADERS)).status).toBe(200);
          expect((await post(`${gw.url}/bad${i}`, '{}', JSON_HEADERS)).status).toBe(404);
        } else {
          const yaml = version(['/stable', `/v${i}`], `version ${i}`);
          mount.swap(yaml);
          const swapped = performance.now();
          const served = await until(
            async () => (await post(`${gw.url}/v${i}`, '{}', JSON_HEADERS)).status === 200,
            5_000,
            10,
          );
          delays.push(performance.now() - swapped);
          expect(served, `version ${i} served`).toBe(true);
          expect((await post(`${gw.url}/v${lastValid}`, '{}', JSON_HEADERS)).status).toBe(404);
          lastValid = i;
          lastValidYaml = yaml;
        }
      }
    } finally {
      await traffic.stop();
    }
    const sorted = [...delays].sort((a, b) => a - b);
    Object.assign(figures, {
      swaps: SWAPS,
      invalid,
      sent: traffic.sent,
      failed: traffic.failed.length,
      maxMs: Math.round(sorted.at(-1)!),
      medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]!),
    });
    expect(traffic.failed).toEqual([]);
    expect(traffic.sent).toBeGreaterThan(SWAPS);
    expect(sorted.at(-1)!).toBeLessThanOrEqual(2_000);

    const metrics = await scrape(gw.adminUrl);
    expect(valueOf(metrics, `${P}config_reloads_total`, { result: 'success' })).toBe(SWAPS - invalid);
    expect(valueOf(metrics, `${P}config_reloads_total`, { result: 'failure' })).toBe(invalid);
    const sha = createHash('sha256').update(lastValidYaml).digest('hex');
    expect(metrics.filter((s) => s.name === `${P}config_info`).map((s) => s.labels)).toEqual([
      { sha256: sha },
    ]);
  }, 120_000);

  it('logs every failed reload with every problem, each at its FILE:LINE:COL', () => {
    const failures = gw.logs
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((l) => l.msg === 'config reload failed; keeping the previous config');
    expect(failures).toHaveLength(figures.invalid);
    for (const f of failures) {
      expect(f.level).toBe('error');
      expect(f.problems.length).toBeGreaterThan(0);
      for (const p of f.problems as string[]) expect(p.startsWith(`${mount.file}:`)).toBe(true);
    }
    // The version with a CEL error and an undeclared param reports both, not only the first.
    const two = failures.find((f) => (f.problems as string[]).some((p) => p.includes('filter')));
    expect(two?.problems).toHaveLength(2);
    expect(two?.problems.join('\n')).toMatch(/:\d+:\d+: .*filter/);
    expect(two?.problems.join('\n')).toContain('nope');
  });
});

describe('a request in flight during a reload', () => {
  it('finishes on the config it started with', async () => {
    const mount = mountRoutes(version(['/old'], 'before'));
    const gw = await startGateway(['--dry-run', '--routes', mount.file, '--secrets-dir', demoSecretsDir]);
    try {
      const slow = slowPost(`${gw.url}/old`, JSON_HEADERS, Buffer.from('{"a":'), Buffer.from('1}'));
      // The gateway has matched the route (it holds the body's bytes) before the file changes.
      expect(await until(async () => (await bytesInFlight(gw)) === 7, 2_000)).toBe(true);
      mount.swap(version(['/new'], 'after'));
      expect(
        await until(async () => (await post(`${gw.url}/new`, '{}', JSON_HEADERS)).status === 200, 2_000),
      ).toBe(true);
      expect((await post(`${gw.url}/old`, '{}', JSON_HEADERS)).status).toBe(404);
      slow.finish();
      const res = await slow.response;
      expect(res.status).toBe(200);
      expect(res.json.route).toBe('/old');
      expect(res.json.triggers[0].outcome).toBe('rendered');
    } finally {
      await gw.stop();
    }
  });
});

describe('reload fallbacks', () => {
  it('polling alone picks up a swap within 2 s (no fs.watch)', async () => {
    const mount = mountRoutes(version(['/a'], 'a'));
    const gw = await startGateway(
      ['--dry-run', '--routes', mount.file, '--secrets-dir', demoSecretsDir],
      {},
      {
        reload: { fsWatch: false },
      },
    );
    try {
      mount.swap(version(['/b'], 'b'));
      const swapped = performance.now();
      expect(
        await until(async () => (await post(`${gw.url}/b`, '{}', JSON_HEADERS)).status === 200, 3_000),
      ).toBe(true);
      expect(performance.now() - swapped).toBeLessThanOrEqual(2_000);
    } finally {
      await gw.stop();
    }
  });

  it('reload() (SIGHUP) re-reads even unchanged bytes, and counts each attempt', async () => {
    const mount = mountRoutes(version(['/a'], 'a'));
    const gw = await startGateway(
      ['--dry-run', '--routes', mount.file, '--secrets-dir', demoSecretsDir],
      {},
      {
        reload: { fsWatch: false, pollIntervalMs: 60_000 },
      },
    );
    try {
      expect(gw.handle.reload()).toBe(true);
      mount.swap(invalidVersion(0));
      expect(gw.handle.reload()).toBe(false);
      expect((await post(`${gw.url}/a`, '{}', JSON_HEADERS)).status).toBe(200);
      const metrics = await scrape(gw.adminUrl);
      expect(valueOf(metrics, `${P}config_reloads_total`, { result: 'success' })).toBe(1);
      expect(valueOf(metrics, `${P}config_reloads_total`, { result: 'failure' })).toBe(1);
      const reloaded = gw.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'config reloaded');
      expect(reloaded).toHaveLength(1);
    } finally {
      await gw.stop();
    }
  });

  it('a plain file edited in place (no symlinks) is picked up too', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'routes-')), 'routes.yaml');
    writeFileSync(file, version(['/a'], 'a'));
    const gw = await startGateway(
      ['--dry-run', '--routes', file, '--secrets-dir', demoSecretsDir],
      {},
      {
        reload: { pollIntervalMs: 60_000 },
      },
    );
    try {
      writeFileSync(file, version(['/b'], 'b'));
      expect(
        await until(async () => (await post(`${gw.url}/b`, '{}', JSON_HEADERS)).status === 200, 2_000),
      ).toBe(true);
    } finally {
      await gw.stop();
    }
  });

  it('a file caught half-written is not loaded: only bytes that stay the same are (issue #13)', async () => {
    const { mkdtempSync, writeFileSync, appendFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'routes-')), 'routes.yaml');
    writeFileSync(file, version(['/a'], 'a'));
    const gw = await startGateway(
      ['--dry-run', '--routes', file, '--secrets-dir', demoSecretsDir],
      {},
      { reload: { pollIntervalMs: 50, debounceMs: 10, stableMs: 400 } },
    );
    try {
      // An in-place edit in two writes: the first leaves a valid file whose trigger has no filter yet.
      const full = version(['/a'], 'b').replace('- name: run', "- name: run\n        filter: 'false'");
      const cut = full.indexOf("\n        filter: 'false'");
      writeFileSync(file, full.slice(0, cut));
      await new Promise((resolve) => setTimeout(resolve, 100));
      appendFileSync(file, full.slice(cut));
      const metrics = async () => scrape(gw.adminUrl);
      expect(
        await until(
          async () =>
            valueOf(await metrics(), 'tekton_gateway_config_reloads_total', { result: 'success' }) === 1,
          3_000,
        ),
      ).toBe(true);
      const served = await post(`${gw.url}/a`, '{}', JSON_HEADERS);
      expect((served.json.triggers as { outcome: string }[])[0]!.outcome).toBe('skipped');
      // One reload, to the finished file: the half-written one never served.
      const lines = gw.logs.map((l) => JSON.parse(l) as Record<string, any>);
      expect(lines.filter((l) => l.msg === 'config reloaded').map((l) => l.sha256)).toEqual([
        createHash('sha256').update(full).digest('hex'),
      ]);
    } finally {
      await gw.stop();
    }
  });
});

async function bytesInFlight(gw: RunningGateway): Promise<number | undefined> {
  return valueOf(await scrape(gw.adminUrl), 'tekton_gateway_in_flight_bytes', {});
}
