// Background completion (contract §3, §12.0 item 13): after a 503, keep creating what a delivery with a
// dedupe key left missing, with the same names, until gateway.retryWindowSeconds has passed. GitHub and
// Gitea never redeliver on their own, so without this a push during an API outage is lost.
//
// The names are deterministic (the dedupe key), so this retrier, a redelivery by the sender and another
// replica's retrier can all race to create the same object: one gets 201, the others AlreadyExists, which
// counts as done. Jobs hold their rendered objects in memory, so they are bounded by count and by bytes
// (the bytes are taken from the same budget as request bodies when serve wires it so). Every job ends in
// exactly one BackgroundFinal, handed to every subscriber (metrics and logs in serve; the deliveries page
// and the status reporter subscribe the same way).
import type { BackgroundFinal, BackgroundJob, CreateFn, JsonObject, ResourceRef } from './model.js';
import { resourceRef } from './pipeline/render.js';

/** Bytes held by pending jobs; `take` says no when the budget would be exceeded. */
export interface ByteBudget {
  take(bytes: number): boolean;
  give(bytes: number): void;
}

/** A budget of its own, when serve has no shared one. */
export function byteBudget(max: number): ByteBudget & { readonly used: number } {
  let used = 0;
  return {
    get used() {
      return used;
    },
    take(bytes) {
      if (used + bytes > max) return false;
      used += bytes;
      return true;
    },
    give(bytes) {
      used = Math.max(0, used - bytes);
    },
  };
}

export interface BackgroundOptions {
  readonly create: CreateFn;
  /** Pending jobs at most; one more is refused (the 503 then carries no `retrying`). */
  readonly maxJobs: number;
  readonly budget: ByteBudget;
  /** Time given to each round of attempts (create retries inside it); the webhook deadline, typically. */
  readonly attemptMs: number;
  readonly now?: () => number;
  /** Jitter source in [0, 1). */
  readonly random?: () => number;
  /** First wait after the 503, then doubling to `maxBackoffMs`. */
  readonly firstBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A job refused because a bound was reached (metric and log line in serve). */
  readonly onRefused?: (job: BackgroundJob, bound: 'count' | 'bytes') => void;
  /** Each object created in the background (resources_created_total). */
  readonly onCreated?: (job: BackgroundJob, object: JsonObject) => void;
}

export type BackgroundListener = (final: BackgroundFinal) => void;

const DEFAULT_FIRST_BACKOFF_MS = 1_000;
const DEFAULT_MAX_BACKOFF_MS = 15_000;
const MIN_ATTEMPT_MS = 500;
const DRAIN_WAIT_MS = 1_000;

interface Pending {
  readonly key: string;
  readonly job: BackgroundJob;
  readonly bytes: number;
  readonly retryUntil: number;
  readonly stop: AbortController;
  /** What exists so far, attempts made, and the last problem: an abandon reports them as they stand. */
  readonly resources: ResourceRef[];
  attempts: number;
  lastProblem: string;
  /** Ends the current wait early (drain); set only while waiting. */
  wake: (() => void) | undefined;
  /** Resolves when the job has ended (its final emitted). */
  finished: Promise<void>;
  ended: boolean;
}

