// What of a webhook goes into the logs (contract §10): one `info` line per webhook, and at `debug` one more
// line with each expression's result and each param. Payloads and secrets are never logged.
//
// The rule, also in docs/operations.md: the logs carry what the operator configured (route, trigger names,
// expressions, param names) and what the gateway decided (status, outcomes, reasons), never what was read
// from a request body. So:
//   - expression results are logged as `true`/`false` or as a type and size, params as name, source and
//     length — never a value;
//   - a reason is logged as answered to the sender except for the parts that can quote the payload: the
//     value a non-boolean filter returned becomes its type; a CEL error message is kept only in forms known
//     to quote nothing but the expression (a missing field it names, an overload's types, the time budget);
//     a message the cluster wrote has every payload string and param value it quotes replaced by
//     `<redacted>`; a JSON parser's message (which quotes the body) is cut.
// The sender gets the full reasons in its response: it sent the payload, so nothing leaks to it.
import type { ObservedResult, WebhookObservation } from './http/deps.js';
import type { Level, Logger } from './log.js';
import type { CelResult, JsonValue, Rejection, TraceEvent, Trigger, TriggerOutcome } from './model.js';
import { RESULT_TOO_LARGE } from './pipeline/cel.js';
import { eventType } from './pipeline/provider.js';

/**
 * The level of a webhook's line (issue #13, docs/operations.md "Log levels"): what log-based alerting should
 * see is warn or error. Answers that anyone on the internet can provoke before or at verification — 401, 404,
 * 405, 413, 415, mostly scanners — stay at info; every other 4xx and 502/503 come from a verified sender or
 * from the cluster and are warn; the gateway's own faults (500, unreadable secrets) are error.
 */
export function webhookLevel(o: WebhookObservation): Level {
  const { status } = o.answer;
  if (o.result.kind === 'internal') return 'error';
  if (o.result.kind === 'rejected' && o.result.rejection.kind === 'secrets-unavailable') return 'error';
  if (status < 400 || [401, 404, 405, 413, 415].includes(status)) return 'info';
  return status >= 500 && status !== 502 && status !== 503 ? 'error' : 'warn';
}

export function logWebhook(log: Logger, o: WebhookObservation): void {
  const level = webhookLevel(o);
  // Skip building a line that would not be written (debug implies every other level).
  if (!log.enabled(level)) return;
  const { result } = o;
  const route = result.route;
  const fields: Record<string, unknown> = {
    eventId: result.eventId,
    route: route?.path ?? '',
    provider: route?.provider ?? '',
    event: eventOf(result, o) ?? '',
    status: o.answer.status,
    durationMs: Math.round(o.seconds * 1000),
  };
  if (log.enabled('debug') && o.trace.length > 0) {
    log.debug('webhook trace', {
      eventId: result.eventId,
      route: route?.path ?? '',
      ...traceFields(o.trace),
    });
  }
  switch (result.kind) {
    case 'rejected':
      fields.error = rejectionForLog(result.rejection);
      break;
    case 'overloaded':
    case 'internal':
    case 'body-timeout':
      fields.error = result.message;
      break;
    case 'processed': {
      const redactor = new Redactor(o.delivery?.body, o.trace);
      fields.triggers = result.triggers.map((t) =>
        triggerFields(
          t,
          result.route.triggers.find((c) => c.name === t.name),
          redactor,
        ),
      );
      break;
    }
  }
  log[level]('webhook', fields);
}

function eventOf(result: ObservedResult, o: WebhookObservation): string | undefined {
  if (result.kind === 'processed') return result.event;
  return result.route && o.delivery ? eventType(result.route, o.delivery.headers) : undefined;
}

function triggerFields(
  t: TriggerOutcome,
  trigger: Trigger | undefined,
  redactor: Redactor,
): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: t.name, outcome: t.outcome };
  if (t.outcome === 'skipped') fields.reason = skipReasonForLog(t.reason, trigger);
  if (t.outcome === 'failed') {
    fields.reason = failureReasonForLog(t, trigger, redactor);
    fields.failure = t.failure;
  }
  // Object names are the cluster's own identifiers; a template that builds metadata.name or generateName
  // from a param puts that param's text into them (docs/operations.md).
  if (
    (t.outcome === 'created' || t.outcome === 'duplicate' || t.outcome === 'failed') &&
    t.resources.length
  ) {
    fields.resources = t.resources.map((r) => `${r.kind}/${r.namespace}/${r.name}`);
  }
  return fields;
}

/** `filter returned "some payload text", not true: SRC` → `filter returned a string, not true: SRC`. */
function skipReasonForLog(reason: string, trigger: Trigger | undefined): string {
  const lead = 'filter returned ';
  if (!reason.startsWith(lead) || reason.startsWith(`${lead}false: `)) return reason;
  for (const filter of trigger?.filters ?? []) {
    const tail = `, not true: ${filter.source}`;
    if (reason.endsWith(tail))
      return `${lead}${typeOfPreview(reason.slice(lead.length, -tail.length))}${tail}`;
  }
  return `${lead}a value other than true (not logged: it may quote the payload)`;
}

/** The type of a value from its JSON text (the reason's preview may be cut, so it is not parsed). */
function typeOfPreview(json: string): string {
  switch (json[0]) {
    case '"':
      return 'a string';
    case '{':
      return 'a map';
    case '[':
      return 'a list';
    case 'n':
      return 'null';
    case 't':
      return 'true';
    default:
      return 'a number';
  }
}

