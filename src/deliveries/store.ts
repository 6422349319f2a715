// The deliveries one replica remembers (contract §14, §12.0 item 12): a bounded, in-memory record, oldest out
// first. Two rings, so that a flood of unsigned junk cannot push real deliveries out:
//   - verified: at most `max` entries and `maxBytes` of stored bodies and answers, bodies kept (replayable),
//     except a body over maxBytes/4, which is kept without its body;
//   - unverified (refused before or at the signature check, or turned away at capacity): the last 50,
//     never with a body.
// Nothing here survives a restart, and each replica knows only what it answered (docs/operations.md).
import type { DeliveryBounds, HeaderMap, JsonObject, TriggerOutcome } from '../model.js';
import { triggerJson } from '../http/respond.js';

export const UNVERIFIED_RING = 50;

export interface StoredRequest {
  readonly method: string;
  /** Path and query, query values redacted. */
  readonly path: string;
  /** Lower-case names; secret values already `<redacted>`. */
  readonly headers: HeaderMap;
  /** The exact bytes received; undefined for unverified requests and bodies over maxBytes/4. */
  readonly body: Buffer | undefined;
  /** Bytes received, also when the body is not kept. */
  readonly bodyBytes: number;
  /** Why the body is not kept, when it is not. */
  readonly bodyOmitted?: string;
}

export interface StoredDelivery {
  readonly eventId: string;
  /** Epoch milliseconds when the answer was sent. */
  readonly timeMs: number;
  /** The route path, '' when no route matched. */
  readonly route: string;
  readonly provider: string;
  readonly event: string | undefined;
  readonly status: number;
  readonly durationMs: number;
  readonly replica: string;
  /** Passed signature verification (its body is kept and it can be replayed). */
  readonly verified: boolean;
  /** The §3 trigger entries; a background retry (§3) replaces them when it finishes. */
  readonly triggers: readonly JsonObject[];
  /** The refusal's message, when the request was refused before any trigger ran. */
  readonly error: string | undefined;
  /** The eventId of the delivery this one replays. */
  readonly replayOf: string | undefined;
  /** The §6 dedupe key on arrival, reused by replays; never shown (it may be a hash of the body). */
  readonly dedupeKey: string | undefined;
  readonly request: StoredRequest;
  readonly response: { readonly status: number; readonly body: JsonObject };
  /** When a background retry last changed `triggers` (epoch ms). */
  readonly updatedMs: number | undefined;
  /** What this entry counts against maxBytes. */
  readonly bytes: number;
}

export interface DeliveryFilter {
  readonly route?: string | undefined;
  /** A trigger outcome (`created`, `skipped`, …), or `rejected` for requests refused before any trigger. */
  readonly outcome?: string | undefined;
  readonly limit: number;
}

export class DeliveryStore {
  private readonly verified: StoredDelivery[] = [];
  private readonly unverified: StoredDelivery[] = [];
  private verifiedBytes = 0;

  constructor(
    /** Read at every insert, so a reload that lowers the bounds applies at the next delivery. */
    private readonly bounds: () => DeliveryBounds,
    /** Called with the new total after every change (the deliveries_stored gauge). */
    private readonly onCount: (count: number) => void = () => {},
  ) {}

  get size(): number {
    return this.verified.length + this.unverified.length;
  }

  /** Bytes counted against maxBytes now. */
  get bytes(): number {
    return this.verifiedBytes;
  }

  add(entry: StoredDelivery): void {
    if (entry.verified) {
      this.verified.push(entry);
      this.verifiedBytes += entry.bytes;
      this.trim();
    } else {
      this.unverified.push(entry);
      if (this.unverified.length > UNVERIFIED_RING) this.unverified.shift();
    }
    this.onCount(this.size);
  }

  /** Newest first, both rings merged. */
  list(filter: DeliveryFilter): StoredDelivery[] {
    const out: StoredDelivery[] = [];
    let v = this.verified.length - 1;
    let u = this.unverified.length - 1;
    while (out.length < filter.limit && (v >= 0 || u >= 0)) {
      const takeVerified = u < 0 || (v >= 0 && this.verified[v]!.timeMs >= this.unverified[u]!.timeMs);
      const d = takeVerified ? this.verified[v--]! : this.unverified[u--]!;
      if (matches(d, filter)) out.push(d);
    }
    return out;
  }

  /** The newest delivery with this eventId (a redelivery may reuse one). */
  get(eventId: string): StoredDelivery | undefined {
    return this.list({ limit: Number.MAX_SAFE_INTEGER }).find((d) => d.eventId === eventId);
  }

  /** The next free `n` for `<eventId>-replay-<n>`. */
  nextReplayNumber(eventId: string): number {
    const prefix = `${eventId}-replay-`;
    let n = 0;
    for (const d of this.verified) {
      if (d.replayOf === eventId && d.eventId.startsWith(prefix)) {
        n = Math.max(n, Number(d.eventId.slice(prefix.length)) || 0);
      }
    }
    return n + 1;
  }

  /**
   * A background retry (contract §3, #15) finished: the stored delivery's triggers take the final outcomes
   * (matched by trigger name; others keep theirs). The answer already sent is kept as it was in `response`.
   * Returns whether a delivery was found (it may have been pushed out meanwhile).
   */
  updateOutcome(eventId: string, triggers: readonly TriggerOutcome[], now = Date.now()): boolean {
    const i = findLastIndex(this.verified, (d) => d.eventId === eventId && d.replayOf === undefined);
    if (i < 0) return false;
    const old = this.verified[i]!;
    const byName = new Map(triggers.map((t) => [t.name, triggerJson(t)]));
    const next = old.triggers.map((t) => byName.get(String(t['name'])) ?? t);
    for (const [name, t] of byName) if (!old.triggers.some((o) => o['name'] === name)) next.push(t);
    this.verified[i] = { ...old, triggers: next, updatedMs: now };
    return true;
  }

  private trim(): void {
    const { max, maxBytes } = this.bounds();
    while (this.verified.length > max || (this.verifiedBytes > maxBytes && this.verified.length > 0)) {
      this.verifiedBytes -= this.verified.shift()!.bytes;
    }
  }
}

function matches(d: StoredDelivery, filter: DeliveryFilter): boolean {
  if (filter.route !== undefined && d.route !== filter.route) return false;
  if (filter.outcome === undefined) return true;
  if (filter.outcome === 'rejected') return d.error !== undefined;
  return d.triggers.some((t) => t['outcome'] === filter.outcome);
}

function findLastIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return i;
  return -1;
}
