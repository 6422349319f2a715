// The secret store: reads Kubernetes Secret volumes, `<dir>/<secretName>/<secretKey>` (contract §2), into
// memory and keeps them current, so the pure pipeline looks secrets up synchronously and a rotated Secret is
// used without a restart. This is an edge module: it does file I/O and owns timers and watchers.
//
// Kubernetes updates a Secret volume by writing a new timestamped directory and renaming a `..data` symlink
// over the old one; `<secretKey>` is a symlink through `..data`. A watch on the file itself would keep
// following the old inode, so the store watches the directory and re-reads every file on any event. fs.watch
// is not reliable everywhere (network filesystems, some container runtimes), so polling re-reads as well.
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SecretLookup, SecretRef } from './model.js';

export const DEFAULT_SECRETS_DIR = '/etc/tekton-gateway/secrets';

export interface SecretStoreOptions {
  /** How often every file is re-read regardless of events (the fallback for filesystems without events). */
  readonly pollIntervalMs?: number;
  /** Events within this window are handled by one re-read (a symlink swap fires several). */
  readonly debounceMs?: number;
  /** false: polling only. */
  readonly fsWatch?: boolean;
  /** A file's value changed, appeared or disappeared. Reports the path only, never a value. */
  readonly onChange?: (change: { readonly file: string; readonly present: boolean }) => void;
  /** A file could not be read (other than not existing) or a watcher failed. Messages name paths only. */
  readonly onError?: (error: Error) => void;
}

// Kubernetes' own rules (a DNS subdomain for the Secret, IsConfigMapKey for the key). Anything else is refused
// before it reaches the filesystem, so no name, even one computed at request time, can walk out of the
// directory, and `..data` and its timestamped siblings are never read as keys.
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

function isValidRef({ secretName, secretKey }: SecretRef): boolean {
  return (
    SECRET_NAME.test(secretName) &&
    SECRET_KEY.test(secretKey) &&
    !secretKey.startsWith('..') &&
    secretKey !== '.'
  );
}

/** Removes one trailing `\n` or `\r\n`: Secrets made from files often carry one. */
export function trimTrailingNewline(value: Buffer): Buffer {
  if (value.length >= 2 && value[value.length - 2] === 0x0d && value[value.length - 1] === 0x0a) {
    return value.subarray(0, -2);
  }
  if (value.length >= 1 && value[value.length - 1] === 0x0a) return value.subarray(0, -1);
  return value;
}

interface DirWatch {
  readonly watcher: FSWatcher;
  /** Inode when the watch started: a directory replaced by another one needs a new watch. */
  readonly ino: number;
}

export class SecretStore {
  readonly dir: string;
  private readonly pollIntervalMs: number;
  private readonly debounceMs: number;
  private readonly fsWatch: boolean;
  private readonly onChange: SecretStoreOptions['onChange'];
  private readonly onError: SecretStoreOptions['onError'];

  /** File → current value (undefined: absent or unreadable). Every file configured or found is kept current. */
  private readonly values = new Map<string, Buffer | undefined>();
  /** File or directory → the error code last reported for it, so a lasting problem is reported once. */
  private readonly problems = new Map<string, string>();
  private readonly watches = new Map<string, DirWatch>();
  private watching = false;
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;

  constructor(dir: string, options: SecretStoreOptions = {}) {
    this.dir = dir;
    this.pollIntervalMs = options.pollIntervalMs ?? 15_000;
    this.debounceMs = options.debounceMs ?? 100;
    this.fsWatch = options.fsWatch ?? true;
    this.onChange = options.onChange;
    this.onError = options.onError;
  }

  /** Where a ref's value lives, for messages. */
  fileOf(ref: SecretRef): string {
    return join(this.dir, ref.secretName, ref.secretKey);
  }

  /**
   * The current value of a secret (one trailing newline removed), or undefined when absent. Synchronous and
   * served from memory; a ref seen for the first time is read once and, while watching, kept current.
   */
  readonly lookup: SecretLookup = (ref) => {
    if (!isValidRef(ref)) return undefined;
    const file = this.fileOf(ref);
    if (this.values.has(file)) return this.values.get(file);
    const value = this.read(file);
    // An absent file nobody configured is not remembered: a name computed from a payload (compareSecret) must
    // not grow the cache. Every configured ref is known through missing() or watch().
    if (value !== undefined) {
      this.values.set(file, value);
      if (this.watching) this.ensureWatches();
    }
    return value;
  };

