// A clock tests drive: timers fire in time order as `advanceTo` moves `now`, with the promise jobs each
// timer starts settled before the next one fires, so async work behaves as it would in real time.
import type { Clock } from '../../src/schedule/scheduler.js';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  private timers: Timer[] = [];
  private ids = 0;

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { id: ++this.ids, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Fires every timer due up to `ms` in order, settling promise work after each. */
  async advanceTo(ms: number): Promise<void> {
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= ms).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
      await settle();
    }
    this.current = Math.max(this.current, ms);
    await settle();
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.current + ms);
  }

  /** Moves `now` without firing timers: a process that was paused (or a stepped wall clock). */
  jump(ms: number): void {
    this.current += ms;
  }
}

/** Lets pending promise jobs (and the jobs they queue) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
