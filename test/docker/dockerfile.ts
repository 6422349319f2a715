// A small Dockerfile reader for the lint tests: enough of the syntax to know stages and instructions, so
// the tests need no Docker engine and no new dependency. It follows the Dockerfile reference: `\` joins
// lines, `#` starts a comment only at the start of a line, and JSON-array arguments are exec form.

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, … */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly args: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

export interface Stage {
  readonly image: string;
  readonly name?: string;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM: the only ones FROM lines can use. */
  readonly globalArgs: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let pending: { keyword: string; parts: string[]; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && !pending)) continue;
    const continues = /\\\s*$/.test(raw);
    const body = continues ? raw.replace(/\\\s*$/, '') : raw;
    if (!pending) {
      const match = /^\s*(\S+)\s*(.*)$/.exec(body);
      if (!match) continue;
      pending = { keyword: (match[1] ?? '').toUpperCase(), parts: [(match[2] ?? '').trim()], line: i + 1 };
    } else {
      pending.parts.push(body.trim());
    }
    if (!continues) {
      out.push({ keyword: pending.keyword, args: pending.parts.join(' ').trim(), line: pending.line });
      pending = undefined;
    }
  }
  if (pending)
    out.push({ keyword: pending.keyword, args: pending.parts.join(' ').trim(), line: pending.line });
  return out;
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: { image: string; name?: string; instructions: Instruction[] }[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const image = expandArgs(words[0] ?? '', globalArgs);
      const as = words[1]?.toUpperCase() === 'AS' ? words[2] : undefined;
      stages.push({ image, ...(as ? { name: as } : {}), instructions: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (!current) {
      if (instruction.keyword === 'ARG') {
        const [name, value] = splitAssignment(instruction.args);
        globalArgs[name] = value ?? '';
      }
      continue;
    }
    current.instructions.push(instruction);
  }
  return { globalArgs, stages };
}

/** `NAME=value` (value optional), with surrounding quotes removed from the value. */
export function splitAssignment(text: string): [string, string | undefined] {
  const eq = text.indexOf('=');
  if (eq < 0) return [text.trim(), undefined];
  return [text.slice(0, eq).trim(), unquote(text.slice(eq + 1).trim())];
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
    return value.slice(1, -1);
  }
  return value;
}

function expandArgs(text: string, args: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => args[name] ?? whole);
}

/** LABEL's `key=value key2="value 2"` pairs. */
export function parseLabels(args: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pair = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/g;
  for (const match of args.matchAll(pair)) {
    labels[unquote(match[1] ?? '')] = unquote(match[2] ?? '');
  }
  return labels;
}

/** The JSON array of an exec-form CMD/ENTRYPOINT, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? parsed : undefined;
  } catch {
    return undefined; // Docker runs an array that is not valid JSON through the shell
  }
}

/** Whether a .dockerignore pattern list excludes a context path (a file or a directory and so its files). */
export function isIgnored(patterns: readonly string[], contextPath: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+/, '').replace(/\/+$/, '');
    if (pattern === '' || !globMatches(pattern, contextPath)) continue;
    ignored = !negated; // the last matching line wins, as in Docker
  }
  return ignored;
}

function globMatches(pattern: string, target: string): boolean {
  const source = pattern
    .split('/')
    .map((part) =>
      part === '**'
        ? '(?:.*)'
        : part
            .replace(/[.+^${}()|\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
    )
    .join('/')
    .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
  // A pattern that names a directory also excludes everything below it.
  return new RegExp(`^${source}(?:/.*)?$`).test(target);
}

export function readDockerignore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
