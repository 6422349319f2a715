// Fires schedule slots (contract §13, §12.0 items 8 and 11). It owns timers and nothing else: what a slot
// does is the `run` function it is handed (the pipeline), who may fire is `isLeader`, and time is a Clock,
// so tests drive minutes and DST nights without waiting for them.
//
// - Each slot fires once per leader: a slot is `handled` once fired (or left to another leader, or
//   skipped), and dedupe (§6: eventId `<name>-<YYYYMMDDTHHMMSSZ>` is the key) makes a second replica's
//   create `duplicate`, so exactly-once holds across replicas without coordination.
// - Start-up and reload catch up the latest slot not older than startingDeadlineSeconds; an older one is
//   skipped (at start-up: reported). A timer that fires late (a paused process) runs every passed slot
//   still within its deadline and skips the rest.
// - A transient failure (the cluster unavailable, or the create deadline) is retried with backoff until
//   the next slot or the slot's deadline, whichever comes first.
// - A slot fires on the snapshot that was serving when it began; a reload re-plans timers at once.
import type { Config, Schedule, TriggerOutcome } from '../model.js';
import { slotEventId, type Slot } from '../pipeline/slot.js';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type SlotResult = 'created' | 'duplicate' | 'failed' | 'skipped' | 'rendered';

export interface SlotReport {
  readonly schedule: Schedule;
  readonly slot: Slot;
  readonly result: SlotResult;
  /** The pipeline's outcome; absent for `skipped`. */
  readonly outcome: TriggerOutcome | undefined;
  /** Why a slot was skipped or failed. */
  readonly reason: string | undefined;
  /** Pipeline runs for this slot (retries included). */
  readonly attempts: number;
  /** From the slot time to the end of the last attempt. */
  readonly lateMs: number;
  readonly cause: 'timer' | 'catch-up';
}

export interface SchedulerDeps {
  readonly clock: Clock;
  /** Only the leader fires (§12.0 item 11); the Lease lives elsewhere. */
  readonly isLeader: () => boolean;
  /** One slot through the pipeline, finished by `deadline` (epoch ms). */
  readonly run: (
    config: Config,
    schedule: Schedule,
    slot: Slot,
    deadline: number,
  ) => Promise<TriggerOutcome> | TriggerOutcome;
  readonly onSlot: (report: SlotReport) => void;
  /** The next slot of a schedule (undefined: none, or the schedule was removed). */
  readonly onNext: (name: string, nextMs: number | undefined) => void;
  /** A slot left to the leader, or the waits before it; for debug logs. */
  readonly onNote?: (message: string, fields: Record<string, unknown>) => void;
}

/** How often a replica that is not leading looks again while a slot is still within its window. */
export const LEADER_POLL_MS = 1_000;
/** Timers are re-armed at least this often, so a stepped wall clock (NTP) delays no slot for long. */
const MAX_TIMER_MS = 60_000;
/** Backoff between attempts of a failed slot: 1 s doubling to 16 s. */
const RETRY_BASE_MS = 1_000;
const RETRY_CAP_MS = 16_000;
/** Passed slots walked after a late timer; more are counted as one skip line. */
const MAX_PASSED = 1_000;

