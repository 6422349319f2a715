// Bindings → params (contract §5; tektoncd/triggers pkg/template/event.go). Template defaults go in first,
// binding values override them; a reference that finds nothing falls back to the param's default, else the
// trigger fails naming the param and the path.
import type { Binding, BindingExpression, JsonValue, PathRef, Template, TraceEvent } from '../model.js';
import { PathNotFoundError, evaluatePath } from './jsonpath.js';
import { stableStringify } from './stable-json.js';

/** What `$(…)` can read: the parsed body, headers joined per name, the overlays' extensions, the event id. */
export interface BindingEvent {
  readonly body: JsonValue;
  /** Canonical header name → values joined with `,` (Tekton joins Go's header lists this way). */
  readonly header: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, JsonValue>>;
  readonly eventId: string;
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
    const value = evaluateBinding(binding.value, event);
    if (value.ok) {
      params.set(binding.name, value.text);
      from.set(binding.name, 'binding');
    } else if (declared.get(binding.name)?.default === undefined) {
      return {
        ok: false,
        kind: 'binding',
        reason: `param "${binding.name}": $(${value.ref.source}): ${value.message}, and the template gives no default`,
      };
    }
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
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly ref: PathRef; readonly message: string };

/** Evaluates a compiled binding value: literal text is kept, each `$(…)` is replaced by its result. */
export function evaluateBinding(expression: BindingExpression, event: BindingEvent): EvaluateResult {
  let text = '';
  for (const part of expression.parts) {
    if (typeof part === 'string') {
      text += part;
      continue;
    }
    try {
      text += resolveRef(part, event);
    } catch (e) {
      if (e instanceof PathNotFoundError) return { ok: false, ref: part, message: e.message };
      throw e;
    }
  }
  return { ok: true, text };
}

function resolveRef(ref: PathRef, event: BindingEvent): string {
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
  if (values.length === 1 || !multi) return printValue(values[0]!);
  return stableStringify(values);
}

/** A string as is; numbers, booleans and null as JSON text; objects and arrays as compact sorted-key JSON. */
export function printValue(value: JsonValue): string {
  return typeof value === 'string' ? value : stableStringify(value);
}
