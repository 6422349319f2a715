// The trigger's interceptor stage, as Tekton's CEL interceptor runs it (tektoncd/triggers
// pkg/interceptors/cel): the event type first, then every filter in order (all must return exactly `true`), then the overlays,
// each evaluated against the same input and written into a fresh `extensions` object.
import type { CelInput, JsonObject, JsonValue, TraceEvent, Trigger } from '../model.js';
import { setOverlayValue } from './overlay-path.js';

export type InterceptResult =
  | { kind: 'pass'; extensions: Record<string, JsonValue> }
  /** The event type or a filter said no: the trigger is skipped, which is not an error. */
  | { kind: 'skip'; reason: string }
  /** A CEL evaluation error: the trigger fails (422); retrying the same payload cannot help. */
  | { kind: 'error'; reason: string };

/** A filter's non-boolean result, shown in a reason without echoing a whole payload. */
function preview(value: JsonValue): string {
  const text = JSON.stringify(value);
  return text.length <= 120 ? text : `${text.slice(0, 120)}…`;
}

export function intercept(
  trigger: Pick<Trigger, 'name' | 'events' | 'filters' | 'overlays'>,
  event: string | undefined,
  input: CelInput,
  trace?: (e: TraceEvent) => void,
): InterceptResult {
  if (trigger.events !== undefined) {
    const accepted = `[${trigger.events.join(', ')}]`;
    if (event === undefined)
      return { kind: 'skip', reason: `no event type was sent; the trigger accepts ${accepted}` };
    if (!trigger.events.includes(event)) {
      return { kind: 'skip', reason: `event type "${event}" is not in ${accepted}` };
    }
  }

  for (const filter of trigger.filters) {
    const result = filter.evaluate(input);
    trace?.({ trigger: trigger.name, kind: 'filter', source: filter.source, result });
    if (!result.ok) return { kind: 'error', reason: `filter ${filter.source} failed: ${result.error}` };
    if (result.value === true) continue;
    if (result.value === false) return { kind: 'skip', reason: `filter returned false: ${filter.source}` };
    return { kind: 'skip', reason: `filter returned ${preview(result.value)}, not true: ${filter.source}` };
  }

  // Every overlay sees the input as the filters saw it, not the previous overlays' results (as in Tekton).
  const extensions: JsonObject = {};
  for (const { key, expression } of trigger.overlays) {
    const result = expression.evaluate(input);
    trace?.({ trigger: trigger.name, kind: 'overlay', source: expression.source, result });
    if (!result.ok) {
      return { kind: 'error', reason: `overlay "${key}" (${expression.source}) failed: ${result.error}` };
    }
    setOverlayValue(extensions, key, result.value);
  }
  return { kind: 'pass', extensions };
}
