#!/usr/bin/env node
// argv → command. The only place that calls process.exit: commands return their exit code
// (0 ok, 1 failure, 2 usage error).
import { UsageError, formatHelp, parseArgs } from './cli/args.js';
import { COMMANDS, type CommandSpec } from './cli/spec.js';
import type { CommandIO } from './commands/io.js';

const io: CommandIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  },
};

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: tekton-gateway <command> [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'tekton-gateway <command> --help' for a command's flags, 'tekton-gateway --version' for the version.",
    '',
  ].join('\n');
}

async function run(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${(await import('./version.js')).packageVersion()}\n`);
    return 0;
  }
  const spec: CommandSpec | undefined = COMMANDS.find((c) => c.name === name);
  if (!spec) {
    io.stderr(`unknown command "${name}"\n\n${topHelp()}`);
    return 2;
  }
  try {
    const args = parseArgs(spec, rest, io.env);
    if (args.help) {
      io.stdout(formatHelp(spec));
      return 0;
    }
    // Commands load lazily so `validate` never pays for the Kubernetes client or Express.
    switch (spec.name) {
      case 'serve':
        return await (await import('./commands/serve.js')).runServe(args, io);
      case 'validate':
        return (await import('./commands/validate.js')).runValidate(args, io);
      case 'render':
        return await (await import('./commands/render.js')).runRender(args, io);
      case 'routes':
        return (await import('./commands/routes.js')).runRoutes(args, io);
      case 'import':
        return await (await import('./commands/import.js')).runImport(args, io);
      default:
        throw new Error(`command ${spec.name} has no implementation`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${e.message}\n\n${formatHelp(spec)}`);
      return 2;
    }
    throw e;
  }
}

run(process.argv.slice(2)).then(
  // Exit once stdout has flushed: a piped `render` output must not be cut short.
  (code) => process.stdout.write('', () => process.exit(code)),
  (e: unknown) => {
    process.stderr.write(
      `tekton-gateway: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(1);
  },
);