export class BackgroundRetries {
  private readonly pending = new Map<string, Pending>();
  private readonly listeners: BackgroundListener[] = [];
  private readonly now: () => number;
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly options: BackgroundOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /**
   * Subscribes to the final outcome of every job (created, duplicate, gave_up, abandoned). Returns the
   * unsubscribe function. A listener that throws is ignored: one subscriber cannot break another.
   */
  subscribe(listener: BackgroundListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at !== -1) this.listeners.splice(at, 1);
    };
  }

  /** Jobs still retrying. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Takes a job over, or refuses it (undefined) when closed or past a bound. A second job for the same
   * delivery and trigger (the sender redelivered during the outage) joins the first: same names, same end.
   */
  accept(job: BackgroundJob): { readonly retryUntil: number } | undefined {
    if (this.closed) return undefined;
    const key = JSON.stringify([job.eventId, job.route, job.trigger]);
    const existing = this.pending.get(key);
    if (existing) return { retryUntil: existing.retryUntil };
    if (this.pending.size >= this.options.maxJobs) {
      this.options.onRefused?.(job, 'count');
      return undefined;
    }
    const bytes = jobBytes(job);
    if (!this.options.budget.take(bytes)) {
      this.options.onRefused?.(job, 'bytes');
      return undefined;
    }
    const entry: Pending = {
      key,
      job,
      bytes,
      retryUntil: this.now() + job.windowSeconds * 1000,
      stop: new AbortController(),
      resources: [...job.done],
      attempts: 0,
      lastProblem: 'the cluster was unavailable',
      wake: undefined,
      finished: Promise.resolve(),
      ended: false,
    };
    this.pending.set(key, entry);
    entry.finished = this.run(entry).then(
      (final) => this.end(entry, final),
      (error: unknown) => this.end(entry, final(entry, 'gave_up', `internal error: ${String(error)}`)),
    );
    return { retryUntil: entry.retryUntil };
  }

  /**
   * SIGTERM: accept nothing more, let the pending jobs go on until `deadline` (epoch ms), then abandon the
   * rest. Resolves with the finals of the abandoned jobs (each also went to the listeners).
   */
  async drain(deadline: number): Promise<BackgroundFinal[]> {
    this.closed = true;
    // One attempt now for every job waiting out a backoff: the time left is bounded, and a cluster that is
    // back should not wait for a backoff to expire. Later waits are at most DRAIN_WAIT_MS.
    for (const entry of this.pending.values()) entry.wake?.();
    const all = Promise.all([...this.pending.values()].map((p) => p.finished));
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - this.now()));
    });
    await Promise.race([all, timeUp]);
    clearTimeout(timer);
    return this.abandonAll();
  }

  /**
   * Stops every pending job now and reports each as `abandoned`, synchronously (the process may exit next).
   * A create still in flight is not waited for: whether it lands is unknown, which is what abandoned says.
   */
  abandonAll(): BackgroundFinal[] {
    this.closed = true;
    const finals: BackgroundFinal[] = [];
    for (const entry of [...this.pending.values()]) {
      entry.stop.abort();
      const abandoned = final(
        entry,
        'abandoned',
        `the gateway stopped before the cluster answered: ${entry.lastProblem}`,
      );
      this.end(entry, abandoned);
      finals.push(abandoned);
    }
    return finals;
  }

  private end(entry: Pending, result: BackgroundFinal): void {
    if (entry.ended) return;
    entry.ended = true;
    this.pending.delete(entry.key);
    this.options.budget.give(entry.bytes);
    for (const listener of [...this.listeners]) {
      try {
        listener(result);
      } catch {
        // A subscriber's bug must not stop the others or the retrier.
      }
    }
  }

  private async run(entry: Pending): Promise<BackgroundFinal> {
    const { job, retryUntil, stop } = entry;
    let createdAny = false;
    let backoff = this.options.firstBackoffMs ?? DEFAULT_FIRST_BACKOFF_MS;
    const maxBackoff = this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    let waitMs = backoff;
    for (const request of job.creates) {
      for (;;) {
        // Wait first: the create just failed at the webhook's deadline (or the previous round here).
        // While draining (SIGTERM) the time left is short and bounded: try every second rather than sit out a
        // long backoff or Retry-After past the shutdown timeout.
        const paced = this.closed ? Math.min(waitMs, DRAIN_WAIT_MS) : waitMs;
        const wait = Math.min(paced, Math.max(0, retryUntil - this.now()));
        if (wait > 0) await nap(entry, wait);
        if (stop.signal.aborted) return final(entry, 'abandoned', entry.lastProblem);
        const left = retryUntil - this.now();
        // Too little time for an attempt to finish (create keeps a margin and a minimum per attempt).
        // The reason leads with what happened: it becomes the commit's `error` description, cut at 140.
        if (left < MIN_ATTEMPT_MS) {
          return final(
            entry,
            'gave_up',
            `the cluster was unavailable until the retry window closed: ${entry.lastProblem}`,
          );
        }
        entry.attempts++;
        const result = await this.options.create({
          ...request,
          deadline: this.now() + Math.min(this.options.attemptMs, left),
        });
        if (result.kind === 'created') {
          createdAny = true;
          entry.resources.push(resourceRef({ ...request.object, ...result.object }));
          this.options.onCreated?.(entry.job, request.object);
          break;
        }
        if (result.kind === 'exists') {
          // A deterministic name: created by our own lost attempt, a redelivery or another replica.
          entry.resources.push(resourceRef(request.object));
          break;
        }
        if (result.kind === 'refused') {
          return final(entry, 'gave_up', `the cluster refused it (HTTP ${result.code}): ${result.message}`);
        }
        entry.lastProblem = result.message;
        backoff = Math.min(maxBackoff, backoff * 2);
        const jittered = backoff / 2 + (backoff / 2) * this.random();
        waitMs = Math.max(jittered, (result.retryAfterSeconds ?? 0) * 1000);
      }
      waitMs = 0;
    }
    return final(entry, createdAny ? 'created' : 'duplicate', undefined);
  }
}

function final(
  entry: Pending,
  result: BackgroundFinal['result'],
  reason: string | undefined,
): BackgroundFinal {
  return {
    eventId: entry.job.eventId,
    route: entry.job.route,
    trigger: entry.job.trigger,
    result,
    resources: [...entry.resources],
    reason,
    attempts: entry.attempts,
  };
}

/** Waits `ms`, or less when the job is stopped or woken. */
function nap(entry: Pending, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      entry.stop.signal.removeEventListener('abort', done);
      entry.wake = undefined;
      resolve();
    };
    const timer = setTimeout(done, ms);
    entry.stop.signal.addEventListener('abort', done, { once: true });
    entry.wake = done;
  });
}

/** What the job holds: its rendered objects, as the JSON the API is sent. */
function jobBytes(job: BackgroundJob): number {
  let bytes = 0;
  for (const c of job.creates) bytes += Buffer.byteLength(JSON.stringify(c.object));
  return bytes;
}
