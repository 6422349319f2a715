// `npm run bench:schedules`: schedules across replicas (issue #18). Starts the fake Kubernetes API (TLS, a
// fixed answer delay like a real API server's) and N replicas of the built `serve` with one every-second
// schedule, runs them for a while, then counts per slot: slots, runs stored, duplicate runs, missed slots;
// and the time from slot to create (p50/p99) from each creating replica's `schedule slot` log line
// (`lateMs`: the slot time to the end of the create that stored the run).
//
// Usage: node .bench-tmp/build/bench/schedules.js [--replicas 1,3] [--seconds 30] [--latency-ms 5]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeKube, type FakeKube } from '../test/fake-kube/server.js';
import { repoRoot } from './env.js';
import { percentileSorted } from './stats.js';

interface Options {
  readonly replicas: number[];
  readonly seconds: number;
  readonly latencyMs: number;
}

function options(argv: readonly string[]): Options {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    replicas: (get('--replicas') ?? '1,3').split(',').map(Number),
    seconds: Number(get('--seconds') ?? 30),
    latencyMs: Number(get('--latency-ms') ?? 5),
  };
}

const ROUTES = `apiVersion: tekton-gateway/v1
templates:
  tick:
    params: [{name: when}]
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: {generateName: tick-}
        spec:
          pipelineRef: {name: tick}
          params: [{name: when, value: $(tt.params.when)}]
routes:
  - path: /unused
    provider: none
    triggers: [{name: t, bindings: [{name: when, value: x}], template: tick}]
schedules:
  - name: tick
    cron: "* * * * * *"
    namespace: ci
    bindings: [{name: when, value: $(context.scheduledTime)}]
    template: tick
`;

interface Replica {
  readonly child: ChildProcess;
  readonly slots: { eventId: string; outcome: string; lateMs: number }[];
  readonly listening: Promise<void>;
  readonly exited: Promise<void>;
}

function startReplica(routes: string, kubeconfig: string): Replica {
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'dist/main.js'),
      'serve',
      '--routes',
      routes,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--drain-delay',
      '0',
      '--secrets-dir',
      path.join(repoRoot, 'test/fixtures/secrets'),
    ],
    {
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), KUBECONFIG: kubeconfig },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const slots: Replica['slots'] = [];
  const listening = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (entry.msg === 'listening') resolve();
      if (entry.msg === 'schedule slot') {
        slots.push({
          eventId: String(entry.eventId),
          outcome: String(entry.outcome),
          lateMs: Number(entry.lateMs),
        });
      }
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, slots, listening, exited };
}

function slotOf(eventId: string): number {
  const m = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(eventId)!;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

async function scenario(fake: FakeKube, routes: string, replicas: number, seconds: number) {
  const before = new Set(fake.objects().map((o) => (o.metadata as { name: string }).name));
  const started = Array.from({ length: replicas }, () => startReplica(routes, fake.kubeconfigPath));
  await Promise.all(started.map((r) => r.listening));
  // Count slots strictly after every replica listens and strictly before the first stops.
  const from = Date.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const to = Date.now() - 1000;
  for (const r of started) r.child.kill('SIGTERM');
  await Promise.all(started.map((r) => r.exited));
  const inWindow = (slot: number) => slot > from && slot < to;
  const runs = fake
    .objects()
    .filter((o) => !before.has((o.metadata as { name: string }).name))
    .map((o) =>
      slotOf(
        (o.metadata as { labels: Record<string, string> }).labels['triggers.tekton.dev/triggers-eventid']!,
      ),
    )
    .filter(inWindow);
  const perSlot = new Map<number, number>();
  for (const s of runs) perSlot.set(s, (perSlot.get(s) ?? 0) + 1);
  const expected: number[] = [];
  for (let s = Math.ceil((from + 1) / 1000) * 1000; s < to; s += 1000) expected.push(s);
  const missed = expected.filter((s) => !perSlot.has(s)).length;
  const duplicates = [...perSlot.values()].reduce((n, c) => n + c - 1, 0);
  const lines = started.flatMap((r) => r.slots).filter((l) => inWindow(slotOf(l.eventId)));
  const late = lines
    .filter((l) => l.outcome === 'created')
    .map((l) => l.lateMs)
    .sort((a, b) => a - b);
  return {
    replicas,
    seconds,
    slots: expected.length,
    runs: runs.length,
    duplicates,
    missed,
    outcomes: {
      created: lines.filter((l) => l.outcome === 'created').length,
      duplicate: lines.filter((l) => l.outcome === 'duplicate').length,
      other: lines.filter((l) => l.outcome !== 'created' && l.outcome !== 'duplicate').length,
    },
    slotToCreateMs: {
      n: late.length,
      p50: late.length ? percentileSorted(late, 50) : NaN,
      p99: late.length ? percentileSorted(late, 99) : NaN,
      max: late.at(-1) ?? NaN,
    },
  };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const tls = path.join(repoRoot, 'test/fake-kube/tls');
  const fake = await startFakeKube({
    namespaces: ['default', 'ci'],
    faults: { latencyMs: o.latencyMs },
    tls: { key: readFileSync(path.join(tls, 'key.pem')), cert: readFileSync(path.join(tls, 'cert.pem')) },
  });
  const routes = path.join(mkdtempSync(path.join(os.tmpdir(), 'bench-schedules-')), 'routes.yaml');
  writeFileSync(routes, ROUTES);
  process.stderr.write(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; fake API latency ${o.latencyMs} ms\n`,
  );
  const results = [];
  for (const n of o.replicas) {
    process.stderr.write(`${n} replica(s), ${o.seconds} s of an every-second schedule…\n`);
    results.push(await scenario(fake, routes, n, o.seconds));
  }
  await fake.close();
  process.stdout.write(
    `${JSON.stringify({ machine: { cpus: os.cpus().length, load: os.loadavg() }, results }, null, 2)}\n`,
  );
}

await main();
