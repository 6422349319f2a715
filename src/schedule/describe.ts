// How schedules read in `routes` (text, §7) and the admin port's `GET /routes` (JSON): each with its cron,
// zone, template, namespace and its next three times written in its own zone with the offset (§12.0 item 11).
import type { Config, JsonObject, Schedule } from '../model.js';
import { formatInZone } from './zone.js';

/** The next `n` slots after `now`, in the schedule's zone. */
export function nextTimes(schedule: Schedule, now: number, n = 3): string[] {
  const out: string[] = [];
  for (let t = schedule.cron.next(now); t !== undefined && out.length < n; t = schedule.cron.next(t)) {
    out.push(formatInZone(t, schedule.timeZone));
  }
  return out;
}

function namespaceOf(config: Config, schedule: Schedule): string {
  return schedule.trigger.namespace ?? config.gateway.namespace;
}

export function formatSchedules(config: Config, now: number): string[] {
  const lines: string[] = [];
  for (const s of [...config.schedules].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(
      `schedule ${s.name}  (cron "${s.cron.source}" in ${s.timeZone}, startingDeadlineSeconds ${s.startingDeadlineSeconds})`,
    );
    lines.push(`  → template ${s.trigger.template.name} in namespace ${namespaceOf(config, s)}`);
    lines.push(`  next: ${nextTimes(s, now).join(', ')}`);
    for (const p of s.trigger.template.params) {
      const bound = s.trigger.bindings.find((b) => b.name === p.name);
      const how = bound
        ? `= ${bound.value.text}`
        : p.default !== undefined
          ? `(default ${JSON.stringify(p.default)})`
          : '(required)';
      lines.push(`  param ${p.name} ${how}`);
    }
  }
  return lines;
}

export function describeSchedules(config: Config, now: number): JsonObject[] {
  return config.schedules.map((s) => ({
    name: s.name,
    route: s.route.path,
    cron: s.cron.source,
    timeZone: s.timeZone,
    startingDeadlineSeconds: s.startingDeadlineSeconds,
    namespace: namespaceOf(config, s),
    template: s.trigger.template.name,
    next: nextTimes(s, now),
  }));
}
