// What every section gets: the run's settings, the tools, the generated files, and a progress logger.
import path from 'node:path';
import type { Tools } from './env.js';
import { repoRoot } from './env.js';
import type { Fixtures } from './fixtures.js';

export const SECTIONS = ['verify', 'floor', 'create', 'createcpu', 'sizes', 'routes', 'outage'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Settings {
  readonly quick: boolean;
  /** Repetitions of every measured run; figures are their medians. */
  readonly reps: number;
  /** Length of one measured wrk run on the verify + filter path. */
  readonly seconds: number;
  /** Warm-up before the first measured run of each server and payload (JIT, connections). */
  readonly warmupSeconds: number;
  /** wrk connections on the verify + filter path (closed model: the saturation point). */
  readonly connections: number;
  readonly createRates: readonly number[];
  readonly createSeconds: number;
  /** Injected latency of the fake Kubernetes API on every create. */
  readonly apiLatencyMs: number;
  readonly sizes: readonly number[];
  /** Length of one measured run of the size series (one connection). */
  readonly sizeSeconds: number;
  readonly routeCounts: readonly number[];
  readonly routeSeconds: number;
  /** The gateway's entry point (dist/main.js); another build can be given for before/after runs. */
  readonly gatewayMain: string;
  /** Another build's main.js, measured interleaved with gatewayMain (before/after of a change). */
  readonly baselineMain: string | undefined;
  readonly sections: ReadonlySet<Section>;
  /** Print the report of a saved run (its JSON file) instead of running anything. */
  readonly reportFile: string | undefined;
  /** When set, every gateway runs with --cpu-prof and writes its profile here on exit. */
  readonly cpuProfDir: string | undefined;
}

export function settings(argv: readonly string[]): Settings {
  const quick = argv.includes('--quick');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const withValue = ['--only', '--gateway', '--baseline', '--reps', '--cpu-prof', '--report'];
  const known = new Set(['--quick', '--help', ...withValue]);
  for (const [i, arg] of argv.entries()) {
    if (arg.startsWith('--') && !known.has(arg)) throw new Error(`unknown option ${arg}\n${USAGE}`);
    if (!arg.startsWith('--') && !withValue.includes(argv[i - 1] ?? '')) {
      throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    }
  }
  const only = value('--only');
  const sections = new Set<Section>(only ? (only.split(',') as Section[]) : SECTIONS);
  for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}\n${USAGE}`);
  const reps = value('--reps');
  return {
    quick,
    reps: reps ? Number(reps) : quick ? 1 : 3,
    seconds: quick ? 2 : 10,
    warmupSeconds: quick ? 1 : 3,
    connections: 16,
    createRates: [50, 200, 500],
    createSeconds: quick ? 3 : 15,
    apiLatencyMs: 20,
    sizes: quick
      ? [2_000, 30_000, 1_000_000, 25_000_000]
      : [2_000, 30_000, 250_000, 1_000_000, 5_000_000, 25_000_000],
    sizeSeconds: quick ? 1 : 5,
    routeCounts: quick ? [1, 1000] : [1, 10, 100, 1000],
    routeSeconds: quick ? 2 : 5,
    gatewayMain: path.resolve(value('--gateway') ?? path.join(repoRoot, 'dist/main.js')),
    baselineMain: value('--baseline') === undefined ? undefined : path.resolve(value('--baseline')!),
    sections,
    reportFile: value('--report'),
    cpuProfDir: value('--cpu-prof') === undefined ? undefined : path.resolve(value('--cpu-prof')!),
  };
}

export const USAGE = `usage: npm run bench -- [--quick] [--only ${SECTIONS.join(',')}] [--reps N] [--gateway PATH/main.js] [--baseline PATH/main.js] [--cpu-prof DIR] [--report FILE]
  --quick     one repetition of short runs (under 2 minutes; a smoke test, not figures to quote)
  --only      run some sections
  --reps      repetitions per figure (default 3, quick 1)
  --gateway   the build to measure (default dist/main.js)
  --baseline  PATH/main.js of another build, run interleaved with it on the verify + filter path and
              timed by the same loader in the route-count series (before/after of a change)
  --cpu-prof  DIR: run every gateway with node --cpu-prof, profiles written to DIR when it stops
  --report    FILE: print the report of a saved run (.bench-tmp/results/*.json) again, nothing is run`;

export interface Context {
  readonly settings: Settings;
  readonly tools: Tools;
  readonly fixtures: Fixtures;
  /** The dist directory next to the gateway's main.js (for the loader timing). */
  readonly dist: string;
  progress(message: string): void;
}

export class SanityError extends Error {}

/** Stops the run when a server does not do the job it is measured on (e.g. accepts a bad signature). */
export function expect(what: string, ok: boolean, got: { status: number; text: string }): void {
  if (!ok) throw new SanityError(`sanity check failed: ${what}; got ${got.status} ${got.text.slice(0, 400)}`);
}

export async function post(
  url: string,
  body: Buffer,
  headers: Readonly<Record<string, string>>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, text: await res.text() };
}
