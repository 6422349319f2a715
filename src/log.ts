// JSON-lines logs on stdout (contract §10). The only logging code; callers pass structured fields, never
// payloads or secrets (src/webhook-log.ts decides what of a webhook may be logged). The level can change at
// runtime (the admin port's PUT /loglevel), so it is checked at every call.

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];

export type Fields = Readonly<Record<string, unknown>>;

export function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  enabled(level: Level): boolean;
  setLevel(level: Level): void;
  readonly level: Level;
}

export function createLogger(
  level: Level,
  write: (line: string) => void = (l) => process.stdout.write(l),
): Logger {
  let threshold = LEVELS.indexOf(level);
  const emit = (at: Level, msg: string, fields?: Fields) => {
    if (LEVELS.indexOf(at) < threshold) return;
    // time, level and msg come first and no field overwrites them: every line reads and parses the same way.
    const line: Record<string, unknown> = { time: new Date().toISOString(), level: at, msg };
    for (const [key, value] of Object.entries(fields ?? {})) if (!(key in line)) line[key] = value;
    write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (at) => LEVELS.indexOf(at) >= threshold,
    setLevel(next) {
      threshold = LEVELS.indexOf(next);
    },
    get level() {
      return LEVELS[threshold]!;
    },
  };
}
