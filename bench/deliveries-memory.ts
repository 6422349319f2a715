// `npm run bench:deliveries`: what the deliveries page (contract §14) costs in memory. The real `serve` runs
// in-process (--dry-run, so no cluster) in two child processes: one with --admin-token-file (every delivery is
// stored) and one without (nothing is). Each receives N signed GitHub pushes over loopback; after a full GC
// the growth of heap + array buffers is read, and the difference between the two runs is the store's cost.
// BENCHMARKS.md, "Deliveries page memory", holds a run.
//
// Usage: node --expose-gc deliveries-memory.js [N=500]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../src/cli/args.js';
import { SERVE } from '../src/cli/spec.js';
import { startServe } from '../src/commands/serve.js';
import { GITHUB_SECRET, githubHeaders, githubPush30k, sizedPush } from './payloads.js';

const ROUTES = `apiVersion: tekton-gateway/v1
routes:
  - path: /github
    provider: github
    secretRef: {secretName: github-webhook, secretKey: secret}
    triggers:
      - name: build
        filter: body.ref.startsWith('refs/heads/')
        bindings: [{name: revision, value: $(body.after)}]
        template:
          params: [{name: revision}]
          resourcetemplates:
            - apiVersion: tekton.dev/v1
              kind: PipelineRun
              metadata: {generateName: build-}
              spec:
                pipelineRef: {name: build}
                params: [{name: revision, value: $(tt.params.revision)}]
`;

interface Measure {
  readonly payloadBytes: number;
  readonly count: number;
  readonly store: boolean;
  /** Growth of heapUsed + arrayBuffers over the run, after a full GC, in bytes. */
  readonly grownBytes: number;
  readonly stored: number | undefined;
}

function memory(): number {
  (globalThis as { gc?: () => void }).gc!();
  (globalThis as { gc?: () => void }).gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function child(count: number, size: number, store: boolean): Promise<Measure> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deliveries-bench-'));
  mkdirSync(path.join(dir, 'secrets/github-webhook'), { recursive: true });
  writeFileSync(path.join(dir, 'secrets/github-webhook/secret'), GITHUB_SECRET);
  writeFileSync(path.join(dir, 'routes.yaml'), ROUTES);
  writeFileSync(path.join(dir, 'token'), 'bench-admin-token\n');
  const argv = ['--routes', path.join(dir, 'routes.yaml'), '--secrets-dir', path.join(dir, 'secrets')];
  argv.push('--dry-run', '--port', '0', '--admin-port', '0', '--drain-delay', '0', '--log-level', 'warn');
  if (store) argv.push('--admin-token-file', path.join(dir, 'token'));
  const handle = await startServe(
    parseArgs(SERVE, argv, {}),
    {
      stdout: () => {},
      stderr: (t) => process.stderr.write(t),
      env: {},
      readStdin: async () => Buffer.alloc(0),
    },
    { signals: false },
  );
  if (typeof handle === 'number') throw new Error(`serve exited with ${handle}`);
  const body = size === 30_000 ? githubPush30k() : sizedPush(size);
  const url = `http://127.0.0.1:${handle.ports.webhook}/github`;
  const send = async (i: number) => {
    const res = await fetch(url, { method: 'POST', headers: githubHeaders(body, `delivery-${i}`), body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  };
  // Warm up every code path (and the fetch client) before the baseline.
  for (let i = 0; i < 20; i++) await send(-1 - i);
  const before = memory();
  for (let i = 0; i < count; i++) await send(i);
  const after = memory();
  let stored: number | undefined;
  if (store) {
    const res = await fetch(`http://127.0.0.1:${handle.ports.admin}/deliveries?limit=100000`, {
      headers: { authorization: 'Bearer bench-admin-token' },
    });
    stored = ((await res.json()) as unknown[]).length;
  }
  handle.shutdown();
  await handle.done;
  return { payloadBytes: body.length, count, store, grownBytes: after - before, stored };
}

async function main(): Promise<void> {
  const [mode, countText, sizeText, storeText] = process.argv.slice(2);
  if (mode === 'child') {
    const m = await child(Number(countText), Number(sizeText), storeText === 'true');
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const count = Number(mode ?? 500);
  const self = fileURLToPath(import.meta.url);
  const rows: string[] = [];
  for (const size of [7_000, 30_000]) {
    const runs = [true, false].map((store) => {
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', self, 'child', String(count), String(size), String(store)],
        {
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Measure;
    });
    const [on, off] = runs as [Measure, Measure];
    const cost = on.grownBytes - off.grownBytes;
    rows.push(
      `| ${on.payloadBytes} B | ${count} | ${on.stored} | ${(on.grownBytes / 2 ** 20).toFixed(1)} MiB | ${(off.grownBytes / 2 ** 20).toFixed(1)} MiB | **${(cost / 2 ** 20).toFixed(1)} MiB** | ${(cost / count / 1024).toFixed(1)} KiB |`,
    );
  }
  process.stdout.write(
    [
      `node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}`,
      '',
      '| push body | deliveries sent | stored | growth, page on | growth, page off | cost of storing | per delivery |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
