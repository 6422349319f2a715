// `schedules:` in routes.yaml (contract §13) → compiled Schedules. The loader (load.ts) hands in its own
// reporting and trigger compiler, so a schedule's bindings and template are checked exactly as a
// trigger's, and every problem points at its node (LINE:COL) like the rest of the file.
import { keepOf } from './follow.js';
import type { JsonObject, Keep, PathRef, Route, Schedule, Trigger } from '../model.js';
import { compileCron } from '../schedule/cron.js';
import { checkTimeZone } from '../schedule/zone.js';
import type { PathSegment } from './schema-dsl.js';

export const SCHEDULE_DEFAULTS = { timeZone: 'UTC', startingDeadlineSeconds: 300 } as const;

/** What the loader lends: its problem list, its trigger compiler, and scalar positions. */
export interface ScheduleHooks {
  report(path: readonly PathSegment[], message: string, offset?: number): void;
  /** Compiles name, bindings, template, namespace and serviceAccountName as for a route's trigger. */
  trigger(spec: Record<string, unknown>, at: readonly PathSegment[]): Trigger | undefined;
  /** Offset of a scalar's first character (inside quotes), so a cron problem points at the expression. */
  textStart(path: readonly PathSegment[]): number;
  /** gateway.keep, inherited by a schedule without its own. */
  readonly gatewayKeep: Keep | undefined;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) ? v : undefined;

export function compileSchedules(specs: readonly unknown[], hooks: ScheduleHooks): Schedule[] {
  const out: Schedule[] = [];
  const names = new Map<string, number>();
  specs.forEach((raw, i) => {
    const spec = obj(raw);
    if (!spec) return;
    const at = ['schedules', i];
    const name = str(spec.name);
    if (name !== undefined) {
      const earlier = names.get(name);
      if (earlier !== undefined)
        hooks.report([...at, 'name'], `schedule "${name}" is already defined by schedules[${earlier}]`);
      else names.set(name, i);
    }
    const timeZone = str(spec.timeZone) ?? SCHEDULE_DEFAULTS.timeZone;
    const zoneProblem = checkTimeZone(timeZone);
    if (zoneProblem !== undefined) hooks.report([...at, 'timeZone'], zoneProblem);
    const expression = str(spec.cron);
    const cron =
      expression !== undefined && zoneProblem === undefined ? compileCron(expression, timeZone) : undefined;
    if (cron && !cron.ok) hooks.report([...at, 'cron'], cron.error, hooks.textStart([...at, 'cron']));
    const own = keepOf(spec.keep);
    // §12.0 item 6: the schedule's own keep, else gateway.keep; `keep: false` turns an inherited one off.
    const keep = own === false ? undefined : (own ?? hooks.gatewayKeep);
    const compiled = hooks.trigger(spec, at);
    const trigger = compiled && { ...compiled, keep };
    if (trigger) checkScheduleBindings(trigger, [...at, 'bindings'], hooks);
    if (name === undefined || trigger === undefined || !cron?.ok) return;
    const route: Route = {
      path: `schedules/${name}`,
      provider: 'none',
      secretRefs: [],
      namespace: undefined,
      serviceAccountName: undefined,
      dedupe: 'auto',
      events: undefined,
      signature: undefined,
      eventHeader: undefined,
      deliveryHeader: undefined,
      triggers: [trigger],
    };
    out.push({
      name,
      cron: cron.cron,
      timeZone,
      body: (obj(spec.body) ?? {}) as JsonObject,
      startingDeadlineSeconds: int(spec.startingDeadlineSeconds) ?? SCHEDULE_DEFAULTS.startingDeadlineSeconds,
      keep,
      route,
      trigger,
    });
  });
  return out;
}

function refs(trigger: Trigger): { param: string; ref: PathRef }[] {
  return trigger.bindings.flatMap((b) =>
    b.value.parts.filter((p): p is PathRef => typeof p !== 'string').map((ref) => ({ param: b.name, ref })),
  );
}

/** A slot has no request: `$(header.X)` and `$(extensions.x)` could never resolve. */
function checkScheduleBindings(trigger: Trigger, at: readonly PathSegment[], hooks: ScheduleHooks): void {
  for (const { param, ref } of refs(trigger)) {
    if (ref.root === 'header' || ref.root === 'extensions') {
      hooks.report(
        at,
        `param "${param}": $(${ref.source}) can never resolve in a schedule (a slot has no ${ref.root === 'header' ? 'headers' : 'overlays'}); use $(body.x) with the schedule's body, $(context.eventID) or $(context.scheduledTime)`,
      );
    }
  }
}

/** A webhook has no slot: `$(context.scheduledTime)` in a route's trigger could never resolve. */
export function checkRouteBindings(
  trigger: Trigger,
  at: readonly PathSegment[],
  report: ScheduleHooks['report'],
): void {
  for (const { param, ref } of refs(trigger)) {
    if (ref.root === 'context' && ref.steps[0]?.kind === 'field' && ref.steps[0].name === 'scheduledTime') {
      report(
        at,
        `param "${param}": $(context.scheduledTime) exists only in schedules (§13); a webhook has no slot time`,
      );
    }
  }
}