function failureReasonForLog(
  t: Extract<TriggerOutcome, { outcome: 'failed' }>,
  trigger: Trigger | undefined,
  redactor: Redactor,
): string {
  switch (t.failure) {
    case 'cel': {
      // The pipeline's forms: `filter SRC failed: MESSAGE` and `overlay "KEY" (SRC) failed: MESSAGE`.
      const forms = [
        ...(trigger?.filters ?? []).map((f) => ({ prefix: `filter ${f.source} failed: `, source: f.source })),
        ...(trigger?.overlays ?? []).map((v) => ({
          prefix: `overlay "${v.key}" (${v.expression.source}) failed: `,
          source: v.expression.source,
        })),
      ];
      const form = forms.find((f) => t.reason.startsWith(f.prefix));
      if (!form) return 'a CEL expression failed (message not logged: it may quote the payload)';
      return form.prefix + celErrorForLog(t.reason.slice(form.prefix.length), form.source);
    }
    case 'cluster-refused':
    case 'cluster-unavailable':
      return redactor.redact(t.reason);
    // Built from the config alone: param names, binding paths, the template's name, the timeout.
    case 'binding':
    case 'param':
    case 'timeout':
      return t.reason;
  }
}

/**
 * A CEL evaluation error, kept only in forms that quote nothing but the expression: CEL's messages quote
 * the values they were given (`no such key: <a payload string>`, `failed to decode '<text>' in parseJSON`,
 * a regular expression read from the payload), so anything else is replaced.
 */
export function celErrorForLog(message: string, source: string): string {
  const key = /^no such key: (.*)$/s.exec(message);
  if (key) return source.includes(key[1]!) ? message : 'no such key (the key was computed from the request)';
  if (message.startsWith('found no matching overload for ')) return message;
  if (message.startsWith('evaluation stopped after ')) return message;
  if (message.startsWith(RESULT_TOO_LARGE)) return message;
  return 'evaluation failed (message not logged: it may quote the payload; it is in the response)';
}

function rejectionForLog(rejection: Rejection): string {
  // `the body is not valid JSON: Unexpected token … "<a piece of the body>" …`: V8's message quotes the body.
  if (rejection.kind === 'body') {
    const colon = rejection.message.indexOf(': ');
    return colon < 0 ? rejection.message : rejection.message.slice(0, colon);
  }
  return rejection.message;
}

/** The debug line's content: results as booleans or types, params as lengths; never a value. */
function traceFields(trace: readonly TraceEvent[]): Record<string, unknown> {
  const expressions: Record<string, unknown>[] = [];
  const params: Record<string, unknown>[] = [];
  for (const e of trace) {
    if (e.kind === 'param') {
      params.push({
        trigger: e.trigger,
        name: e.name,
        from: e.from,
        ...(e.value === undefined ? {} : { length: e.value.length }),
      });
    } else {
      expressions.push({
        trigger: e.trigger,
        kind: e.kind,
        expression: e.source,
        ...resultFields(e.result, e.source),
      });
    }
  }
  return { expressions, params };
}

function resultFields(result: CelResult, source: string): Record<string, unknown> {
  if (!result.ok) return { error: celErrorForLog(result.error, source) };
  const value = result.value;
  if (typeof value === 'boolean') return { result: value };
  return { type: typeOf(value), ...(sizeOf(value) === undefined ? {} : { size: sizeOf(value) }) };
}

function typeOf(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'map' : typeof value;
}

function sizeOf(value: JsonValue): number | undefined {
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (value !== null && typeof value === 'object') return Object.keys(value).length;
  return undefined;
}

/**
 * Replaces, in a message someone else composed (the Kubernetes API), every payload string and every param
 * value of this request that it quotes — verbatim or JSON-escaped — by `<redacted>`. Strings shorter than
 * MIN_REDACTED characters are left: they say nothing on their own and would garble every message. The body
 * is parsed only when a message needs it.
 */
const MIN_REDACTED = 4;

class Redactor {
  private needles: string[] | undefined;

  constructor(
    private readonly body: Buffer | undefined,
    private readonly trace: readonly TraceEvent[],
  ) {}

  redact(text: string): string {
    let out = text;
    for (const needle of this.strings()) {
      if (needle.length > out.length) continue;
      out = out.replaceAll(needle, '<redacted>');
    }
    return out;
  }

  private strings(): string[] {
    if (this.needles) return this.needles;
    const found = new Set<string>();
    const add = (s: string) => {
      if (s.length < MIN_REDACTED) return;
      found.add(s);
      const escaped = JSON.stringify(s).slice(1, -1);
      if (escaped !== s) found.add(escaped);
    };
    for (const e of this.trace) {
      if (e.kind === 'param' && e.value !== undefined) add(e.value);
      if (e.kind !== 'param' && e.result.ok) leaves(e.result.value, add);
    }
    if (this.body) {
      try {
        leaves(JSON.parse(this.body.toString('utf8').replace(/^\uFEFF/, '')) as JsonValue, add);
      } catch {
        // Not JSON: the request was refused before any trigger ran, so no cluster message quotes it.
      }
    }
    // Longest first, so a string is replaced before a shorter one inside it could split it.
    this.needles = [...found].sort((a, b) => b.length - a.length);
    return this.needles;
  }
}

function leaves(value: JsonValue, add: (s: string) => void): void {
  if (typeof value === 'string') add(value);
  else if (Array.isArray(value)) for (const item of value) leaves(item, add);
  else if (value !== null && typeof value === 'object')
    for (const item of Object.values(value)) leaves(item, add);
}
