// Bindings → params (contract §5; tektoncd/triggers pkg/template/event.go). Template defaults go in first,
// binding values override them; a reference that finds nothing is replaced by the param's default in place,
// keeping the text around it (Tekton's applyEventValuesToParams), else the trigger fails naming the param
// and the path.
import type { Binding, BindingExpression, JsonValue, PathRef, Template, TraceEvent } from '../model.js';
import { PathNotFoundError, evaluatePath } from './jsonpath.js';
import { ValueTooLargeError, stableStringify, stableStringifyWithin } from './stable-json.js';

/** What `$(…)` can read: the parsed body, headers joined per name, the overlays' extensions, the event id. */
export interface BindingEvent {
  readonly body: JsonValue;
  /** Canonical header name → values joined with `,` (Tekton joins Go's header lists this way). */
  readonly header: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, JsonValue>>;
  readonly eventId: string;
  /** gateway.maxValueBytes: the largest value a binding may produce. */
  readonly maxValueBytes?: number;
  /** A schedule's slot time in RFC 3339 UTC (§13); absent for webhooks. */
  readonly scheduledTime?: string;
}

export type BindResult =
  | { readonly ok: true; readonly params: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly kind: 'binding' | 'param'; readonly reason: string };

export function resolveParams(
  bindings: readonly Binding[],
  template: Template,
  event: BindingEvent,
  trace?: (e: TraceEvent) => void,
  triggerName = '',
): BindResult {
  const declared = new Map(template.params.map((p) => [p.name, p]));
  const params = new Map<string, string>();
  const from = new Map<string, 'binding' | 'default'>();
  for (const p of template.params) {
    if (p.default !== undefined) {
      params.set(p.name, p.default);
      from.set(p.name, 'default');
    }
  }
  for (const binding of bindings) {
    // A binding for a param the template does not declare is harmless and ignored (as in Tekton).
    if (!declared.has(binding.name)) continue;
    let value: EvaluateResult;
    try {
      value = evaluateBinding(binding.value, event, declared.get(binding.name)?.default);
    } catch (e) {
      if (!(e instanceof ValueTooLargeError)) throw e;
      return { ok: false, kind: 'binding', reason: `param "${binding.name}": ${e.message}` };
    }
    if (!value.ok) {
      return {
        ok: false,
        kind: 'binding',
        reason: `param "${binding.name}": $(${value.ref.source}): ${value.message}, and the template gives no default`,
      };
    }
    params.set(binding.name, value.text);
    from.set(binding.name, value.defaulted ? 'default' : 'binding');
  }
  for (const p of template.params) {
    const value = params.get(p.name);
    trace?.({
      trigger: triggerName,
      kind: 'param',
      name: p.name,
      value,
      from: from.get(p.name) ?? 'missing',
    });
    if (value === undefined) {
      return {
        ok: false,
        kind: 'param',
        reason: `param "${p.name}" of template "${template.name}" has no value: no binding sets it and it has no default`,
      };
    }
  }
  return { ok: true, params };
}

type EvaluateResult =
  /** `defaulted`: at least one `$(…)` found nothing and the fallback took its place. */
  | { readonly ok: true; readonly text: string; readonly defaulted: boolean }
  | { readonly ok: false; readonly ref: PathRef; readonly message: string };

/**
 * Evaluates a compiled binding value: literal text is kept, each `$(…)` is replaced by its result. A `$(…)`
 * that finds nothing is replaced by `fallback` (the param's default) when there is one, so
 * `https://github.com/$(body.repository.full_name)` with default `tektoncd/triggers` and body `{}` gives
 * `https://github.com/tektoncd/triggers`, as Tekton's applyEventValuesToParams does. A result larger than
 * `event.maxValueBytes` throws ValueTooLargeError.
 */
export function evaluateBinding(
  expression: BindingExpression,
  event: BindingEvent,
  fallback?: string,
): EvaluateResult {
  const limit = event.maxValueBytes ?? Infinity;
  let text = '';
  let defaulted = false;
  for (const part of expression.parts) {
    if (typeof part === 'string') {
      text += part;
      continue;
    }
    try {
      text += resolveRef(part, event, limit);
    } catch (e) {
      if (!(e instanceof PathNotFoundError)) throw e;
      if (fallback === undefined) return { ok: false, ref: part, message: e.message };
      text += fallback;
      defaulted = true;
    }
    if (text.length > limit) throw new ValueTooLargeError(limit);
  }
  // Characters first (cheap); bytes only when the text could be over in UTF-8.
  if (text.length * 3 > limit && Buffer.byteLength(text) > limit) throw new ValueTooLargeError(limit);
  return { ok: true, text, defaulted };
}

function resolveRef(ref: PathRef, event: BindingEvent, limit: number): string {
  const root: JsonValue =
    ref.root === 'body'
      ? event.body
      : ref.root === 'header'
        ? event.header
        : ref.root === 'extensions'
          ? event.extensions
          : event.scheduledTime === undefined
            ? { eventID: event.eventId }
            : { eventID: event.eventId, scheduledTime: event.scheduledTime };
  const { values, multi } = evaluatePath(root, ref.steps);
  if (values.length === 0) throw new PathNotFoundError('no value matched');
  // One result is printed as itself, even from a slice; several become a JSON array (Tekton's getResults).
  if (values.length === 1 || !multi) return printWithin(values[0]!, limit);
  return stableStringifyWithin(values, limit);
}

function printWithin(value: JsonValue, limit: number): string {
  if (typeof value !== 'string') return stableStringifyWithin(value, limit);
  if (value.length > limit) throw new ValueTooLargeError(limit);
  return value;
}

/** A string as is; numbers, booleans and null as JSON text; objects and arrays as compact sorted-key JSON. */
export function printValue(value: JsonValue): string {
  return typeof value === 'string' ? value : stableStringify(value);
}
