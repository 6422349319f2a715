// Cron expressions → slot times (contract §13, §12.0 item 11). The only file that imports croner: it reads
// the five- and six-field forms and the `@` nicknames, and walks time zones with Intl, so we need no tz
// database of our own. https://github.com/hexagon/croner
//
// Daylight saving (§12.0 item 11): a wall-clock time skipped by a DST gap fires at the first instant after
// the gap; a wall-clock time that occurs twice fires at its first occurrence only. croner does exactly that
// for fixed-time patterns (one second, one minute, one hour: `0 3 * * *`), and documents that interval
// patterns (`*/15 * * * *`) instead skip times in a gap and fire on both occurrences of a repeated time;
// the two wrappers below (`gapSlot`, `isRepeat`) bring interval patterns to the contract's rule too.
import { Cron } from 'croner';
import type { CronTimes } from '../model.js';
import { utcOffsetMinutes } from './zone.js';

export type CronCompileResult =
  { readonly ok: true; readonly cron: CronTimes } | { readonly ok: false; readonly error: string };

const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Compiles `expression` in `timeZone` (an IANA name, already checked with `checkTimeZone`). */
export function compileCron(expression: string, timeZone: string): CronCompileResult {
  const text = expression.trim();
  if (text.startsWith('@') && !NICKNAMES.includes(text.toLowerCase())) {
    return { ok: false, error: `"${text}" is not one of ${NICKNAMES.join(', ')}` };
  }
  let cron: Cron;
  try {
    // 5 fields, or 6 with seconds first (Kubernetes CronJob reads 5; the sixth lets tests and
    // sub-minute schedules exist). Croner's 7th (year) field is not ours to offer.
    cron = new Cron(text, { timezone: timeZone, mode: '5-or-6-parts' });
    cron.nextRun(new Date(0));
  } catch (e) {
    return { ok: false, error: cronMessage(e instanceof Error ? e.message : String(e)) };
  }
  // A pattern that can never fire (`0 0 31 2 *`) is a mistake, not a schedule.
  if (cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) {
    return { ok: false, error: `"${text}" never fires (no date matches it)` };
  }
  // Fixed offsets for the gap check, created once: the offsets a zone uses are few.
  const atOffset = new Map<number, Cron>();
  const withOffset = (minutes: number): Cron => {
    let c = atOffset.get(minutes);
    if (!c) atOffset.set(minutes, (c = new Cron(text, { utcOffset: minutes, mode: '5-or-6-parts' })));
    return c;
  };
  const croner = (afterMs: number): number | undefined => cron.nextRun(new Date(afterMs))?.getTime();

  const next = (afterMs: number): number | undefined => {
    let from = afterMs;
    // Bounded: a repeated hour holds at most 3,600 one-second slots.
    for (let guard = 0; guard < 10_000; guard++) {
      const candidate = croner(from);
      const gap = gapSlot(timeZone, from, candidate ?? from + YEAR_MS, withOffset);
      if (gap !== undefined && (candidate === undefined || gap < candidate)) return gap;
      if (candidate === undefined) return undefined;
      if (!isRepeat(timeZone, candidate)) return candidate;
      from = candidate;
    }
    return undefined;
  };
  const previous = (atMs: number): number | undefined => {
    // croner's previous run (strictly before `ref`) bounds the search; the slots from there to `atMs` are
    // walked with `next`, so gap and repeat handling is the same in both directions.
    let ref = atMs + 1;
    for (let guard = 0; guard < 10_000; guard++) {
      const raw = cron.previousRuns(1, new Date(ref))[0]?.getTime();
      let last: number | undefined;
      for (let s = next((raw ?? atMs - YEAR_MS) - 1); s !== undefined && s <= atMs; s = next(s)) last = s;
      if (last !== undefined || raw === undefined) return last;
      ref = raw;
    }
    return undefined;
  };
  return { ok: true, cron: { source: text, timeZone, next, previous } };
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const YEAR_MS = 366 * DAY_MS;

/**
 * The first instant after a DST gap that lies in (afterMs, beforeMs], when the pattern matches a wall-clock
 * time inside that gap; else undefined. Interval patterns need this: croner skips their gap times.
 */
function gapSlot(
  timeZone: string,
  afterMs: number,
  beforeMs: number,
  withOffset: (minutes: number) => Cron,
): number | undefined {
  for (const change of offsetChanges(timeZone, afterMs, beforeMs)) {
    if (change.to <= change.from) continue; // falling back repeats times; it skips none
    // The gap's wall-clock times, read at the old offset, are the instants [at, at + jump).
    const jumpMs = (change.to - change.from) * MINUTE_MS;
    const inGap = withOffset(change.from)
      .nextRun(new Date(change.at - 1))
      ?.getTime();
    if (inGap !== undefined && inGap < change.at + jumpMs && change.at > afterMs) return change.at;
  }
  return undefined;
}

/** True when the wall-clock time of `ms` already occurred earlier (the second pass of a fall-back hour). */
function isRepeat(timeZone: string, ms: number): boolean {
  const now = utcOffsetMinutes(timeZone, ms);
  // Zones fall back by at most two hours; look at the offset a little before the largest such shift.
  for (const backMinutes of [30, 60, 120]) {
    const earlier = ms - backMinutes * MINUTE_MS;
    const before = utcOffsetMinutes(timeZone, earlier);
    // The same wall-clock time `back` minutes earlier means the clock was turned back over it.
    if (before - now === backMinutes) return true;
  }
  return false;
}

interface OffsetChange {
  /** The first instant with the new offset. */
  readonly at: number;
  readonly from: number;
  readonly to: number;
}

/**
 * The offset changes in (afterMs, beforeMs], found by sampling every 6 hours (zones change at most a few
 * times a year, never twice within 6 hours) and bisecting to the second.
 */
function offsetChanges(timeZone: string, afterMs: number, beforeMs: number): OffsetChange[] {
  const changes: OffsetChange[] = [];
  const step = DAY_MS / 4;
  let lo = afterMs;
  let loOffset = utcOffsetMinutes(timeZone, lo);
  while (lo < beforeMs) {
    const hi = Math.min(lo + step, beforeMs);
    const hiOffset = utcOffsetMinutes(timeZone, hi);
    if (hiOffset !== loOffset) {
      let a = lo;
      let b = hi;
      while (b - a > 1000) {
        const mid = Math.floor((a + b) / 2000) * 1000;
        if (mid <= a) break;
        if (utcOffsetMinutes(timeZone, mid) === loOffset) a = mid;
        else b = mid;
      }
      changes.push({ at: b, from: loOffset, to: hiOffset });
    }
    lo = hi;
    loOffset = hiOffset;
  }
  return changes;
}

/** croner's messages start with its class name; ours say what to fix. */
function cronMessage(message: string): string {
  const text = message.replace(/^Cron(Pattern|Date)?:\s*/, '');
  return `invalid cron expression: ${text} (5 fields "m h dom mon dow", 6 with seconds first, or @hourly @daily @weekly @monthly @yearly)`;
}
