// `tekton-gateway routes [--routes FILE]`: each route, its triggers and the params their templates take
// (what `tkn triggertemplate describe` told Tekton users).
import type { ParsedArgs } from '../cli/args.js';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../model.js';
import { formatSchedules } from '../schedule/describe.js';
import type { CommandIO } from './io.js';

export function runRoutes(args: ParsedArgs, io: CommandIO): number {
  const file = args.values.routes as string;
  const result = loadConfigFile(file);
  if (!result.ok) {
    io.stderr(`${result.problems.join('\n')}\n`);
    return 1;
  }
  io.stdout(formatRoutes(result.config));
  return 0;
}

export function formatRoutes(config: Config, now: number = Date.now()): string {
  const lines: string[] = [];
  for (const route of [...config.routes].sort((a, b) => a.path.localeCompare(b.path))) {
    const events = route.events ? ` events [${route.events.join(', ')}]` : '';
    lines.push(`${route.path}  (${route.provider}${events}, dedupe ${route.dedupe})`);
    for (const t of route.triggers) {
      const ns = t.namespace ?? route.namespace ?? config.gateway.namespace;
      lines.push(`  trigger ${t.name} → template ${t.template.name} in namespace ${ns}`);
      if (t.events && t.events !== route.events) lines.push(`    events: ${t.events.join(', ')}`);
      for (const f of t.filters) lines.push(`    filter: ${f.source}`);
      for (const o of t.overlays) lines.push(`    overlay ${o.key}: ${o.expression.source}`);
      for (const p of t.template.params) {
        const bound = t.bindings.find((b) => b.name === p.name);
        const how = bound
          ? `= ${bound.value.text}`
          : p.default !== undefined
            ? `(default ${JSON.stringify(p.default)})`
            : '(required)';
        lines.push(
          `    param ${p.name} ${how}${bound && p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : ''}`,
        );
      }
    }
  }
  lines.push(...formatSchedules(config, now));
  return `${lines.join('\n')}\n`;
}
