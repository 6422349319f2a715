// `serve`'s side of schedules: the Scheduler wired to the pipeline (handleSlot with the same create call
// webhooks use), to the logs (§10: one line per slot; `--dry-run` logs the objects a slot would create)
// and to the metrics (§9). Leadership comes in as `isLeader` (§12.0 item 11).
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Config, CreateFn, SecretLookup } from '../model.js';
import { handleSlot } from '../pipeline/slot.js';
import { Scheduler, systemClock, type Clock, type SlotReport } from './scheduler.js';
import { formatInZone } from './zone.js';

export interface ScheduleWiring {
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  /** Undefined in `--dry-run`: slots answer `rendered` and log their objects. */
  readonly create: CreateFn | undefined;
  readonly serverDryRun: boolean;
  readonly secrets: SecretLookup;
  readonly isLeader: () => boolean;
  readonly randomUUID: () => string;
  /** The instance label and the state key webhooks stamp with: a slot's runs are followed like theirs. */
  readonly instance?: string;
  readonly stateKey?: Buffer;
  readonly clock?: Clock;
}

export function startSchedules(config: Config, wiring: ScheduleWiring): Scheduler {
  const { log, metrics } = wiring;
  const clock = wiring.clock ?? systemClock;
  const scheduler = new Scheduler({
    clock,
    isLeader: wiring.isLeader,
    run: (snapshot, schedule, slot, deadline) =>
      handleSlot(snapshot, schedule, slot, {
        now: () => clock.now(),
        randomUUID: wiring.randomUUID,
        secrets: wiring.secrets,
        create: wiring.create,
        serverDryRun: wiring.serverDryRun,
        skipVerify: true,
        deadline,
        trace: undefined,
        instance: wiring.instance,
        stateKey: wiring.stateKey,
      }),
    onSlot: (report) => {
      logSlot(log, report);
      const outcome = report.outcome;
      const kinds =
        outcome?.outcome === 'created' && !wiring.serverDryRun ? outcome.resources.map((r) => r.kind) : [];
      metrics.scheduleRun(
        report.schedule.name,
        report.result,
        outcome
          ? { route: report.schedule.route.path, name: report.schedule.trigger.name, kinds }
          : undefined,
      );
    },
    onNext: (name, nextMs) => {
      metrics.scheduleNextRun(name, nextMs);
    },
    onNote: (message, fields) => log.debug(message, fields),
  });
  scheduler.apply(config, 'start');
  if (config.schedules.length > 0) {
    log.info('schedules', {
      schedules: config.schedules.map((s) => {
        const next = scheduler.nextSlots().get(s.name);
        return {
          name: s.name,
          cron: s.cron.source,
          timeZone: s.timeZone,
          next: next === undefined ? null : formatInZone(next, s.timeZone),
        };
      }),
    });
  }
  return scheduler;
}

function logSlot(log: Logger, report: SlotReport): void {
  const { schedule, slot, outcome } = report;
  const fields: Record<string, unknown> = {
    eventId: slot.eventId,
    schedule: schedule.name,
    route: schedule.route.path,
    scheduledTime: new Date(slot.time).toISOString(),
    outcome: report.result,
    cause: report.cause,
    attempts: report.attempts,
    lateMs: report.lateMs,
  };
  if (report.reason !== undefined) fields.reason = report.reason;
  if (outcome?.outcome === 'created' || outcome?.outcome === 'duplicate')
    fields.resources = outcome.resources;
  if (outcome?.outcome === 'failed') {
    fields.failure = outcome.failure;
    fields.resources = outcome.resources;
  }
  // What a slot would create, in full: the objects come from routes.yaml and the clock, never a payload.
  if (outcome?.outcome === 'rendered') fields.objects = outcome.objects;
  switch (report.result) {
    case 'failed':
      log.error('schedule slot', fields);
      break;
    case 'skipped':
      log.warn('schedule slot', fields);
      break;
    default:
      log.info('schedule slot', fields);
  }
}
