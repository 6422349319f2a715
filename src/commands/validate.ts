// `tekton-gateway validate [--secrets-dir DIR] FILE...` (contract §7): `FILE: ok` on stdout, or every
// problem on stderr; exit 1 if any file has one.
import type { ParsedArgs } from '../cli/args.js';
import { loadConfigFile } from '../config/load.js';
import type { CommandIO } from './io.js';

export function runValidate(args: ParsedArgs, io: CommandIO): number {
  const secretsDir = args.values['secrets-dir'] as string | undefined;
  let failed = false;
  for (const file of args.positionals) {
    const result = loadConfigFile(file, { secretsDir, compareSecrets: true });
    if (result.ok) {
      io.stdout(`${file}: ok\n`);
    } else {
      failed = true;
      io.stderr(`${result.problems.join('\n')}\n`);
    }
  }
  return failed ? 1 : 0;
}
