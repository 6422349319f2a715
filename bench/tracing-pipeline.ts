// `node .bench-tmp/build/bench/tracing-pipeline.js --baseline DIST_DIR`: the pipeline's own CPU time per
// verify + filter delivery (the 30 KB GitHub push whose filter says no), in-process, for
//   baseline  handleWebhook of an older build (e.g. the commit before tracing)
//   off       handleWebhook of this build with no tracer (tracing off)
//   on        the same with a real delivery tracer of src/tracing/otel.ts (SDK, batch processor, OTLP
//             http/protobuf exporter to a sink in a child process), the delivery span ended as the edge does
// The variants alternate in short rounds (rotating order), so a machine whose load drifts (other work on
// the same cores) weighs on all three alike; figures are medians of the rounds, ratios medians of the
// per-round ratios. Run it pinned (`taskset -c 0 node …`).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './env.js';
import { writeFixtures } from './fixtures.js';
import { GITHUB_SECRET, githubHeaders, githubPush30k } from './payloads.js';

type Route = { readonly path: string };
type Config = { readonly routes: readonly Route[] };
type Handle = (c: Config, r: Route, d: object, io: object) => Promise<{ kind: string }>;
interface Loaded {
  readonly config: Config;
  readonly route: Route;
  readonly handle: Handle;
}

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const baselineDist = flag('--baseline');
const rounds = Number(flag('--rounds') ?? 40);
const perRound = Number(flag('--calls') ?? 200);

async function load(dist: string, routesFile: string): Promise<Loaded> {
  const imp = async <T>(file: string) => (await import(pathToFileURL(path.join(dist, file)).href)) as T;
  const { loadConfigFile } = await imp<{
    loadConfigFile: (f: string, o: object) => { ok: boolean; config: Config; problems?: string[] };
  }>('config/load.js');
  const { handleWebhook } = await imp<{ handleWebhook: Handle }>('pipeline/handle.js');
  const loaded = loadConfigFile(routesFile, {});
  if (!loaded.ok) throw new Error(loaded.problems?.join('\n'));
  const route = loaded.config.routes.find((r) => r.path === '/github')!;
  return { config: loaded.config, route, handle: handleWebhook };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const fixtures = writeFixtures();
  const body = githubPush30k();
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(githubHeaders(body))) headers[k.toLowerCase()] = [v];
  const secret = Buffer.from(GITHUB_SECRET);
  const delivery = { method: 'POST', path: '/github', requestURL: '/github', headers, body };

  // The sink: another process, so receiving spans costs this one nothing.
  const sink = spawn(
    process.execPath,
    [
      '-e',
      `require('node:http').createServer((q,s)=>{q.resume();q.on('end',()=>s.writeHead(200).end())}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((resolve) =>
    sink.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim())),
  );

  const thisDist = path.join(repoRoot, 'dist');
  const off = await load(thisDist, fixtures.routesFile);
  const { tracingSettings } = (await import(
    pathToFileURL(path.join(thisDist, 'tracing/settings.js')).href
  )) as {
    tracingSettings: (env: object) => { ok: boolean; settings: object };
  };
  const { startTracing } = (await import(pathToFileURL(path.join(thisDist, 'tracing/otel.js')).href)) as {
    startTracing: (
      s: object,
      h: object,
    ) => Promise<{
      delivery(route: Route, headers: object, at: number): { end(r: object, s: number): void };
      shutdown(ms: number): Promise<void>;
    }>;
  };
  const settings = tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
  if (!settings.ok) throw new Error('tracing settings');
  const tracing = await startTracing(settings.settings, {
    onError: (m: string) => process.stderr.write(`${m}\n`),
  });

  const io = (tracer?: object) => ({
    now: Date.now,
    randomUUID,
    secrets: () => secret,
    create: undefined,
    serverDryRun: false,
    skipVerify: false,
    deadline: Date.now() + 3_600_000,
    trace: (e: unknown) => void e,
    ...(tracer && { tracer }),
  });
  const variants: { name: string; call: () => Promise<unknown> }[] = [
    { name: 'off', call: () => off.handle(off.config, off.route, delivery, io()) },
    {
      name: 'on',
      call: async () => {
        const span = tracing.delivery(off.route, headers, Date.now());
        const result = await off.handle(off.config, off.route, delivery, io(span));
        span.end(result, 200);
        return result;
      },
    },
  ];
  if (baselineDist) {
    const base = await load(baselineDist, fixtures.routesFile);
    variants.unshift({ name: 'baseline', call: () => base.handle(base.config, base.route, delivery, io()) });
  }
  // Sanity: every variant answers what the bench expects (processed, the trigger skipped).
  for (const v of variants) {
    const result = (await v.call()) as { kind: string; triggers?: { outcome: string }[] };
    if (result.kind !== 'processed' || result.triggers?.[0]?.outcome !== 'skipped') {
      throw new Error(`${v.name}: unexpected result ${JSON.stringify(result).slice(0, 300)}`);
    }
  }
  const perCall: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  const warmup = 3;
  for (let round = 0; round < rounds + warmup; round++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + round) % variants.length]!;
      const before = process.cpuUsage();
      for (let n = 0; n < perRound; n++) await v.call();
      const used = process.cpuUsage(before);
      if (round >= warmup) perCall[v.name]!.push((used.user + used.system) / perRound);
    }
  }
  await tracing.shutdown(2000);
  sink.kill();
  const ratio = (a: string, b: string) => median(perCall[a]!.map((x, i) => x / perCall[b]![i]!));
  const lines = [
    `pipeline CPU per verify + filter delivery (30 KB GitHub push, filter false), ${rounds} rounds × ${perRound} calls, medians`,
    '',
    '| variant | CPU µs/delivery |',
    '|---|---|',
    ...variants.map((v) => `| ${v.name} | ${median(perCall[v.name]!).toFixed(1)} |`),
    '',
    ...(baselineDist ? [`off / baseline ×${ratio('off', 'baseline').toFixed(3)}`] : []),
    `on / off ×${ratio('on', 'off').toFixed(3)} (+${(median(perCall['on']!) - median(perCall['off']!)).toFixed(1)} µs)`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

await main();
