// Coarse timeouts for the per-request paths: one shared interval instead of a timer per request.
/** Long timeouts are checked this often, so they fire up to this much late. */
const DEADLINE_TICK_MS = 25;
/** Timeouts shorter than this get a timer of their own, to the millisecond. */
const PRECISE_BELOW_MS = 1_000;

/**
 * Timeouts that almost never fire, on paths taken for every webhook: a request's body timeout
 * (src/http/read-body.ts) and a Kubernetes request's (src/kube/client.ts, where a create's timeout is the
 * seconds left of its webhook's deadline). A timer each (setTimeout and clearTimeout, with a different duration
 * every time) was about 5 % of a create's CPU; long timeouts instead share one interval that runs only while
 * some are pending, and fire up to DEADLINE_TICK_MS late. The create path keeps more margin than that before
 * its webhook's deadline (src/kube/create.ts). Short ones keep a timer of their own, to the millisecond.
 */
export class Deadlines {
  private readonly pending = new Map<() => void, number>();
  private ticker: NodeJS.Timeout | undefined;

  /** Calls `fire` after `ms`; returns the function that cancels it. */
  after(ms: number, fire: () => void): () => void {
    if (ms < PRECISE_BELOW_MS) {
      const timer = setTimeout(fire, Math.max(0, ms));
      return () => clearTimeout(timer);
    }
    this.pending.set(fire, Date.now() + ms);
    // Unref'd: the request it guards keeps the process alive while it is pending.
    this.ticker ??= setInterval(() => this.tick(), DEADLINE_TICK_MS).unref();
    return () => this.pending.delete(fire);
  }

  private tick(): void {
    const now = Date.now();
    for (const [fire, at] of this.pending) {
      if (at > now) continue;
      this.pending.delete(fire);
      fire();
    }
    if (this.pending.size === 0) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}