interface Entry {
  config: Config;
  schedule: Schedule;
  next: number | undefined;
  timer: unknown;
  /** The latest slot fired, skipped or left to the leader. */
  handled: number;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sleepers = new Set<() => void>();
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Plans `config`'s schedules: removed ones stop, new and changed ones catch up, timers re-arm. */
  apply(config: Config, cause: 'start' | 'reload'): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const wanted = new Set(config.schedules.map((s) => s.name));
    for (const [name, entry] of this.entries) {
      if (wanted.has(name)) continue;
      this.deps.clock.clearTimer(entry.timer);
      this.entries.delete(name);
      this.deps.onNext(name, undefined);
    }
    for (const schedule of config.schedules) {
      const old = this.entries.get(schedule.name);
      if (old) this.deps.clock.clearTimer(old.timer);
      const entry: Entry = {
        config,
        schedule,
        next: undefined,
        timer: undefined,
        handled: old?.handled ?? Number.NEGATIVE_INFINITY,
      };
      this.entries.set(schedule.name, entry);
      const latest = schedule.cron.previous(now);
      if (latest !== undefined && latest > entry.handled) {
        entry.handled = latest;
        if (now - latest <= schedule.startingDeadlineSeconds * 1000) {
          this.fire(entry, latest, 'catch-up');
        } else if (cause === 'start') {
          // The gateway was down (or not yet deployed) at that slot. On a reload the slot belongs to a
          // schedule that was just added or changed, so it was never due: nothing to report.
          this.skip(entry, latest, now, 'catch-up');
        }
      }
      entry.next = schedule.cron.next(now);
      this.arm(entry);
    }
  }

  /** Stops timers and retries; slots being created finish on their own (see `idle`). */
  stop(): void {
    this.stopped = true;
    for (const entry of this.entries.values()) this.deps.clock.clearTimer(entry.timer);
    this.entries.clear();
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  /** Resolves once no slot is being fired (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** The next slot of each schedule, for `routes`-like views and tests. */
  nextSlots(): ReadonlyMap<string, number | undefined> {
    return new Map([...this.entries].map(([name, e]) => [name, e.next]));
  }

  private arm(entry: Entry): void {
    this.deps.onNext(entry.schedule.name, entry.next);
    if (entry.next === undefined || this.stopped) return;
    const delay = Math.min(Math.max(0, entry.next - this.deps.clock.now()), MAX_TIMER_MS);
    entry.timer = this.deps.clock.setTimer(() => this.onTimer(entry), delay);
  }

  private onTimer(entry: Entry): void {
    if (this.stopped || this.entries.get(entry.schedule.name) !== entry || entry.next === undefined) return;
    const now = this.deps.clock.now();
    if (now >= entry.next) {
      const { schedule } = entry;
      const due: number[] = [];
      for (let s: number | undefined = entry.next; s !== undefined && s <= now; s = schedule.cron.next(s)) {
        if (s > entry.handled) due.push(s);
        if (due.length > MAX_PASSED) due.shift();
      }
      for (const slot of due) {
        entry.handled = slot;
        if (now - slot <= schedule.startingDeadlineSeconds * 1000) this.fire(entry, slot, 'timer');
        else this.skip(entry, slot, now, 'timer');
      }
      entry.next = schedule.cron.next(now);
    }
    this.arm(entry);
  }

  private skip(entry: Entry, time: number, now: number, cause: SlotReport['cause']): void {
    const { schedule } = entry;
    this.deps.onSlot({
      schedule,
      slot: { time, eventId: slotEventId(schedule.name, time) },
      result: 'skipped',
      outcome: undefined,
      reason: `missed by ${Math.round((now - time) / 1000)} s, more than startingDeadlineSeconds (${schedule.startingDeadlineSeconds})`,
      attempts: 0,
      lateMs: now - time,
      cause,
    });
  }

  private fire(entry: Entry, time: number, cause: SlotReport['cause']): void {
    // The snapshot of this moment: a reload during the slot changes nothing about it (§12.0 item 8).
    const { config, schedule } = entry;
    const work = this.runSlot(config, schedule, time, cause).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  private async runSlot(
    config: Config,
    schedule: Schedule,
    time: number,
    cause: SlotReport['cause'],
  ): Promise<void> {
    const { clock } = this.deps;
    const slot: Slot = { time, eventId: slotEventId(schedule.name, time) };
    const until = Math.min(
      schedule.cron.next(time) ?? Number.POSITIVE_INFINITY,
      time + schedule.startingDeadlineSeconds * 1000,
    );
    while (!this.deps.isLeader()) {
      if (this.stopped || clock.now() + LEADER_POLL_MS >= until) {
        this.deps.onNote?.('slot left to the leader', { schedule: schedule.name, eventId: slot.eventId });
        return;
      }
      await this.sleep(LEADER_POLL_MS);
    }
    let attempts = 0;
    let outcome: TriggerOutcome;
    for (;;) {
      attempts++;
      // Retries stop at `until`, but an attempt itself may take as long as a webhook's create: a slot fired
      // late on a busy node, just before its next slot, still gets a whole attempt.
      const deadline = Math.max(until, clock.now() + config.gateway.requestTimeoutMs);
      try {
        outcome = await this.deps.run(config, schedule, slot, deadline);
      } catch (error) {
        // A bug, not an outage: reported and counted as failed, never an unhandled rejection.
        this.deps.onSlot({
          schedule,
          slot,
          result: 'failed',
          outcome: undefined,
          reason: `internal error: ${error instanceof Error ? error.message : String(error)}`,
          attempts,
          lateMs: clock.now() - time,
          cause,
        });
        return;
      }
      if (outcome.outcome !== 'failed' || !retryable(outcome) || this.stopped) break;
      const wait = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
      if (clock.now() + wait >= until) break;
      this.deps.onNote?.('slot failed; retrying', {
        schedule: schedule.name,
        eventId: slot.eventId,
        attempt: attempts,
        reason: outcome.reason,
        retryInMs: wait,
      });
      await this.sleep(wait);
      if (this.stopped) break;
    }
    this.deps.onSlot({
      schedule,
      slot,
      result: outcome.outcome === 'skipped' ? 'failed' : outcome.outcome,
      outcome,
      reason: outcome.outcome === 'failed' || outcome.outcome === 'skipped' ? outcome.reason : undefined,
      attempts,
      lateMs: clock.now() - time,
      cause,
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        this.deps.clock.clearTimer(handle);
        resolve();
      };
      this.sleepers.add(wake);
      const handle = this.deps.clock.setTimer(wake, ms);
    });
  }
}

function retryable(outcome: TriggerOutcome & { outcome: 'failed' }): boolean {
  return outcome.failure === 'cluster-unavailable' || outcome.failure === 'timeout';
}
