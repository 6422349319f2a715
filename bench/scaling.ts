// Section 5, scaling: per-request cost against payload size (2 KB → 25 MB, one connection, gateway and
// Node ceiling side by side), and against route count (1 → 1,000 routes × 3 triggers: load + compile time
// in a fresh process, start-up, RSS, and the verify + filter path on the last route).
import { statSync } from 'node:fs';
import path from 'node:path';
import { benchDir } from './env.js';
import { expect, post, type Context } from './context.js';
import { manyRoutesPath, writeManyRoutes, writeWrkScript } from './fixtures.js';
import type { Payload } from './payloads.js';
import { run } from './processes.js';
import { startCeiling, startGateway } from './servers.js';
import { median } from './stats.js';
import { runWrk, type WrkRun } from './wrk.js';

export interface SizeResults {
  /** By payload name: the runs of the gateway and of the ceiling. */
  readonly runs: Record<string, { bytes: number; gateway: WrkRun[]; ceiling: WrkRun[] }>;
}

export async function sizesSection(ctx: Context, payloads: readonly Payload[]): Promise<SizeResults> {
  const { settings: s, tools, fixtures } = ctx;
  ctx.progress('sizes: starting the gateway (dry run) and the Node ceiling');
  const gateway = await startGateway(tools, {
    name: 'tekton-gateway',
    main: s.gatewayMain,
    routesFile: fixtures.routesFile,
    secretsDir: fixtures.secretsDir,
    dryRun: true,
    cpuProfDir: s.cpuProfDir,
  });
  const ceiling = await startCeiling(tools);
  try {
    const runs: SizeResults['runs'] = {};
    for (const payload of payloads) {
      const script = writeWrkScript(payload, `size-${payload.name}`);
      const answer = await post(`${gateway.url}${payload.path}`, payload.body, payload.headers);
      expect(`sizes ${payload.name}: the gateway skips it (200)`, answer.status === 200, answer);
      const entry = { bytes: payload.body.length, gateway: [] as WrkRun[], ceiling: [] as WrkRun[] };
      for (const [which, server] of [
        ['gateway', gateway],
        ['ceiling', ceiling],
      ] as const) {
        const options = {
          url: `${server.url}${payload.path}`,
          script,
          connections: 1,
          server: server.server,
        };
        await runWrk(tools, { ...options, seconds: 1 });
        for (let rep = 0; rep < s.reps; rep++) {
          const result = await runWrk(tools, { ...options, seconds: s.sizeSeconds });
          if (result.errors > 0) throw new Error(`sizes ${payload.name} ${which}: ${result.errors} errors`);
          entry[which].push(result);
        }
      }
      const g = median(entry.gateway.map((r) => r.cpuUsPerRequest));
      const c = median(entry.ceiling.map((r) => r.cpuUsPerRequest));
      ctx.progress(
        `sizes: ${payload.name}: gateway ${g.toFixed(0)} µs CPU/req, ceiling ${c.toFixed(0)} µs CPU/req`,
      );
      runs[payload.name] = entry;
    }
    return { runs };
  } finally {
    await gateway.server.stop();
    await ceiling.server.stop();
  }
}

export interface LoadTiming {
  readonly coldMs: number;
  readonly warmMs: number;
  readonly routes: number;
  readonly triggers: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
}

export interface RouteCountRun {
  readonly routes: number;
  readonly triggers: number;
  readonly fileBytes: number;
  readonly load: LoadTiming[];
  /** The same file through the --baseline build's loader, interleaved with `load`. */
  readonly baselineLoad: LoadTiming[];
  readonly startupMs: number;
  readonly idleRssBytes: number;
  readonly runs: WrkRun[];
}

export async function routesSection(ctx: Context, payload: Payload): Promise<RouteCountRun[]> {
  const { settings: s, tools, fixtures } = ctx;
  const results: RouteCountRun[] = [];
  for (const count of s.routeCounts) {
    const file = writeManyRoutes(count);
    const timeLoad = async (dist: string) => {
      const out = await run('load-config', process.execPath, [
        path.join(benchDir, 'load-config.js'),
        dist,
        file,
        fixtures.secretsDir,
      ]);
      return JSON.parse(out) as LoadTiming;
    };
    const load: LoadTiming[] = [];
    const baselineLoad: LoadTiming[] = [];
    for (let rep = 0; rep < s.reps; rep++) {
      load.push(await timeLoad(ctx.dist));
      if (s.baselineMain) baselineLoad.push(await timeLoad(path.dirname(s.baselineMain)));
    }
    const gateway = await startGateway(tools, {
      name: `tekton-gateway (${count} routes)`,
      main: s.gatewayMain,
      routesFile: file,
      secretsDir: fixtures.secretsDir,
      dryRun: true,
      cpuProfDir: s.cpuProfDir,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const idleRssBytes = gateway.server.rssBytes();
      // The last route: a linear matcher would pay the most here.
      const target = { ...payload, path: manyRoutesPath(count - 1) };
      const answer = await post(`${gateway.url}${target.path}`, target.body, target.headers);
      expect(
        `routes ${count}: the last route skips all three triggers (200)`,
        answer.status === 200 && (answer.text.match(/"outcome":"skipped"/g) ?? []).length === 3,
        answer,
      );
      const script = writeWrkScript(target, `routes-${count}`);
      const options = {
        url: `${gateway.url}${target.path}`,
        script,
        connections: s.connections,
        server: gateway.server,
      };
      await runWrk(tools, { ...options, seconds: 1 });
      const runs: WrkRun[] = [];
      for (let rep = 0; rep < s.reps; rep++) {
        const result = await runWrk(tools, { ...options, seconds: s.routeSeconds });
        if (result.errors > 0) throw new Error(`routes ${count}: ${result.errors} errors`);
        runs.push(result);
      }
      results.push({
        routes: count,
        triggers: load[0]!.triggers,
        fileBytes: statSync(file).size,
        load,
        baselineLoad,
        startupMs: gateway.startupMs,
        idleRssBytes,
        runs,
      });
      ctx.progress(
        `routes: ${count} routes: load ${median(load.map((l) => l.coldMs)).toFixed(0)} ms cold, ` +
          `idle RSS ${(idleRssBytes / 2 ** 20).toFixed(0)} MiB, ${median(runs.map((r) => r.rps)).toFixed(0)} req/s`,
      );
    } finally {
      await gateway.server.stop();
    }
  }
  return results;
}
