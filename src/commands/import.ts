// `tekton-gateway import FILE...` (contract §7, issue #9): Tekton Triggers YAML (EventListener, Trigger,
// TriggerBinding, ClusterTriggerBinding, TriggerTemplate, Ingress) → one routes.yaml on stdout, and on
// stderr a report of what changed and what could not be carried over. Exit 0 when the output does
// everything the Tekton objects did, 3 when something was left out (the output still loads), 1 when the
// input cannot be read. `-` reads stdin, so `kubectl get el,triggers,tb,tt,ingress -o yaml | … import -` works.
import { readFileSync } from 'node:fs';
import type { ParsedArgs } from '../cli/args.js';
import { importTekton, type InputFile } from '../import/convert.js';
import { formatFinding } from '../import/findings.js';
import type { CommandIO } from './io.js';

export async function runImport(args: ParsedArgs, io: CommandIO): Promise<number> {
  const files: InputFile[] = [];
  for (const name of args.positionals) {
    let bytes: Buffer;
    try {
      bytes = name === '-' ? await io.readStdin() : readFileSync(name);
    } catch (e) {
      io.stderr(`cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
      return 1;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      io.stderr(`${name}: is not valid UTF-8\n`);
      return 1;
    }
    files.push({ name: name === '-' ? '(stdin)' : name, text });
  }
  const result = importTekton(files);
  for (const finding of result.findings) io.stderr(`${formatFinding(finding)}\n`);
  if (!result.ok) {
    io.stderr(`${result.problems.join('\n')}\n`);
    return 1;
  }
  io.stdout(result.yaml);
  const { routes, triggers, bindings, templates, schedules } = result.summary;
  const leftOut = result.findings.filter((f) => f.level === 'left-out').length;
  io.stderr(
    `import: ${count(routes, 'route')}, ${count(triggers, 'trigger')}, ${count(bindings, 'binding')}, ${count(templates, 'template')}${schedules > 0 ? `, ${count(schedules, 'schedule')}` : ''}; ` +
      (leftOut === 0 ? 'nothing left out\n' : `${count(leftOut, 'item')} left out (exit code 3)\n`),
  );
  return result.complete ? 0 : 3;
}

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
