// One leader among the replicas (contract §12, §12.0 item 9), with client-go's leaderelection algorithm on a
// coordination.k8s.io/v1 Lease: optimistic concurrency on resourceVersion, only locally observed times (so
// clock skew between replicas does not matter), lease 15 s / renew deadline 10 s / retry 2 s, and a release
// on shutdown (empty holder, leaseDurationSeconds 1) so the next replica leads at once.
// Like client-go, it provides no fencing: an action is safe to repeat by design (./reconcile.ts).
import type { KubeClient, KubeResponse } from '../kube/client.js';

export interface LeaderTimings {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** client-go's "core clients default". */
export const DEFAULT_TIMINGS: LeaderTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

const JITTER_FACTOR = 1.2;
const ERROR_LOG_INTERVAL_MS = 60_000;

export interface LeaderOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly timings?: LeaderTimings;
  readonly onChange?: (leading: boolean) => void;
  /** Reading or writing the Lease failed; called at most once a minute. */
  readonly onError?: (message: string) => void;
  readonly now?: () => number;
  readonly random?: () => number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = { metadata: { resourceVersion?: string; name?: string }; spec?: LeaseSpec } & Record<
  string,
  unknown
>;

/** MicroTime: RFC 3339 with exactly six fractional digits (apimachinery's layout). */
export function microTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** client-go's config check: LeaseDuration > RenewDeadline > JitterFactor × RetryPeriod, all positive. */
export function checkTimings(t: LeaderTimings): string | undefined {
  if (!(t.leaseDurationMs > 0 && t.renewDeadlineMs > 0 && t.retryPeriodMs > 0))
    return 'all timings must be positive';
  if (t.leaseDurationMs <= t.renewDeadlineMs)
    return 'the lease duration must be greater than the renew deadline';
  if (t.renewDeadlineMs <= JITTER_FACTOR * t.retryPeriodMs) {
    return `the renew deadline must be greater than ${JITTER_FACTOR} × the retry period`;
  }
  return undefined;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private observedRaw = '';
  private observedTime = 0;
  private lastErrorLog = 0;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly timings: LeaderTimings;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly path: string;

  constructor(private readonly options: LeaderOptions) {
    this.timings = options.timings ?? DEFAULT_TIMINGS;
    const problem = checkTimings(this.timings);
    if (problem) throw new Error(`leader election: ${problem}`);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases`;
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; when leading, gives the Lease up so another replica leads at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      await this.release().catch(() => undefined);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Acquire: every retry period, jittered, until it succeeds.
      if (await this.tryAcquireOrRenew()) {
        this.setLeading(true);
        await this.renewLoop();
        if (this.stopped) return;
        this.setLeading(false);
      }
      await this.sleep(this.timings.retryPeriodMs * (1 + this.random() * JITTER_FACTOR));
    }
  }

  /** Renews every retry period; gives up leading when no renewal succeeded within the renew deadline. */
  private async renewLoop(): Promise<void> {
    let lastRenew = this.now();
    while (!this.stopped) {
      await this.sleep(this.timings.retryPeriodMs);
      if (this.stopped) return;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = this.now();
      } else if (this.now() - lastRenew >= this.timings.renewDeadlineMs) {
        return;
      }
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.options.onChange?.(leading);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private fail(message: string): false {
    const now = this.now();
    if (now - this.lastErrorLog >= ERROR_LOG_INTERVAL_MS) {
      this.lastErrorLog = now;
      this.options.onError?.(message);
    }
    return false;
  }

  private async call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
  ): Promise<KubeResponse | undefined> {
    try {
      return await this.options.client.request({
        method,
        path,
        body,
        timeoutMs: this.timings.retryPeriodMs * 2,
      });
    } catch (error) {
      this.fail(
        `the Lease ${this.options.namespace}/${this.options.name} could not be reached: ${(error as Error).message}`,
      );
      return undefined;
    }
  }

  /** client-go's tryAcquireOrRenew. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, name } = this.options;
    const now = this.now();
    const durationSeconds = Math.max(1, Math.ceil(this.timings.leaseDurationMs / 1000));
    const got = await this.call('GET', `${this.path}/${encodeURIComponent(name)}`);
    if (!got) return false;
    if (got.status === 404) {
      const created = await this.call('POST', this.path, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      if (!created) return false;
      if (created.status !== 201)
        return created.status === 409 ? false : this.fail(this.refusal('create', created));
      this.observe(created.body as Lease, now);
      return true;
    }
    if (got.status !== 200) return this.fail(this.refusal('read', got));
    const lease = got.body as Lease;
    const spec = lease.spec ?? {};
    const raw = JSON.stringify(spec);
    if (raw !== this.observedRaw) {
      this.observedRaw = raw;
      this.observedTime = now;
    }
    const holder = spec.holderIdentity ?? '';
    const heldBySomeoneElse = holder !== '' && holder !== identity;
    const duration = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (heldBySomeoneElse && this.observedTime + duration > now) return false;
    const wasMine = holder === identity;
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: wasMine && spec.acquireTime ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: wasMine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
    };
    const put = await this.call('PUT', `${this.path}/${encodeURIComponent(name)}`, { ...lease, spec: next });
    if (!put) return false;
    if (put.status === 409) return false; // another replica wrote first: optimistic concurrency
    if (put.status !== 200) return this.fail(this.refusal('update', put));
    this.observe(put.body as Lease, now);
    return true;
  }

  private observe(lease: Lease, now: number): void {
    this.observedRaw = JSON.stringify(lease.spec ?? {});
    this.observedTime = now;
  }

  /** client-go's release: empty holder, lease of one second, so the next replica need not wait it out. */
  private async release(): Promise<void> {
    const path = `${this.path}/${encodeURIComponent(this.options.name)}`;
    const got = await this.options.client.request({ method: 'GET', path, timeoutMs: 2_000 });
    if (got.status !== 200) return;
    const lease = got.body as Lease;
    if (lease.spec?.holderIdentity !== this.options.identity) return;
    const now = microTime(this.now());
    await this.options.client.request({
      method: 'PUT',
      path,
      timeoutMs: 2_000,
      body: {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
        },
      },
    });
  }

  private refusal(what: string, response: KubeResponse): string {
    const message = (response.body as { message?: unknown } | undefined)?.message;
    const detail = typeof message === 'string' ? `: ${message}` : '';
    return `could not ${what} the Lease ${this.options.namespace}/${this.options.name} (HTTP ${response.status})${detail}`;
  }
}
