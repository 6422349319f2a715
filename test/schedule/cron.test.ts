// Slot times from croner behind src/schedule/cron.ts: the five- and six-field forms and nicknames, time
// zones, and the DST rule of contract §12.0 item 11 (a time in a gap fires at the first instant after
// it; a repeated time fires at its first occurrence only) for fixed-time and interval patterns alike.
import { describe, expect, it } from 'vitest';
import { compileCron } from '../../src/schedule/cron.js';
import { checkTimeZone, formatInZone, utcOffsetMinutes } from '../../src/schedule/zone.js';

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

function slots(expression: string, timeZone: string, from: string, n: number): (string | undefined)[] {
  const compiled = compileCron(expression, timeZone);
  if (!compiled.ok) throw new Error(compiled.error);
  const out: (string | undefined)[] = [];
  let t = ms(from);
  for (let i = 0; i < n; i++) {
    const next = compiled.cron.next(t);
    out.push(iso(next));
    if (next === undefined) break;
    t = next;
  }
  return out;
}

describe('compileCron: forms', () => {
  it.each([
    {
      name: '5 fields, UTC',
      cron: '0 3 * * *',
      tz: 'UTC',
      from: '2026-01-01T05:00:00Z',
      want: ['2026-01-02T03:00:00.000Z', '2026-01-03T03:00:00.000Z'],
    },
    {
      name: '6 fields, seconds first',
      cron: '*/2 * * * * *',
      tz: 'UTC',
      from: '2026-01-01T00:00:00.500Z',
      want: ['2026-01-01T00:00:02.000Z', '2026-01-01T00:00:04.000Z'],
    },
    {
      name: 'every second',
      cron: '* * * * * *',
      tz: 'UTC',
      from: '2026-01-01T00:00:00Z',
      want: ['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z'],
    },
    {
      name: '@hourly',
      cron: '@hourly',
      tz: 'UTC',
      from: '2026-01-01T00:10:00Z',
      want: ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z'],
    },
    {
      name: '@daily in Berlin (winter, +01:00)',
      cron: '@daily',
      tz: 'Europe/Berlin',
      from: '2026-01-01T12:00:00Z',
      want: ['2026-01-01T23:00:00.000Z', '2026-01-02T23:00:00.000Z'],
    },
    {
      name: '@weekly is Sunday midnight',
      cron: '@weekly',
      tz: 'UTC',
      from: '2026-01-01T00:00:00Z',
      want: ['2026-01-04T00:00:00.000Z', '2026-01-11T00:00:00.000Z'],
    },
    {
      name: '@monthly',
      cron: '@monthly',
      tz: 'UTC',
      from: '2026-01-15T00:00:00Z',
      want: ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    },
    {
      name: '@yearly',
      cron: '@yearly',
      tz: 'UTC',
      from: '2026-01-15T00:00:00Z',
      want: ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z'],
    },
    {
      name: 'New York, 9:30 on weekdays',
      cron: '30 9 * * 1-5',
      tz: 'America/New_York',
      from: '2026-01-02T15:00:00Z',
      want: ['2026-01-05T14:30:00.000Z', '2026-01-06T14:30:00.000Z'],
    },
    {
      name: 'India, half-hour offset',
      cron: '0 0 * * *',
      tz: 'Asia/Kolkata',
      from: '2026-01-01T00:00:00Z',
      want: ['2026-01-01T18:30:00.000Z', '2026-01-02T18:30:00.000Z'],
    },
  ])('$name: $cron', ({ cron, tz, from, want }) => {
    expect(slots(cron, tz, from, 2)).toEqual(want);
  });

  it.each([
    { name: 'four fields', cron: '* * * *', says: 'five, six' },
    { name: 'minute out of range', cron: '61 * * * *', says: 'minute: 61' },
    { name: 'seven fields (a year) is not offered', cron: '0 0 0 * * * 2030', says: '5 or 6 parts' },
    { name: 'unknown nickname', cron: '@fortnightly', says: '@fortnightly" is not one of' },
    { name: 'a date that never comes', cron: '0 0 31 2 *', says: 'never fires' },
    { name: 'letters', cron: 'every day', says: 'invalid cron expression' },
  ])('refuses $name', ({ cron, says }) => {
    const result = compileCron(cron, 'UTC');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toContain(says);
      expect(result.error).not.toMatch(/^Cron/);
    }
  });
});

