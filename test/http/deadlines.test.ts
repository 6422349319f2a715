// The coarse timeouts of the per-request paths (src/deadlines.ts): short ones to the millisecond, long ones on
// one shared interval that fires them at most one tick late and stops when none is pending.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../src/deadlines.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('Deadlines', () => {
  it('a timeout under 1 s fires on its own timer, to the millisecond', () => {
    const deadlines = new Deadlines();
    const fire = vi.fn();
    deadlines.after(300, fire);
    vi.advanceTimersByTime(299);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('long timeouts share one interval and fire no earlier than asked, at most one tick (25 ms) late', () => {
    const deadlines = new Deadlines();
    const first = vi.fn();
    const second = vi.fn();
    deadlines.after(9_000, first);
    deadlines.after(9_010, second);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(8_999);
    expect(first).not.toHaveBeenCalled();
    vi.advanceTimersByTime(25);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).not.toHaveBeenCalled();
    vi.advanceTimersByTime(25);
    expect(second).toHaveBeenCalledTimes(1);
    // Nothing pending: the interval is gone.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a cancelled timeout never fires, and the interval stops once nothing is pending', () => {
    const deadlines = new Deadlines();
    const fire = vi.fn();
    const cancel = deadlines.after(5_000, fire);
    const cancelShort = deadlines.after(10, fire);
    cancel();
    cancelShort();
    vi.advanceTimersByTime(10_000);
    expect(fire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
