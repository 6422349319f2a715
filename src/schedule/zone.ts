// Time zones through Intl (Node ships the IANA database with full ICU): check a zone name, the UTC offset
// at an instant, and an instant written in a zone with its offset (what `routes` prints, §12.0 item 11).

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** undefined when `name` is an IANA zone Intl knows, else what to fix. */
export function checkTimeZone(name: string): string | undefined {
  // Offsets such as "+01:00" and bare abbreviations such as "CET" are not what the contract asks for.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name) && name !== 'UTC') {
    return `"${name}" is not an IANA time zone name (e.g. UTC, Europe/Berlin, America/New_York)`;
  }
  try {
    formatter(name);
    return undefined;
  } catch {
    return `"${name}" is not a time zone this runtime knows (an IANA name such as UTC, Europe/Berlin, America/New_York)`;
  }
}

interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function wallClock(timeZone: string, ms: number): WallClock {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  const year = Number(parts.year);
  return {
    year: parts.era === 'BC' || parts.era === 'B' ? 1 - year : year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** The zone's offset from UTC at `ms`, in minutes east (Berlin in winter: 60). */
export function utcOffsetMinutes(timeZone: string, ms: number): number {
  const w = wallClock(timeZone, ms);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** ISO 8601 in the zone with its offset: `2026-12-03T03:00:00+01:00` (`Z` for UTC itself). */
export function formatInZone(ms: number, timeZone: string): string {
  const w = wallClock(timeZone, ms);
  const offset = utcOffsetMinutes(timeZone, ms);
  const sign = offset < 0 ? '-' : '+';
  const zone =
    offset === 0 && timeZone === 'UTC'
      ? 'Z'
      : `${sign}${pad(Math.trunc(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${zone}`;
}
