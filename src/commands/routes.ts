// `tekton-gateway routes [--routes FILE]`: each route, its triggers and the params their templates take
// (what `tkn triggertemplate describe` told Tekton users).
import type { ParsedArgs } from '../cli/args.js';
import { loadConfigFile } from '../config/load.js';
import type { Config, JsonObject } from '../model.js';
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
      lines.push(
        ...landingLines(t.template.resourcetemplates, ns, t.serviceAccountName ?? route.serviceAccountName),
      );
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

/**
 * Where each object of the template lands and as whom (contract §6): a literal `metadata.namespace` in the
 * template wins over the trigger's, and an impersonated account lives in the namespace the object is created in.
 */
function landingLines(
  objects: readonly JsonObject[],
  triggerNamespace: string,
  serviceAccountName: string | undefined,
): string[] {
  return objects.map((o) => {
    const metadata =
      o.metadata !== null && typeof o.metadata === 'object' && !Array.isArray(o.metadata) ? o.metadata : {};
    const literal = typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
    const ns = literal ?? triggerNamespace;
    const where =
      literal !== undefined && literal !== triggerNamespace ? " (the template's metadata.namespace)" : '';
    const as =
      serviceAccountName === undefined
        ? "the gateway's own service account"
        : `system:serviceaccount:${ns}:${serviceAccountName}`;
    return `    creates ${String(o.kind)} in namespace ${ns}${where} as ${as}`;
  });
}
