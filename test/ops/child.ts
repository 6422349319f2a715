// `node dist/main.js serve …` as a child process, as the container runs it, so signals are real signals.
// `npm test` builds first; run `npm run build` before running these suites alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../helpers/shared.js';

const mainJs = join(repoRoot, 'dist/main.js');

/** A stale build would test yesterday's shutdown code: refuse it rather than pass or fail for nothing. */
function assertFreshBuild(): void {
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: run \`npm run build\` first`);
  for (const file of [
    'commands/serve',
    'http/server',
    'http/webhook',
    'http/admin',
    'http/limits',
    'http/read-body',
    'pipeline/parse',
    'pipeline/cel',
    'pipeline/bind',
    'reload',
  ]) {
    const src = statSync(join(repoRoot, `src/${file}.ts`)).mtimeMs;
    const built = statSync(join(repoRoot, `dist/${file}.js`)).mtimeMs;
    if (built < src) throw new Error(`dist/${file}.js is older than src/${file}.ts: run \`npm run build\``);
  }
}

export interface ServeChild {
  readonly process: ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
  /** Parsed stdout lines so far. */
  readonly lines: Record<string, any>[];
  readonly stderr: string[];
  /** Exit code and when the process exited (performance.now()). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves with the first line `match` accepts (already written or still to come). */
  line(match: (line: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  kill(): void;
}

export async function spawnServe(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  /** Node's own flags, e.g. a small --max-old-space-size to prove a bound holds on a small heap. */
  nodeArgs: readonly string[] = [],
): Promise<ServeChild> {
  assertFreshBuild();
  const child = spawn(
    process.execPath,
    [...nodeArgs, mainJs, 'serve', '--port', '0', '--admin-port', '0', ...args],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: Record<string, any>[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    lines.push(JSON.parse(text) as Record<string, any>);
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
  let exitAt = 0;
  child.once('exit', () => (exitAt = performance.now()));
  // 'close' comes after 'exit' and after the pipes have drained: the last lines are in by then.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, at: exitAt || performance.now() })),
  );
  const line = (match: (l: Record<string, any>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (!found) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no such log line within ${timeoutMs} ms; stderr: ${stderr.join('')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
      void exited.then(() => {
        if (waiters.has(check) && !check()) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`serve exited before the line; stderr: ${stderr.join('')}`));
        }
      });
    });
  const listening = await line((l) => l.msg === 'listening');
  return {
    process: child,
    url: `http://127.0.0.1:${listening.port}`,
    adminUrl: `http://127.0.0.1:${listening.adminPort}`,
    lines,
    stderr,
    exited,
    line,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
