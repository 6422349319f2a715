// A headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages
// separated by NUL on file descriptors 3 and 4), so browser tests need no npm package: only a `chromium` on
// PATH (Debian's package) or the CHROMIUM variable naming one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM_MISSING =
  'The deliveries page browser test needs headless Chromium: install it (Debian/Ubuntu: ' +
  'apt-get install -y --no-install-recommends chromium) or set CHROMIUM=/path/to/chrome.';

/** The browser binary, or undefined when there is none. */
export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter(
    (c): c is string => !!c,
  );
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0) return c;
  }
  return undefined;
}

type Json = Record<string, any>;

export interface Page {
  /** Sends a protocol command to the page's session. */
  send(method: string, params?: Json): Promise<Json>;
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<void>;
  /** Runs `action` (which navigates, e.g. a click) and waits for the next load event. */
  navigating(action: () => Promise<unknown>): Promise<void>;
  /** Evaluates an expression in the page and returns its value (DevTools evaluation is not subject to CSP). */
  evaluate<T>(expression: string): Promise<T>;
  /** Console messages and uncaught exceptions seen in the page so far. */
  readonly console: string[];
  screenshot(): Promise<Buffer>;
}

export interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(binary: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const args = [
    '--headless',
    '--remote-debugging-pipe',
    '--disable-gpu',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-extensions',
    '--disable-background-networking',
    '--disable-dev-shm-usage',
    '--window-size=1280,900',
    `--user-data-dir=${profile}`,
    // Chromium's sandbox refuses to run as root (CI containers).
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    'about:blank',
  ];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(msg: Json) => void>();
  let buffered = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nul: number;
    while ((nul = buffered.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buffered.slice(0, nul)) as Json;
      buffered = buffered.slice(nul + 1);
      if (typeof msg.id === 'number' && pending.has(msg.id)) {
        const p = pending.get(msg.id)!;
        pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${msg.error.message} (${JSON.stringify(msg.error)})`));
        else p.resolve(msg.result as Json);
      } else {
        for (const l of listeners) l(msg);
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`chromium exited: ${stderr}`));
    pending.clear();
  });

  const send = (method: string, params: Json = {}, sessionId?: string): Promise<Json> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });

  const waitFor = (sessionId: string, method: string, timeoutMs = 30_000): Promise<Json> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(on);
        reject(new Error(`timed out waiting for ${method}`));
      }, timeoutMs);
      const on = (msg: Json) => {
        if (msg.sessionId === sessionId && msg.method === method) {
          clearTimeout(timer);
          listeners.delete(on);
          resolve(msg.params as Json);
        }
      };
      listeners.add(on);
    });

  // The first answer also proves the pipe works.
  await send('Browser.getVersion');

  return {
    async newPage() {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      const consoleLines: string[] = [];
      listeners.add((msg) => {
        if (msg.sessionId !== sessionId) return;
        if (msg.method === 'Runtime.consoleAPICalled') {
          consoleLines.push(
            msg.params.args.map((a: Json) => String(a.value ?? a.description ?? '')).join(' '),
          );
        }
        if (msg.method === 'Runtime.exceptionThrown') {
          consoleLines.push(`exception: ${msg.params.exceptionDetails?.text ?? ''}`);
        }
      });
      const s = (method: string, params?: Json) => send(method, params, sessionId);
      await s('Page.enable');
      await s('Runtime.enable');
      const navigating = async (action: () => Promise<unknown>) => {
        const loaded = waitFor(sessionId, 'Page.loadEventFired');
        await action();
        await loaded;
      };
      return {
        send: s,
        console: consoleLines,
        navigating,
        goto: (url) => navigating(() => s('Page.navigate', { url })),
        async evaluate<T>(expression: string) {
          const r = await s('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
          if (r.exceptionDetails) throw new Error(`evaluate failed: ${JSON.stringify(r.exceptionDetails)}`);
          return r.result.value as T;
        },
        async screenshot() {
          const { data } = await s('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
          return Buffer.from(data as string, 'base64');
        },
      };
    },
    async close() {
      await send('Browser.close').catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
