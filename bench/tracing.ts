// `node .bench-tmp/build/bench/tracing.js`: what tracing costs on the verify + filter path (issue #20,
// contract §15). Three gateways, each pinned to core 0 in turn, get the same closed-loop load of the 30 KB
// GitHub push whose filter says no (200, skipped):
//   baseline  an older build (--baseline PATH/main.js, e.g. the commit before tracing), no OTEL_* variables
//   off       this build, no OTEL_* variables (the SDK is never loaded)
//   on        this build exporting every span (parent-based always-on sampler) over OTLP http/protobuf to a
//             sink on loopback that answers 200 and discards, with the default 5 s batch delay
// Each repetition runs the variants back to back in a rotating order; the report gives the medians of req/s
// and of the gateway's CPU time per request (/proc schedstat, all threads), and their ratios.
// Run it pinned to core 1 (`taskset -c 1 node …`): this process is the load generator and the sink.
import { createServer } from 'node:http';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { repoRoot, which, type Tools } from './env.js';
import { writeFixtures } from './fixtures.js';
import { githubPayload, githubPush30k } from './payloads.js';
import { killAll } from './processes.js';
import { startGateway, type RunningServer } from './servers.js';

interface Options {
  readonly baseline: string | undefined;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly reps: number;
  readonly concurrency: number;
}

function options(argv: readonly string[]): Options {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i < 0 ? undefined : argv[i + 1];
  };
  return {
    baseline: value('--baseline'),
    seconds: Number(value('--seconds') ?? 10),
    warmupSeconds: Number(value('--warmup') ?? 3),
    reps: Number(value('--reps') ?? 3),
    concurrency: Number(value('--concurrency') ?? 16),
  };
}

interface Sample {
  readonly variant: string;
  readonly rps: number;
  readonly cpuMicrosPerRequest: number;
  readonly spansExported: number;
}

/** Keeps `concurrency` requests in flight for `seconds`; counts the 200s (anything else stops the run). */
async function load(url: string, body: Buffer, headers: Record<string, string>, o: Options, seconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const target = new URL(url);
  const stopAt = performance.now() + seconds * 1000;
  let done = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { ...headers, 'Content-Length': String(body.length) },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    while (performance.now() < stopAt) {
      await one();
      done++;
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsed = (performance.now() - begin) / 1000;
  agent.destroy();
  return { requests: done, seconds: elapsed };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  const tools: Tools = { wrk: '', webhook: '', taskset: which('taskset') };
  const fixtures = writeFixtures();
  const body = githubPush30k();
  const payload = githubPayload('github-push', '30 KB GitHub push, filter says no', body);

  // The OTLP sink: reads each export and answers 200 with an empty response; counts spans only roughly
  // (by export requests), since decoding would cost this core time the load generator needs.
  let exports = 0;
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

  const thisBuild = path.join(repoRoot, 'dist', 'main.js');
  const variants = [
    ...(o.baseline ? [{ name: 'baseline', main: o.baseline, env: {} }] : []),
    { name: 'off', main: thisBuild, env: {} },
    {
      name: 'on',
      main: thisBuild,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
    },
  ];
  const samples: Sample[] = [];
  for (let rep = 0; rep < o.reps; rep++) {
    const order = variants.map((_, i) => variants[(i + rep) % variants.length]!);
    for (const v of order) {
      const gw: RunningServer = await startGateway(tools, {
        name: `gateway-${v.name}`,
        main: v.main,
        routesFile: fixtures.routesFile,
        secretsDir: fixtures.secretsDir,
        dryRun: true,
        env: v.env,
      });
      const url = `${gw.url}${payload.path}`;
      await load(url, body, payload.headers, o, o.warmupSeconds);
      const exportsBefore = exports;
      const cpuBefore = gw.server.cpuSeconds();
      const run = await load(url, body, payload.headers, o, o.seconds);
      const cpu = gw.server.cpuSeconds() - cpuBefore;
      await gw.server.stop();
      const sample = {
        variant: v.name,
        rps: run.requests / run.seconds,
        cpuMicrosPerRequest: (cpu / run.requests) * 1e6,
        spansExported: exports - exportsBefore,
      };
      samples.push(sample);
      process.stderr.write(
        `rep ${rep + 1} ${v.name.padEnd(8)} ${sample.rps.toFixed(0)} req/s, ${sample.cpuMicrosPerRequest.toFixed(0)} µs CPU/request, ${sample.spansExported} exports\n`,
      );
    }
  }
  sink.close();
  const of = (name: string, key: 'rps' | 'cpuMicrosPerRequest') =>
    median(samples.filter((s) => s.variant === name).map((s) => s[key]));
  const lines = variants.map(
    (v) =>
      `| ${v.name} | ${of(v.name, 'rps').toFixed(0)} | ${of(v.name, 'cpuMicrosPerRequest').toFixed(0)} |`,
  );
  const ratio = (a: string, b: string, key: 'rps' | 'cpuMicrosPerRequest') =>
    // Per repetition, then the median: the variants of one repetition ran under the same machine load.
    median(
      Array.from({ length: o.reps }, (_, rep) => {
        const x = samples.find((s, i) => s.variant === a && Math.floor(i / variants.length) === rep)!;
        const y = samples.find((s, i) => s.variant === b && Math.floor(i / variants.length) === rep)!;
        return x[key] / y[key];
      }),
    );
  process.stdout.write(
    [
      `verify + filter, 30 KB GitHub push, ${o.concurrency} in flight, ${o.reps} × ${o.seconds} s (medians)`,
      '',
      '| variant | req/s | CPU µs/request |',
      '|---|---|---|',
      ...lines,
      '',
      ...(o.baseline
        ? [
            `off / baseline: req/s ×${ratio('off', 'baseline', 'rps').toFixed(3)}, CPU/request ×${ratio('off', 'baseline', 'cpuMicrosPerRequest').toFixed(3)}`,
          ]
        : []),
      `on / off: req/s ×${ratio('on', 'off', 'rps').toFixed(3)}, CPU/request ×${ratio('on', 'off', 'cpuMicrosPerRequest').toFixed(3)}`,
      `raw: ${JSON.stringify(samples)}`,
      '',
    ].join('\n'),
  );
  return 0;
}

main().then(
  (code) => {
    killAll();
    process.exitCode = code;
  },
  (error: unknown) => {
    killAll();
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
