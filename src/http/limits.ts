// How many webhooks the gateway works on at once, and how the slots are shared between routes (issue #6).
//
// A webhook holds a slot from the moment its whole body has arrived until its answer is written: that covers
// the pipeline (CEL, the cluster calls). A body still arriving counts only against the byte budget
// (./byte-budget.ts, contract §3 item 2), so slow senders cannot take the slots of others. The policy, also
// described in docs/operations.md:
//   - at most `max` webhooks in flight in total, and at most `perRoute` of them on any one route, so one
//     noisy route (a repository pushing hundreds of tags, a replay storm) can never take every slot;
//   - a webhook that finds no slot waits in its route's queue for at most `maxWaitMs` (bounded by its own
//     deadline), then gets 503 + Retry-After; a queue holds at most `perRoute` waiters, beyond that the
//     answer is 503 at once;
//   - a freed slot goes to the routes with waiters in turn (round robin), never to the longest queue, so a
//     quiet route's single webhook is not stuck behind a noisy route's backlog.
// Waiting requests hold their bodies, within the byte budget.

export interface LimitSettings {
  /** Webhooks in flight in total. */
  readonly max: number;
  /** Webhooks in flight on one route. */
  readonly perRoute: number;
  /** Longest wait for a slot; a request's own deadline can make it shorter. */
  readonly maxWaitMs: number;
}

export const DEFAULT_MAX_IN_FLIGHT = 64;
/** Leaves most of the 9 s answer budget (gateway.requestTimeoutMs) for the work itself. */
export const DEFAULT_MAX_WAIT_MS = 2_000;
/**
 * Retry-After of a 503 at capacity or over the byte budget (contract §12.0 item 13): slots and bytes free up
 * as soon as answers go out, so a short pause is enough.
 */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/** The per-route share when none is configured: half of the slots, so at least two routes always fit. */
export function defaultPerRoute(max: number): number {
  return Math.max(1, Math.ceil(max / 2));
}

/** Gives the slot back; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  readonly admit: (release: Release) => void;
  readonly timer: NodeJS.Timeout;
}

interface RouteSlots {
  active: number;
  readonly waiting: Waiter[];
}

export class InFlightLimiter {
  readonly settings: LimitSettings;
  private total = 0;
  private readonly routes = new Map<string, RouteSlots>();
  /** Routes with waiters, in the order their turn comes (the one just served moves to the back). */
  private readonly turns = new Set<string>();

  constructor(settings: LimitSettings) {
    if (settings.max < 1 || settings.perRoute < 1) throw new Error('in-flight limits must be at least 1');
    this.settings = { ...settings, perRoute: Math.min(settings.perRoute, settings.max) };
  }

  /** Webhooks holding a slot now. */
  get inFlight(): number {
    return this.total;
  }

  /** Requests waiting for a slot now. */
  get waiting(): number {
    let n = 0;
    for (const slots of this.routes.values()) n += slots.waiting.length;
    return n;
  }

  /**
   * A slot for a webhook on `route` (the route's path from the config), or undefined when none came free
   * within `waitMs` (capped at the configured wait) or the route's queue is full.
   */
  acquire(route: string, waitMs: number = this.settings.maxWaitMs): Promise<Release | undefined> {
    const now = this.tryAcquire(route);
    if (now !== undefined) return Promise.resolve(now);
    const slots = this.slots(route);
    const wait = Math.min(waitMs, this.settings.maxWaitMs);
    if (wait <= 0 || slots.waiting.length >= this.settings.perRoute) {
      this.forget(route, slots);
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          const at = slots.waiting.indexOf(waiter);
          if (at >= 0) slots.waiting.splice(at, 1);
          if (slots.waiting.length === 0) this.turns.delete(route);
          this.forget(route, slots);
          resolve(undefined);
        }, wait),
      };
      slots.waiting.push(waiter);
      this.turns.add(route);
    });
  }

  /**
   * A slot now, when one is free and nobody waits for it; else undefined (then `acquire` waits). Synchronous,
   * so the common case costs the webhook path no turn of the microtask queue.
   */
  tryAcquire(route: string): Release | undefined {
    const slots = this.slots(route);
    if (slots.waiting.length === 0 && this.fits(slots)) return this.take(route, slots);
    this.forget(route, slots);
    return undefined;
  }

  private fits(slots: RouteSlots): boolean {
    return this.total < this.settings.max && slots.active < this.settings.perRoute;
  }

  private take(route: string, slots: RouteSlots): Release {
    this.total++;
    slots.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      slots.active--;
      this.pump();
      this.forget(route, slots);
    };
  }

  /** Hands free slots to waiters, one route at a time in turn. */
  private pump(): void {
    while (this.total < this.settings.max) {
      let admitted = false;
      for (const route of this.turns) {
        const slots = this.routes.get(route)!;
        if (!this.fits(slots)) continue;
        const waiter = slots.waiting.shift()!;
        clearTimeout(waiter.timer);
        // Its turn is over: to the back of the line, or out of it when its queue is empty.
        this.turns.delete(route);
        if (slots.waiting.length > 0) this.turns.add(route);
        waiter.admit(this.take(route, slots));
        admitted = true;
        break;
      }
      if (!admitted) return;
    }
  }

  private slots(route: string): RouteSlots {
    let slots = this.routes.get(route);
    if (!slots) {
      slots = { active: 0, waiting: [] };
      this.routes.set(route, slots);
    }
    return slots;
  }

  /** Routes come and go with reloads: an idle one is dropped so the map stays as small as the config. */
  private forget(route: string, slots: RouteSlots): void {
    if (slots.active === 0 && slots.waiting.length === 0 && this.routes.get(route) === slots) {
      this.routes.delete(route);
    }
  }
}
