// Hot reload of the routes file (contract §8): notice a new file, load it completely, and hand over the new
// snapshot only when it is valid. The serving code reads the snapshot once per request, so a swap never
// changes a request that has started.
//
// A ConfigMap volume is updated the way the kubelet's AtomicWriter does it: the files go into a new
// `..<timestamp>` directory, a `..data_tmp` symlink to it is renamed over `..data`, the old directory is
// deleted; `routes.yaml` itself is a symlink `..data/routes.yaml` that never changes. A watch on the file
// follows the first target and dies with the old directory, so the directory is watched and events for
// `..data` (or the file's own name, for a plain file edited or replaced) trigger a re-read. Events are
// debounced: one swap fires several. fs.watch does not work everywhere (some network and overlay
// filesystems, exhausted inotify watches), so the file is also polled: read and hashed every
// `pollIntervalMs`, which is cheap for a file of a few kilobytes.
//
// Changes are detected by content (SHA-256), not by time stamps: valid bytes are never loaded twice, an
// invalid file is reported once, and a revert to the serving version is a reload like any other. An invalid
// file is tried again on each poll without being reported again, because a file can be invalid only for a
// while: a route naming a Secret whose volume the kubelet has not updated yet.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { LoadResult } from './config/load.js';
import type { Config } from './model.js';

export interface ConfigWatcherOptions {
  readonly file: string;
  /** The sha256 of the file now serving. */
  readonly serving: string;
  /** Loads and validates the bytes read (the same loader `serve` starts with). */
  readonly load: (bytes: Buffer) => LoadResult;
  /** A valid new config: swap it in. */
  readonly onLoaded: (event: { config: Config; warnings: readonly string[]; cause: string }) => void;
  /** An invalid file (or an unreadable one): the old config keeps serving. Called once per content. */
  readonly onFailed: (event: {
    problems: readonly string[];
    sha256: string | undefined;
    cause: string;
  }) => void;
  /** Watching the directory failed; polling goes on. Messages name paths only. */
  readonly onWatchError?: (error: Error) => void;
  /** Events within this window are handled by one read. */
  readonly debounceMs?: number;
  /** The polling fallback's period; the contract's "serving within 2 s" holds even without events. */
  readonly pollIntervalMs?: number;
  /** false: polling only. */
  readonly fsWatch?: boolean;
  /** New bytes are loaded only when a second read this much later finds the same bytes. */
  readonly stableMs?: number;
}

export const DEFAULT_DEBOUNCE_MS = 100;
/**
 * An editor or `kubectl cp` writing the file in place can be caught half-way: issue #13 saw a trigger served
 * without its filter for 1.5 s. Bytes that stay the same for this long are taken as finished. (The kubelet's
 * symlink swap is atomic and only pays the delay.)
 */
export const DEFAULT_STABLE_MS = 150;
export const DEFAULT_POLL_INTERVAL_MS = 1_000;

export class ConfigWatcher {
  private readonly options: ConfigWatcherOptions;
  private readonly dir: string;
  private readonly name: string;
  /** The content last tried (valid or not), so the same bytes are loaded once. */
  private lastSeen: string | undefined;
  /** The problems last reported for `lastSeen`, while it is invalid. */
  private failing: string | undefined;
  /** The read error last reported, so a lasting one is reported once. */
  private lastReadError: string | undefined;
  private watcher: { readonly fs: FSWatcher; readonly ino: number } | undefined;
  private watchProblem: string | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** New bytes read once, waiting for the second read that shows they are stable. */
  private settling: { readonly sha256: string; readonly at: number } | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: ConfigWatcherOptions) {
    this.options = options;
    this.dir = dirname(options.file);
    this.name = basename(options.file);
    this.lastSeen = options.serving;
  }

  start(): void {
    this.ensureWatch();
    this.poll = setInterval(() => {
      this.ensureWatch();
      this.check('poll', false);
    }, this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.poll.unref();
  }

  /**
   * Reads and loads the file now, even if its bytes did not change (SIGHUP: e.g. a secret file a route
   * names has appeared since the last attempt). True when a valid config was swapped in.
   */
  reload(cause: string): boolean {
    return this.check(cause, true);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    clearTimeout(this.debounce);
    clearTimeout(this.settleTimer);
    this.watcher?.fs.close();
    this.watcher = undefined;
  }

  private check(cause: string, force: boolean): boolean {
    if (this.closed) return false;
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.options.file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      if (force || this.lastReadError !== code) {
        this.lastReadError = code;
        this.lastSeen = undefined;
        this.failing = undefined;
        this.options.onFailed({
          problems: [`${this.options.file}: cannot read the file: ${code}`],
          sha256: undefined,
          cause,
        });
      }
      return false;
    }
    this.lastReadError = undefined;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const retry = sha256 === this.lastSeen;
    if (retry && !force && (this.failing === undefined || cause !== 'poll')) return false;
    // SIGHUP (force) is the operator saying the file is ready; a change seen by a watch or a poll must look
    // the same on a second read first.
    if (!force && !retry) {
      const now = performance.now();
      if (this.settling?.sha256 !== sha256) this.settling = { sha256, at: now };
      // Seen first now, or too recently (a poll right after a watch event): look again once it had time.
      const wait = this.settling.at + (this.options.stableMs ?? DEFAULT_STABLE_MS) - now;
      if (wait > 0) {
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => {
          this.settleTimer = undefined;
          this.check(cause, false);
        }, Math.ceil(wait));
        this.settleTimer.unref();
        return false;
      }
    }
    this.settling = undefined;
    const previous = retry ? this.failing : undefined;
    this.lastSeen = sha256;
    const result = this.options.load(bytes);
    if (!result.ok) {
      this.failing = result.problems.join('\n');
      if (force || this.failing !== previous)
        this.options.onFailed({ problems: result.problems, sha256, cause });
      return false;
    }
    this.failing = undefined;
    this.options.onLoaded({ config: result.config, warnings: result.warnings, cause });
    return true;
  }

  private schedule(): void {
    if (this.closed || this.debounce !== undefined) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.check('watch', false);
    }, this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    this.debounce.unref();
  }

  /** (Re)creates the directory watch when it is missing, failed, or the directory was replaced. */
  private ensureWatch(): void {
    if (this.closed || this.options.fsWatch === false) return;
    let ino: number;
    try {
      ino = statSync(this.dir).ino;
    } catch {
      this.unwatch();
      return;
    }
    if (this.watcher?.ino === ino) return;
    this.unwatch();
    try {
      const fsWatcher = watch(this.dir, { persistent: false }, (_event, name) => {
        // `name` can be missing on some platforms: then any event may be ours.
        if (name === null || name === '..data' || name === this.name) this.schedule();
      });
      fsWatcher.on('error', (error) => {
        this.unwatch();
        this.options.onWatchError?.(
          new Error(`watching ${this.dir} failed; polling until it can be watched again`, { cause: error }),
        );
      });
      this.watcher = { fs: fsWatcher, ino };
      this.watchProblem = undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      if (this.watchProblem === code) return;
      this.watchProblem = code;
      this.options.onWatchError?.(new Error(`cannot watch ${this.dir} (${code}); polling instead`));
    }
  }

  private unwatch(): void {
    this.watcher?.fs.close();
    this.watcher = undefined;
  }
}
