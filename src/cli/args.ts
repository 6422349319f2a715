// Command-line parsing against the specs in ./spec.ts. Unknown flags, missing values and bad choices are
// usage errors (exit code 2); flags win over their environment variables, which win over defaults.
import type { CommandSpec, FlagSpec } from './spec.js';

export class UsageError extends Error {}

export interface ParsedArgs {
  /** Flag values by long name: strings, `true` for booleans, lists for repeatable flags. */
  readonly values: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

export function parseArgs(
  spec: CommandSpec,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): ParsedArgs {
  const values: Record<string, string | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  let help = false;
  const byLong = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const set = (flag: FlagSpec, value: string | boolean) => {
    if (flag.repeatable) {
      const list = (values[flag.name] as string[] | undefined) ?? [];
      list.push(String(value));
      values[flag.name] = list;
    } else {
      values[flag.name] = value;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let flag: FlagSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      flag = byLong.get(name);
      if (!flag) throw new UsageError(`unknown flag --${name} for "${spec.name}"`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      flag = byShort.get(arg[1]!);
      if (!flag) throw new UsageError(`unknown flag ${arg.slice(0, 2)} for "${spec.name}"`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      positionals.push(arg);
      continue;
    }
    if (flag.value === undefined) {
      if (inline === undefined) set(flag, true);
      else if (TRUE.has(inline.toLowerCase())) set(flag, true);
      else if (FALSE.has(inline.toLowerCase())) set(flag, false);
      else throw new UsageError(`--${flag.name} takes no value (or true/false), got "${inline}"`);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined)
      throw new UsageError(`--${flag.name} needs a value: --${flag.name} ${flag.value}`);
    set(flag, value);
  }
  if (help) return { values, positionals, help };

  for (const flag of spec.flags) {
    if (values[flag.name] === undefined && flag.env !== undefined && env[flag.env] !== undefined) {
      const raw = env[flag.env]!;
      if (flag.value === undefined) {
        if (TRUE.has(raw.toLowerCase())) values[flag.name] = true;
        else if (FALSE.has(raw.toLowerCase())) values[flag.name] = false;
        else throw new UsageError(`${flag.env} must be true or false, got "${raw}"`);
      } else if (raw !== '') {
        values[flag.name] = raw;
      }
    }
    if (values[flag.name] === undefined && flag.default !== undefined) values[flag.name] = flag.default;
    const value = values[flag.name];
    if (flag.required && value === undefined)
      throw new UsageError(`--${flag.name} ${flag.value ?? ''} is required`.trim());
    if (flag.integer && typeof value === 'string' && !/^\d+$/.test(value)) {
      throw new UsageError(`--${flag.name} must be a whole number, got "${value}"`);
    }
    if (flag.choices && typeof value === 'string' && !flag.choices.includes(value)) {
      throw new UsageError(`--${flag.name} must be one of ${flag.choices.join(', ')}, got "${value}"`);
    }
  }
  if (spec.positionals) {
    if (positionals.length < spec.positionals.min) {
      throw new UsageError(`"${spec.name}" needs at least ${spec.positionals.min} ${spec.positionals.name}`);
    }
  } else if (positionals.length > 0) {
    throw new UsageError(`"${spec.name}" takes no arguments, got "${positionals[0]}"`);
  }
  return { values, positionals, help };
}

/** A non-negative integer flag (ports, seconds). */
export function intFlag(args: ParsedArgs, name: string): number {
  const raw = String(args.values[name]);
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [
    `Usage: tekton-gateway ${spec.name} [flags]${spec.positionals ? ` ${spec.positionals.name}...` : ''}`,
    '',
    spec.summary,
    '',
    'Flags:',
  ];
  const rows = spec.flags.map((f) => {
    const names = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`;
    const extra = [
      f.env ? `env ${f.env}` : '',
      f.default !== undefined ? `default ${f.default}` : '',
      f.required ? 'required' : '',
      f.repeatable ? 'repeatable' : '',
    ].filter(Boolean);
    return [names, `${f.help}${extra.length ? ` (${extra.join('; ')})` : ''}`] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([n]) => n.length)) + 2;
  for (const [names, text] of rows) lines.push(`  ${names.padEnd(width)}${text}`);
  return `${lines.join('\n')}\n`;
}
