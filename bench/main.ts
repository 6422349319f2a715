// `npm run bench`: the webhook → PipelineRun benchmark of issue #8, every figure in one run. BENCHMARKS.md
// explains what each section measures and holds a full run.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SanityError, USAGE, settings, type Context, type Settings } from './context.js';
import { createSection } from './create.js';
import { benchDir, findTools, machineInfo, pinned, resultsDir, workDir } from './env.js';
import { writeFixtures } from './fixtures.js';
import { githubPayload, mainPayloads, sizedPush, type Payload } from './payloads.js';
import { killAll, run } from './processes.js';
import { render, summarize, type FloorResults, type Results } from './report.js';
import { routesSection, sizesSection } from './scaling.js';
import { verifySection } from './verify.js';

function sizePayloads(s: Settings): Payload[] {
  return s.sizes.map((target) => {
    const body = sizedPush(target);
    const label = target >= 1e6 ? `${target / 1e6}MB` : `${target / 1e3}KB`;
    return githubPayload(`size-${label}`, `GitHub-shaped push of about ${label}: ${body.length} B`, body);
  });
}

async function floorSection(ctx: Context, payloads: readonly Payload[]): Promise<FloorResults> {
  const items = payloads.map((p) => {
    const file = path.join(workDir, `floor-${p.name}.body`);
    writeFileSync(file, p.body);
    return { name: p.name, file, kind: p.provider === 'github' ? 'hmac' : 'token' };
  });
  const seconds = ctx.settings.quick ? 0.5 : 2;
  ctx.progress(`floor: ${items.length} payloads × ${ctx.settings.reps} × ${seconds} s, in-process on core 0`);
  const [command, args] = pinned(ctx.tools, 0, process.execPath, [
    path.join(benchDir, 'floor.js'),
    JSON.stringify({ items, seconds, reps: ctx.settings.reps }),
  ]);
  const out = await run('floor', command, args);
  return (JSON.parse(out) as { results: FloorResults }).results;
}

/** Issue #15's outage figures: bench/outage.ts in a process of its own (it runs the fake API in-process). */
async function outageSection(ctx: Context): Promise<Record<string, number>> {
  const seconds = ctx.settings.quick ? 5 : 30;
  ctx.progress(`outage: 100 keyed deliveries, the API refusing every create for ${seconds} s`);
  const out = await run('outage', process.execPath, [
    path.join(benchDir, 'outage.js'),
    '--gateway',
    ctx.settings.gatewayMain,
    '--outage-seconds',
    String(seconds),
  ]);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
}

/**
 * Issue #15's CPU per create: bench/create-cpu.ts, the gateway's client against a bare node:https request.
 * (Its --instructions mode, counting under callgrind, is run by hand: V8's JIT and GC make those counts vary
 * by about 5 % between runs, so they add little to interleaved medians and take minutes.)
 */
async function createCpuSection(ctx: Context): Promise<Record<string, number[]>> {
  const s = ctx.settings;
  const args = [path.join(benchDir, 'create-cpu.js'), '--gateway', s.gatewayMain];
  if (s.baselineMain) args.push('--baseline', s.baselineMain);
  const rounds = s.quick ? 1 : 5;
  ctx.progress(`createcpu: CPU per create, ${rounds} interleaved round(s) of fresh processes`);
  const cpu = JSON.parse(
    (await run('create-cpu', process.execPath, [...args, '--rounds', String(rounds)]))
      .trim()
      .split('\n')
      .at(-1)!,
  ) as Record<string, number[]>;
  return cpu;
}

async function main(): Promise<number> {
  let s: Settings;
  try {
    s = settings(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  if (process.argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (s.reportFile) {
    const saved = JSON.parse(readFileSync(s.reportFile, 'utf8')) as { results: Results };
    process.stdout.write(`${render(saved.results, summarize(saved.results))}\n`);
    return 0;
  }
  const found = findTools();
  if (!found.ok) {
    process.stderr.write(`${found.message}\n`);
    return 1;
  }
  const tools = found.tools;
  if (!tools.taskset) process.stderr.write('taskset not found (util-linux): running unpinned\n');
  const begin = performance.now();
  const machine = machineInfo(tools);
  const fixtures = writeFixtures();
  const ctx: Context = {
    settings: s,
    tools,
    fixtures,
    dist: path.dirname(s.gatewayMain),
    progress: (message) =>
      process.stderr.write(`[${((performance.now() - begin) / 1000).toFixed(0).padStart(4)} s] ${message}\n`),
  };
  ctx.progress(
    `${s.quick ? 'quick' : 'full'} run; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}` +
      (os.loadavg()[0]! > 1 ? ' (the machine is busy: absolute figures will be low, ratios still hold)' : ''),
  );

  const main = mainPayloads();
  const sizes = s.sections.has('sizes') ? sizePayloads(s) : [];
  const github = main.find((p) => p.provider === 'github')!;
  const partial: { -readonly [K in keyof Results]?: Results[K] } = {};
  if (s.sections.has('verify')) partial.verify = await verifySection(ctx, main);
  if (s.sections.has('floor') || s.sections.has('verify') || s.sections.has('sizes')) {
    partial.floor = await floorSection(ctx, [...main, ...sizes]);
  }
  if (s.sections.has('create')) partial.create = await createSection(ctx, github);
  if (s.sections.has('sizes')) partial.sizes = await sizesSection(ctx, sizes);
  if (s.sections.has('routes')) partial.routes = await routesSection(ctx, github);
  if (s.sections.has('createcpu')) partial.createCpu = await createCpuSection(ctx);
  if (s.sections.has('outage')) partial.outage = await outageSection(ctx);

  const results: Results = {
    ...partial,
    machine,
    loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
    settings: { ...s, sections: [...s.sections] as unknown as Settings['sections'] },
    payloads: [...main, ...sizes].map((p) => ({
      name: p.name,
      description: p.description,
      bytes: p.body.length,
    })),
    seconds: (performance.now() - begin) / 1000,
  };
  const summary = summarize(results);
  const text = render(results, summary);
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${machine.date.replace(/[:.]/g, '-')}${s.quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ summary, results }, null, 2)}\n`);
  process.stdout.write(`${text}\n\nraw runs and summary: ${path.relative(process.cwd(), file)}\n`);
  return 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
main()
  .then((code) => {
    killAll();
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    killAll();
    process.stderr.write(`${error instanceof SanityError ? error.message : (error as Error).stack}\n`);
    process.exitCode = 1;
  });
