// A closed-model load run with wrk (one thread, pinned to the load core), plus what the server used meanwhile:
// CPU seconds and the largest RSS, read from /proc.
import { pinned, type Tools } from './env.js';
import { RssSampler, run, type Started } from './processes.js';

export interface WrkRun {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Latency percentiles in ms. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** Non-2xx/3xx answers plus socket errors and timeouts; the bench refuses a run with any. */
  readonly errors: number;
  /** The server's CPU time per request, µs (all its threads). */
  readonly cpuUsPerRequest: number;
  /** Share of one core the server used. */
  readonly cpuShare: number;
  readonly maxRssBytes: number;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export async function runWrk(
  tools: Tools,
  options: {
    readonly url: string;
    readonly script: string;
    readonly connections: number;
    readonly seconds: number;
    readonly server: Started;
  },
): Promise<WrkRun> {
  const [command, args] = pinned(tools, 1, tools.wrk, [
    '-t1',
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--timeout',
    '30s',
    '-s',
    options.script,
    options.url,
  ]);
  const sampler = new RssSampler([options.server.pid]);
  const cpuBefore = options.server.cpuSeconds();
  const out = await run('wrk', command, args, { timeoutMs: (options.seconds + 60) * 1000 });
  const cpu = options.server.cpuSeconds() - cpuBefore;
  const maxRss = sampler.stop().get(options.server.pid) ?? Number.NaN;
  const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no result line:\n${out}`);
  const r = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
  const seconds = r.duration_us / 1e6;
  return {
    requests: r.requests,
    seconds,
    rps: r.requests / seconds,
    p50: r.p50 / 1000,
    p90: r.p90 / 1000,
    p99: r.p99 / 1000,
    max: r.max / 1000,
    errors: r.connect + r.read + r.write + r.status + r.timeout,
    cpuUsPerRequest: r.requests > 0 ? (cpu * 1e6) / r.requests : Number.NaN,
    cpuShare: cpu / seconds,
    maxRssBytes: maxRss,
  };
}
