// List + watch for one kind in one namespace, supervised (contract §12.0 item 9, §12.1a): the watch asks the
// server to end it after timeoutSeconds ≤ 15, is aborted here after 20 s without any event (a dead load
// balancer keeps a silent connection open), resumes from the last resourceVersion seen (bookmarks included),
// relists on 410 Expired, and backs off on errors. Written on the lean client rather than client-node's
// informer, which has no client-side timeout and stops on any error but 410 (docs/architecture.md).
import { KubeStatusError, type KubeClient } from '../kube/client.js';

type Json = Record<string, unknown>;
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchTimings {
  readonly timeoutSeconds: number;
  readonly inactivityMs: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_WATCH_TIMINGS: WatchTimings = {
  timeoutSeconds: 15,
  inactivityMs: 20_000,
  backoffMs: 500,
  // A cut connection is noticed and re-established within 8 s (§12.1a) even after repeated failures.
  maxBackoffMs: 4_000,
};

export interface RunWatchOptions {
  readonly client: KubeClient;
  /** The collection, e.g. /apis/tekton.dev/v1/namespaces/ci/pipelineruns. */
  readonly path: string;
  readonly labelSelector: string;
  /** After every (re)list: every object that exists now. */
  readonly onList: (objects: readonly Json[]) => void;
  readonly onEvent: (type: WatchEventType, object: Json) => void;
  readonly onError?: (message: string) => void;
  /** Each list and each watch opened (for tests and debug logs). */
  readonly onRequest?: (kind: 'list' | 'watch', reason: string) => void;
  readonly timings?: WatchTimings;
}

export class RunWatch {
  private stopped = false;
  private resourceVersion: string | undefined;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private backoff: number;
  private readonly timings: WatchTimings;
  private sleeping: (() => void) | undefined;

  constructor(private readonly options: RunWatchOptions) {
    this.timings = options.timings ?? DEFAULT_WATCH_TIMINGS;
    this.backoff = this.timings.backoffMs;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.controller?.abort();
    this.sleeping?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let reason = 'start';
    while (!this.stopped) {
      if (this.resourceVersion === undefined) {
        if (!(await this.list(reason))) {
          await this.pause();
          continue;
        }
      }
      const opened = Date.now();
      reason = await this.watchOnce();
      // A stream the server ends at once, again and again, must not become a busy loop (client-node#1933).
      if (reason === 'ended' && Date.now() - opened >= 1_000) continue;
      if (reason !== 'expired' && reason !== 'silent') await this.pause();
    }
  }

  private async list(reason: string): Promise<boolean> {
    this.options.onRequest?.('list', reason);
    try {
      const response = await this.options.client.request({
        method: 'GET',
        path: this.options.path,
        query: { labelSelector: this.options.labelSelector },
        timeoutMs: 30_000,
      });
      if (response.status !== 200) {
        this.options.onError?.(`listing ${this.options.path} answered HTTP ${response.status}`);
        return false;
      }
      const body = response.body as { metadata?: { resourceVersion?: string }; items?: Json[] };
      this.options.onList(body.items ?? []);
      this.resourceVersion = body.metadata?.resourceVersion;
      this.backoff = this.timings.backoffMs;
      return this.resourceVersion !== undefined;
    } catch (error) {
      this.options.onError?.(`listing ${this.options.path} failed: ${(error as Error).message}`);
      return false;
    }
  }

  /** One watch from the current resourceVersion; says why it ended. */
  private async watchOnce(): Promise<'ended' | 'expired' | 'silent' | 'error'> {
    this.options.onRequest?.('watch', this.resourceVersion ?? '');
    const controller = new AbortController();
    this.controller = controller;
    let silent = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        silent = true;
        controller.abort();
      }, this.timings.inactivityMs);
    };
    arm();
    try {
      const stream = this.options.client.watch({
        method: 'GET',
        path: this.options.path,
        query: {
          labelSelector: this.options.labelSelector,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(this.timings.timeoutSeconds),
        },
        signal: controller.signal,
        timeoutMs: 10_000,
      });
      for await (const raw of stream) {
        arm();
        const event = raw as { type?: string; object?: Json };
        const object = event.object ?? {};
        if (event.type === 'ERROR') {
          if (object['code'] === 410) {
            this.resourceVersion = undefined;
            return 'expired';
          }
          this.options.onError?.(`watch ${this.options.path}: ${String(object['message'] ?? 'error event')}`);
          this.resourceVersion = undefined;
          return 'error';
        }
        const rv = (object['metadata'] as Json | undefined)?.['resourceVersion'];
        if (typeof rv === 'string') this.resourceVersion = rv;
        if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
          this.options.onEvent(event.type, object);
        }
      }
      this.backoff = this.timings.backoffMs;
      return 'ended';
    } catch (error) {
      if (this.stopped) return 'ended';
      if (silent) {
        // Nothing for inactivityMs: the connection may be dead, and events may be lost with it.
        this.resourceVersion = undefined;
        return 'silent';
      }
      if (error instanceof KubeStatusError && error.response.status === 410) {
        this.resourceVersion = undefined;
        return 'expired';
      }
      this.options.onError?.(`watch ${this.options.path} failed: ${(error as Error).message}`);
      return 'error';
    } finally {
      clearTimeout(timer);
    }
  }

  private async pause(): Promise<void> {
    const ms = this.backoff * (0.5 + Math.random() / 2);
    this.backoff = Math.min(this.backoff * 2, this.timings.maxBackoffMs);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.sleeping = done;
    });
  }
}