// Europe/Berlin 2026: clocks go 02:00 → 03:00 on 29 March (01:00Z), 03:00 → 02:00 on 25 October (01:00Z).
describe('compileCron: daylight saving (§12.0 item 11)', () => {
  it('a fixed time inside the spring gap fires at the first instant after it, once', () => {
    expect(slots('30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 3)).toEqual([
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first instant after the gap
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('an interval pattern whose times fall in the gap fires at the first instant after it', () => {
    // 02:30 local does not exist: croner alone would go from 01:30 CET to 03:30 CEST.
    expect(slots('30 * * * *', 'Europe/Berlin', '2026-03-29T00:00:00Z', 3)).toEqual([
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST: stands for the missing 02:30
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
    ]);
  });

  it('an interval pattern that also matches the first instant after the gap fires there once', () => {
    expect(slots('*/30 * * * *', 'Europe/Berlin', '2026-03-29T00:15:00Z', 3)).toEqual([
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST (02:00 and 02:30 do not exist)
      '2026-03-29T01:30:00.000Z',
    ]);
  });

  it('a fixed time repeated in the autumn fires at its first occurrence only', () => {
    expect(slots('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, first pass
      '2026-10-26T01:30:00.000Z', // next day, 02:30 CET
    ]);
  });

  it('an interval pattern skips the second pass of the repeated hour', () => {
    // croner alone fires at 02:30 CEST (00:30Z) and again at 02:30 CET (01:30Z).
    expect(slots('30 * * * *', 'Europe/Berlin', '2026-10-25T00:00:00Z', 3)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T02:30:00.000Z', // 03:30 CET; 01:30Z would repeat 02:30
      '2026-10-25T03:30:00.000Z',
    ]);
  });

  it('New York springs forward too: 02:30 on 8 March 2026 fires at 03:00 EDT', () => {
    expect(slots('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 1)).toEqual([
      '2026-03-08T07:00:00.000Z',
    ]);
  });

  it('UTC has no transitions: every hourly slot fires', () => {
    expect(slots('0 * * * *', 'UTC', '2026-03-29T00:30:00Z', 3)).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
      '2026-03-29T03:00:00.000Z',
    ]);
  });
});

describe('zones', () => {
  it.each([
    { name: 'UTC', zone: 'UTC', ok: true },
    { name: 'a region', zone: 'Europe/Berlin', ok: true },
    { name: 'three parts', zone: 'America/Argentina/Buenos_Aires', ok: true },
    { name: 'unknown city', zone: 'Europe/Atlantis', ok: false },
    { name: 'an offset', zone: '+01:00', ok: false },
    { name: 'nonsense', zone: 'not a zone', ok: false },
  ])('checkTimeZone: $name', ({ zone, ok }) => {
    const problem = checkTimeZone(zone);
    if (ok) expect(problem).toBeUndefined();
    else expect(problem).toContain(`"${zone}"`);
  });

  it('utcOffsetMinutes follows DST', () => {
    expect(utcOffsetMinutes('Europe/Berlin', ms('2026-01-01T00:00:00Z'))).toBe(60);
    expect(utcOffsetMinutes('Europe/Berlin', ms('2026-07-01T00:00:00Z'))).toBe(120);
    expect(utcOffsetMinutes('America/New_York', ms('2026-01-01T00:00:00Z'))).toBe(-300);
    expect(utcOffsetMinutes('Asia/Kolkata', ms('2026-01-01T00:00:00Z'))).toBe(330);
  });

  it('formatInZone writes the local time with its offset', () => {
    expect(formatInZone(ms('2026-12-03T02:00:00Z'), 'Europe/Berlin')).toBe('2026-12-03T03:00:00+01:00');
    expect(formatInZone(ms('2026-07-03T01:00:00Z'), 'Europe/Berlin')).toBe('2026-07-03T03:00:00+02:00');
    expect(formatInZone(ms('2026-12-03T14:30:00Z'), 'America/New_York')).toBe('2026-12-03T09:30:00-05:00');
    expect(formatInZone(ms('2026-12-03T18:30:00Z'), 'Asia/Kolkata')).toBe('2026-12-04T00:00:00+05:30');
    expect(formatInZone(ms('2026-12-03T03:00:00Z'), 'UTC')).toBe('2026-12-03T03:00:00Z');
  });
});

describe('compileCron: previous (the catch-up slot)', () => {
  const previous = (expression: string, timeZone: string, at: string) => {
    const compiled = compileCron(expression, timeZone);
    if (!compiled.ok) throw new Error(compiled.error);
    return iso(compiled.cron.previous(ms(at)));
  };

  it.each([
    {
      name: 'at the slot itself',
      cron: '0 3 * * *',
      tz: 'UTC',
      at: '2026-01-02T03:00:00Z',
      want: '2026-01-02T03:00:00.000Z',
    },
    {
      name: 'after the slot',
      cron: '0 3 * * *',
      tz: 'UTC',
      at: '2026-01-02T05:00:00Z',
      want: '2026-01-02T03:00:00.000Z',
    },
    {
      name: 'before today’s slot: yesterday’s',
      cron: '0 3 * * *',
      tz: 'UTC',
      at: '2026-01-02T02:59:59Z',
      want: '2026-01-01T03:00:00.000Z',
    },
    {
      name: 'seconds',
      cron: '*/2 * * * * *',
      tz: 'UTC',
      at: '2026-01-01T00:00:03.900Z',
      want: '2026-01-01T00:00:02.000Z',
    },
    {
      name: 'the gap slot stands for 02:30',
      cron: '30 * * * *',
      tz: 'Europe/Berlin',
      at: '2026-03-29T01:10:00Z',
      want: '2026-03-29T01:00:00.000Z',
    },
    {
      name: 'the repeated 02:30 is not a slot',
      cron: '30 * * * *',
      tz: 'Europe/Berlin',
      at: '2026-10-25T01:45:00Z',
      want: '2026-10-25T00:30:00.000Z',
    },
  ])('$name', ({ cron, tz, at, want }) => {
    expect(previous(cron, tz, at)).toBe(want);
  });
});