  /** Full paths of the refs' files that are missing or unreadable, in order, each once (for the load error). */
  missing(refs: readonly SecretRef[]): string[] {
    const missing = new Set<string>();
    for (const ref of refs) {
      const file = this.fileOf(ref);
      if (!isValidRef(ref)) {
        missing.add(`${file} (not a valid Secret name and key)`);
        continue;
      }
      if (this.update(file) === undefined) missing.add(file);
    }
    return [...missing];
  }

  /**
   * Reads the refs now and keeps them (and anything looked up later) current: a watch on each Secret's
   * directory and on the store's directory, plus polling. May be called again with more refs after a reload.
   */
  watch(refs: readonly SecretRef[]): void {
    if (this.closed) throw new Error('SecretStore.watch called after close');
    this.watching = true;
    for (const ref of refs) {
      const file = this.fileOf(ref);
      if (isValidRef(ref) && !this.values.has(file)) this.values.set(file, this.read(file));
    }
    this.refresh();
    if (this.pollTimer === undefined) {
      this.pollTimer = setInterval(() => this.refresh(), this.pollIntervalMs);
      this.pollTimer.unref();
    }
  }

  close(): void {
    this.closed = true;
    this.watching = false;
    clearInterval(this.pollTimer);
    clearTimeout(this.debounceTimer);
    this.pollTimer = undefined;
    this.debounceTimer = undefined;
    for (const { watcher } of this.watches.values()) watcher.close();
    this.watches.clear();
  }

  /** Re-reads every known file, reports the ones that changed, and repairs missing or stale watches. */
  private refresh(): void {
    if (this.closed) return;
    // Watch first, then read: a change that lands in between still fires an event and another refresh.
    this.ensureWatches();
    for (const file of this.values.keys()) this.update(file);
  }

  /** Re-reads one file into the cache, reporting a change of a value the store already knew. */
  private update(file: string): Buffer | undefined {
    const known = this.values.has(file);
    const old = this.values.get(file);
    const value = this.read(file);
    this.values.set(file, value);
    const same = old === undefined || value === undefined ? old === value : old.equals(value);
    if (known && !same) this.onChange?.({ file, present: value !== undefined });
    return value;
  }

  private schedule(): void {
    if (this.closed || this.debounceTimer !== undefined) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.refresh();
    }, this.debounceMs);
    this.debounceTimer.unref();
  }

  private ensureWatches(): void {
    if (!this.fsWatch || !this.watching) return;
    const dirs = new Set([this.dir]);
    for (const file of this.values.keys()) dirs.add(dirname(file));
    for (const dir of dirs) this.ensureWatch(dir);
  }

  private ensureWatch(dir: string): void {
    let ino: number;
    try {
      ino = statSync(dir).ino;
    } catch {
      // Not there (yet): polling re-reads its files and tries again on every tick.
      this.unwatch(dir);
      return;
    }
    if (this.watches.get(dir)?.ino === ino) return;
    this.unwatch(dir);
    try {
      const watcher = watch(dir, { persistent: false }, () => this.schedule());
      this.problems.delete(dir);
      watcher.on('error', (error) => {
        this.unwatch(dir);
        this.onError?.(
          new Error(`watching ${dir} failed; polling until it can be watched again`, { cause: error }),
        );
        this.schedule();
      });
      this.watches.set(dir, { watcher, ino });
    } catch (error) {
      // Reported once per directory and cause (e.g. ENOSPC: out of inotify watches), not on every poll.
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      if (this.problems.get(dir) === code) return;
      this.problems.set(dir, code);
      this.onError?.(new Error(`cannot watch ${dir} (${code}); polling instead`, { cause: error }));
    }
  }

  private unwatch(dir: string): void {
    this.watches.get(dir)?.watcher.close();
    this.watches.delete(dir);
  }

  private read(file: string): Buffer | undefined {
    try {
      const value = trimTrailingNewline(readFileSync(file));
      this.problems.delete(file);
      return value;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      // Not existing is a state (reported by missing() and onChange), not an error to log on every poll.
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && this.problems.get(file) !== code) {
        this.problems.set(file, code);
        this.onError?.(new Error(`cannot read secret file ${file} (${code})`));
      }
      return undefined;
    }
  }
}
