// Where things are and what this machine is: the repo root, the external tools the bench drives (wrk,
// adnanh/webhook, taskset), free ports, and the facts a reader needs to compare two reports.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding tekton-gateway's package.json, found upwards from this file (source or compiled). */
export const repoRoot = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'tekton-gateway')
      return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the tekton-gateway package root above the bench');
    dir = up;
  }
})();

/** The compiled bench itself (child entry points live next to this file). */
export const benchDir = path.dirname(fileURLToPath(import.meta.url));

/** Scratch space: generated payloads, routes files, secrets, Lua scripts. Gitignored. */
export const workDir = path.join(repoRoot, '.bench-tmp', 'work');
export const resultsDir = path.join(repoRoot, '.bench-tmp', 'results');

export function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface Tools {
  readonly wrk: string;
  readonly webhook: string;
  /** Absent: nothing is pinned (the report says so). */
  readonly taskset: string | undefined;
}

/** The tools the bench needs, or the message telling the user how to install the missing ones. */
export function findTools(): { ok: true; tools: Tools } | { ok: false; message: string } {
  const wrk = which('wrk');
  const webhook = which('webhook');
  const missing = [
    wrk ? undefined : 'wrk (the load generator)',
    webhook ? undefined : 'webhook (adnanh/webhook 2.8, the peer we compare with)',
  ].filter((m) => m !== undefined);
  if (missing.length > 0 || !wrk || !webhook) {
    return {
      ok: false,
      message:
        `npm run bench needs ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed.\n` +
        'On Debian/Ubuntu:  apt-get install -y wrk webhook\n' +
        '(the Debian package "webhook" is adnanh/webhook; the bench never starts its systemd service)',
    };
  }
  return { ok: true, tools: { wrk, webhook, taskset: which('taskset') } };
}

/** A command line pinned to one core with taskset (taskset execs, so the child's pid is the program's). */
export function pinned(
  tools: Tools,
  core: number,
  command: string,
  args: readonly string[],
): [string, string[]] {
  if (!tools.taskset) return [command, [...args]];
  return [tools.taskset, ['-c', String(core), command, ...args]];
}

/** A port nobody listens on right now (the kernel picks it; a race with another process is unlikely). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function firstLine(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split(
      '\n',
    )[0]!;
  } catch (e) {
    // wrk -v prints its version and exits 1.
    const out = (e as { stdout?: string; stderr?: string }).stdout || (e as { stderr?: string }).stderr || '';
    return out.split('\n')[0] ?? '';
  }
}

function packageVersion(name: string): string {
  try {
    const file = path.join(repoRoot, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export interface MachineInfo {
  readonly date: string;
  readonly cpuModel: string;
  readonly cpuMHz: string;
  readonly nproc: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly loadAverage: readonly number[];
  readonly commit: string;
  readonly packages: Readonly<Record<string, string>>;
  readonly tools: Readonly<Record<string, string>>;
  readonly pinning: string;
}

export function machineInfo(tools: Tools): MachineInfo {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim() ?? '?';
  let commit = 'unknown';
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    commit = dirty ? `${head} (+ uncommitted changes in src/)` : head;
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString(),
    cpuModel: field('model name'),
    cpuMHz: field('cpu MHz'),
    nproc: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    commit,
    packages: Object.fromEntries(
      [
        'express',
        '@bufbuild/cel',
        '@kubernetes/client-node',
        'prom-client',
        'yaml',
        '@octokit/webhooks-examples',
      ].map((name) => [name, packageVersion(name)]),
    ),
    tools: {
      wrk: firstLine(tools.wrk, ['-v']),
      webhook: firstLine(tools.webhook, ['-version']),
      taskset: tools.taskset ? firstLine(tools.taskset, ['--version']) : 'not installed',
    },
    pinning: tools.taskset
      ? 'servers on core 0, load generators (wrk, the open-model client) and the fake API on core 1'
      : 'none (taskset is missing): servers and load generators share the cores',
  };
}
