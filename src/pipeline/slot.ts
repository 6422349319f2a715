// One schedule slot through the same flow as a webhook (contract §13): bind → render → create → outcome.
// There is nothing to verify or parse: the body is the schedule's literal `body`, the eventId
// `<name>-<YYYYMMDDTHHMMSSZ>` is also the dedupe key, so every replica renders the same names and a second
// create of a slot ends `duplicate`.
import type { Config, PipelineIO, ResourceRef, Schedule, TriggerOutcome } from '../model.js';
import { runTrigger, withDeadline, type Flow } from './handle.js';

export interface Slot {
  /** Epoch milliseconds of the slot (whole seconds). */
  readonly time: number;
  readonly eventId: string;
}

/** `<name>-<YYYYMMDDTHHMMSSZ>`: the slot in UTC, so every replica and every zone agrees. */
export function slotEventId(name: string, timeMs: number): string {
  const stamp = new Date(timeMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${name}-${stamp}`;
}

export function handleSlot(
  config: Config,
  schedule: Schedule,
  slot: Slot,
  io: PipelineIO,
): Promise<TriggerOutcome> | TriggerOutcome {
  const flow: Flow = {
    config,
    route: schedule.route,
    io,
    body: schedule.body,
    event: undefined,
    eventId: slot.eventId,
    key: slot.eventId,
    header: {},
    requestURL: '',
    scheduledTime: new Date(slot.time).toISOString().replace(/\.000Z$/, 'Z'),
    // A slot "arrives" at its time: concurrency orders members by it (§12.0 item 7).
    receivedAt: slot.time,
  };
  const progress: ResourceRef[] = [];
  // A slot has no incoming request to trace (docs/tracing.md): no trigger span.
  const outcome = runTrigger(flow, schedule.trigger, progress, undefined);
  return outcome instanceof Promise ? withDeadline(schedule.trigger, outcome, io, progress) : outcome;
}
