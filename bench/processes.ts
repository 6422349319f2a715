// Child processes the bench starts (servers, load generators, helpers): each is tracked by pid and stopped
// by pid on exit, and its CPU time and RSS are read from /proc, which is how "CPU per request" is measured
// without touching the program under test.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const started = new Set<ChildProcess>();

/** Stops everything the bench started (by pid), e.g. on Ctrl-C or an error. */
export function killAll(): void {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  started.clear();
}

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** stdout and stderr so far (the tail is shown if it dies). */
  output(): string;
  /** CPU seconds used by all its threads so far. */
  cpuSeconds(): number;
  rssBytes(): number;
  stop(): Promise<void>;
}

export function start(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Started {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`cannot start ${name}: ${command}`);
  started.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const pid = child.pid;
  return {
    name,
    pid,
    child,
    output: () => output,
    cpuSeconds: () => cpuSeconds(pid),
    rssBytes: () => rssBytes(pid),
    stop: async () => {
      started.delete(child);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Sum of the threads' on-CPU time from /proc/<pid>/task/<tid>/schedstat (nanoseconds, unlike stat's ticks). */
export function cpuSeconds(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  } catch {
    return Number.NaN;
  }
  return ns / 1e9;
}

export function rssBytes(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Number(kb) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** Polls `url` until it answers (any status), the process dies, or the timeout passes. */
export async function waitUntilServing(server: Started, url: string, timeoutMs = 30_000): Promise<number> {
  const begin = performance.now();
  while (performance.now() - begin < timeoutMs) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.name} exited before serving:\n${server.output()}`);
    }
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return performance.now() - begin;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${server.name} did not answer ${url} within ${timeoutMs} ms:\n${server.output()}`);
}

/** Samples the RSS of some processes every `intervalMs`, keeping each one's maximum. */
export class RssSampler {
  private readonly max = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: readonly number[],
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    for (const pid of this.pids) {
      const rss = rssBytes(pid);
      if (Number.isFinite(rss)) this.max.set(pid, Math.max(this.max.get(pid) ?? 0, rss));
    }
  }

  /** Stops sampling; the maximum RSS seen per pid. */
  stop(): Map<number, number> {
    clearInterval(this.timer);
    this.sample();
    return this.max;
  }
}

/** Runs a child to completion and returns its stdout (stderr is shown when it fails). */
export function run(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      started.delete(child);
      if (code === 0) resolve(stdout);
      else
        reject(new Error(`${name} failed (${signal ?? `exit ${code}`}):\n${stderr}${stdout.slice(-2_000)}`));
    });
  });
}
