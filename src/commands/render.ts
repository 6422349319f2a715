// `tekton-gateway render --routes FILE --path PATH [-H 'Name: value']... --body FILE|- [--explain] [-o yaml|json]`
// (contract §7): one recorded request through the same pipeline as `serve --dry-run`, without its signature
// check, like Tekton's binding-eval/cel-eval tools. Exit 0 when it ran, 1 on load or input errors.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError, type ParsedArgs } from '../cli/args.js';
import { loadConfigFile } from '../config/load.js';
import { answer } from '../http/respond.js';
import type { Delivery, JsonObject, PipelineIO, TraceEvent } from '../model.js';
import { handleWebhook } from '../pipeline/handle.js';
import { checkRoute } from '../pipeline/match.js';
import { SecretStore } from '../secrets.js';
import { stringifyYaml } from '../yaml.js';
import type { CommandIO } from './io.js';

export async function runRender(args: ParsedArgs, io: CommandIO): Promise<number> {
  const loaded = loadConfigFile(args.values.routes as string);
  if (!loaded.ok) {
    io.stderr(`${loaded.problems.join('\n')}\n`);
    return 1;
  }
  const config = loaded.config;
  const headers = parseHeaders((args.values.header as readonly string[] | undefined) ?? []);
  const bodyArg = args.values.body as string;
  let body: Buffer;
  try {
    body = bodyArg === '-' ? await io.readStdin() : readFileSync(bodyArg);
  } catch (e) {
    io.stderr(`cannot read --body ${bodyArg}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return 1;
  }
  const requestURL = args.values.path as string;
  const q = requestURL.indexOf('?');
  const path = q < 0 ? requestURL : requestURL.slice(0, q);
  const matched = checkRoute(config.routes, 'POST', path);
  if (!matched.ok) {
    io.stderr(`${matched.rejection.message}; routes: ${config.routes.map((r) => r.path).join(', ')}\n`);
    return 1;
  }
  const secretsDir = args.values['secrets-dir'] as string | undefined;
  const store = secretsDir !== undefined ? new SecretStore(secretsDir) : undefined;
  const explain = args.values.explain === true;
  const now = Date.now();
  const pipelineIO: PipelineIO = {
    now: Date.now,
    randomUUID,
    secrets: store?.lookup ?? (() => undefined),
    create: undefined,
    serverDryRun: false,
    skipVerify: true,
    deadline: now + config.gateway.requestTimeoutMs,
    trace: explain ? (e) => io.stderr(`${formatTrace(e)}\n`) : undefined,
  };
  const delivery: Delivery = { method: 'POST', path, requestURL, headers, body };
  const result = await handleWebhook(config, matched.route, delivery, pipelineIO);
  const reply = answer(result);
  if (args.values.output === 'json') {
    io.stdout(`${JSON.stringify({ status: reply.status, ...reply.body }, null, 2)}\n`);
  } else if (result.kind === 'processed') {
    const objects: JsonObject[] = [];
    for (const t of result.triggers) {
      if (t.outcome === 'rendered') objects.push(...t.objects);
      else io.stderr(`# ${t.name}: ${t.outcome}${'reason' in t ? `: ${t.reason}` : ''}\n`);
    }
    io.stdout(objects.map((o) => stringifyYaml(o, { lineWidth: 0 })).join('---\n'));
  }
  if (result.kind === 'rejected') {
    io.stderr(`the request would be rejected with HTTP ${reply.status}: ${result.rejection.message}\n`);
    return 1;
  }
  return 0;
}

/** `-H 'Name: value'`, repeatable; header names are case-insensitive, kept lower-case as Node delivers them. */
function parseHeaders(list: readonly string[]): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const entry of list) {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? '' : entry.slice(0, colon).trim().toLowerCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) {
      throw new UsageError(`-H needs 'Name: value', got ${JSON.stringify(entry)}`);
    }
    (headers[name] ??= []).push(entry.slice(colon + 1).trim());
  }
  return headers;
}

function formatTrace(e: TraceEvent): string {
  if (e.kind === 'param') {
    const value = e.value === undefined ? '(no value)' : JSON.stringify(e.value);
    return `[${e.trigger}] param ${e.name} = ${value} (${e.from})`;
  }
  const result = e.result.ok ? JSON.stringify(e.result.value) : `error: ${e.result.error}`;
  return `[${e.trigger}] ${e.kind} ${e.source} → ${result}`;
}
