// The scheduler with an injected clock (contract §13, §12.0 items 8 and 11): slots fire once at their
// time, start-up catches up within startingDeadlineSeconds, only the leader fires, transient failures are
// retried until the next slot or the deadline, and a reload re-plans at once. No test waits for real time.
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import type { Config, CreateRequest, CreateResult, Schedule, TriggerOutcome } from '../../src/model.js';
import { handleSlot, type Slot } from '../../src/pipeline/slot.js';
import { Scheduler, type SlotReport } from '../../src/schedule/scheduler.js';
import { FakeClock } from '../helpers/fake-clock.js';

const ms = (iso: string) => Date.parse(iso);

function config(schedules: string): Config {
  const text = `apiVersion: tekton-gateway/v1
templates:
  nightly:
    params:
      - name: ref
      - name: when
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: {generateName: nightly-}
        spec:
          params:
            - {name: ref, value: $(tt.params.ref)}
            - {name: when, value: $(tt.params.when)}
routes:
  - path: /hook
    provider: none
    triggers:
      - name: t
        bindings: [{name: ref, value: x}, {name: when, value: x}]
        template: nightly
schedules:
${schedules}`;
  const result = loadConfigBytes(Buffer.from(text), 'routes.yaml');
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.config;
}

const entry = (name: string, cron: string, extra = '') => `  - name: ${name}
    cron: "${cron}"
    body: {ref: refs/heads/main}
    bindings:
      - {name: ref, value: $(body.ref)}
      - {name: when, value: $(context.scheduledTime)}
    template: nightly
${extra}`;

const created = (name: string): TriggerOutcome => ({ name, outcome: 'created', resources: [] });
const unavailable = (name: string): TriggerOutcome => ({
  name,
  outcome: 'failed',
  failure: 'cluster-unavailable',
  reason: 'the cluster could not create PipelineRun: 503',
  resources: [],
  retryAfterSeconds: undefined,
});

interface Harness {
  clock: FakeClock;
  scheduler: Scheduler;
  runs: { schedule: string; slot: Slot; at: number; deadline: number; config: Config }[];
  reports: SlotReport[];
  next: Map<string, number | undefined>;
  leader: { value: boolean };
}

function harness(
  start: string,
  respond: (schedule: Schedule, attempt: number, slot: Slot) => TriggerOutcome = (s) => created(s.name),
): Harness {
  const clock = new FakeClock(ms(start));
  const runs: Harness['runs'] = [];
  const reports: SlotReport[] = [];
  const next = new Map<string, number | undefined>();
  const leader = { value: true };
  const attempts = new Map<string, number>();
  const scheduler = new Scheduler({
    clock,
    isLeader: () => leader.value,
    run: async (cfg, schedule, slot, deadline) => {
      runs.push({ schedule: schedule.name, slot, at: clock.now(), deadline, config: cfg });
      const n = (attempts.get(slot.eventId) ?? 0) + 1;
      attempts.set(slot.eventId, n);
      return respond(schedule, n, slot);
    },
    onSlot: (r) => reports.push(r),
    onNext: (name, at) => next.set(name, at),
  });
  return { clock, scheduler, runs, reports, next, leader };
}

/** Applies at start-up, lets the catch-up slot (the minute just begun) finish, and forgets it. */
async function begin(h: Harness, cfg: Config): Promise<void> {
  h.scheduler.apply(cfg, 'start');
  await h.clock.advanceBy(0);
  await h.scheduler.idle();
  h.runs.length = 0;
  h.reports.length = 0;
}

/** Fails transiently for one slot only, so a start-up catch-up does not interfere. */
const failing =
  (eventId: string, attemptsFailing = Infinity) =>
  (s: Schedule, attempt: number, slot: Slot): TriggerOutcome =>
    slot.eventId === eventId && attempt <= attemptsFailing ? unavailable(s.name) : created(s.name);

describe('Scheduler: firing', () => {
  it('fires every slot once, at its time, with eventId <name>-<YYYYMMDDTHHMMSSZ>', async () => {
    const h = harness('2026-01-01T00:00:30Z');
    h.scheduler.apply(config(entry('minutely', '* * * * *')), 'start');
    expect(h.next.get('minutely')).toBe(ms('2026-01-01T00:01:00Z'));
    await h.clock.advanceTo(ms('2026-01-01T00:05:30Z'));
    expect(h.runs.map((r) => r.slot.eventId)).toEqual([
      'minutely-20260101T000000Z', // begun 30 s before start-up: caught up
      'minutely-20260101T000100Z',
      'minutely-20260101T000200Z',
      'minutely-20260101T000300Z',
      'minutely-20260101T000400Z',
      'minutely-20260101T000500Z',
    ]);
    expect(h.runs.map((r) => r.at - r.slot.time)).toEqual([30_000, 0, 0, 0, 0, 0]);
    expect(h.reports.map((r) => r.cause)).toEqual(['catch-up', 'timer', 'timer', 'timer', 'timer', 'timer']);
    expect(new Set(h.reports.map((r) => r.result))).toEqual(new Set(['created']));
    expect(h.next.get('minutely')).toBe(ms('2026-01-01T00:06:00Z'));
  });

  it('a slot far away is reached through re-armed timers (no timer longer than a minute)', async () => {
    const h = harness('2026-01-01T00:00:00Z');
    h.scheduler.apply(config(entry('nightly', '0 3 * * *', '    timeZone: Europe/Berlin\n')), 'start');
    await h.clock.advanceTo(ms('2026-01-02T03:00:00Z'));
    expect(h.runs.map((r) => r.slot.eventId)).toEqual([
      'nightly-20260101T020000Z',
      'nightly-20260102T020000Z',
    ]);
  });

  it('the deadline handed to the pipeline is the next slot or the starting deadline, whichever is first', async () => {
    const h = harness('2026-01-01T00:00:30Z');
    h.scheduler.apply(
      config(
        entry('minutely', '* * * * *') + entry('daily', '0 0 * * *', '    startingDeadlineSeconds: 120\n'),
      ),
      'start',
    );
    await h.clock.advanceTo(ms('2026-01-01T00:01:00Z'));
    await h.clock.advanceTo(ms('2026-01-02T00:00:00Z'));
    const minutely = h.runs.find((r) => r.slot.eventId === 'minutely-20260101T000100Z')!;
    expect(minutely.deadline).toBe(ms('2026-01-01T00:02:00Z'));
    const daily = h.runs.find((r) => r.slot.eventId === 'daily-20260102T000000Z')!;
    expect(daily.deadline).toBe(ms('2026-01-02T00:02:00Z'));
  });
});

describe('Scheduler: attempts', () => {
  it('an attempt gets at least gateway.requestTimeoutMs, even just before the next slot', async () => {
    const h = harness('2026-01-01T00:00:00.500Z');
    await begin(h, config(entry('tick', '* * * * * *')));
    await h.clock.advanceTo(ms('2026-01-01T00:00:01Z'));
    expect(h.runs[0]!.deadline).toBe(ms('2026-01-01T00:00:10Z'));
  });

  it('a run that throws (a bug) is reported as failed, not left as an unhandled rejection', async () => {
    const h = harness('2026-01-01T00:00:30Z', (s, _n, slot) => {
      if (slot.eventId === 'a-20260101T000100Z') throw new Error('boom');
      return created(s.name);
    });
    await begin(h, config(entry('a', '* * * * *')));
    await h.clock.advanceTo(ms('2026-01-01T00:02:00Z'));
    expect(h.reports.map((r) => [r.slot.eventId, r.result, r.reason])).toEqual([
      ['a-20260101T000100Z', 'failed', 'internal error: boom'],
      ['a-20260101T000200Z', 'created', undefined],
    ]);
  });
});

describe('Scheduler: start-up catch-up', () => {
  const nightly = (deadline: number) =>
    config(entry('nightly', '0 3 * * *', `    startingDeadlineSeconds: ${deadline}\n`));

  it('started 2 minutes after a slot with a 300 s deadline: runs it once', async () => {
    const h = harness('2026-01-01T03:02:00Z');
    h.scheduler.apply(nightly(300), 'start');
    await h.clock.advanceBy(1000);
    expect(h.runs.map((r) => r.slot.eventId)).toEqual(['nightly-20260101T030000Z']);
    expect(h.reports.map((r) => [r.result, r.cause])).toEqual([['created', 'catch-up']]);
    // Not again at the next reload or timer.
    h.scheduler.apply(nightly(300), 'reload');
    await h.clock.advanceTo(ms('2026-01-01T23:00:00Z'));
    expect(h.runs).toHaveLength(1);
  });

  it('started 2 minutes after a slot with a 60 s deadline: skips it and says so', async () => {
    const h = harness('2026-01-01T03:02:00Z');
    h.scheduler.apply(nightly(60), 'start');
    await h.clock.advanceBy(1000);
    expect(h.runs).toEqual([]);
    expect(h.reports).toHaveLength(1);
    expect(h.reports[0]).toMatchObject({
      result: 'skipped',
      slot: { eventId: 'nightly-20260101T030000Z' },
      reason: 'missed by 120 s, more than startingDeadlineSeconds (60)',
    });
    await h.clock.advanceTo(ms('2026-01-02T03:00:00Z'));
    expect(h.runs.map((r) => r.slot.eventId)).toEqual(['nightly-20260102T030000Z']);
  });

  it('only the latest missed slot is considered', async () => {
    const h = harness('2026-01-01T00:03:30Z');
    h.scheduler.apply(config(entry('minutely', '* * * * *')), 'start');
    await h.clock.advanceBy(100);
    expect(h.runs.map((r) => r.slot.eventId)).toEqual(['minutely-20260101T000300Z']);
  });
});

describe('Scheduler: leadership (§12.0 item 11)', () => {
  it('a replica that does not lead fires nothing', async () => {
    const h = harness('2026-01-01T00:00:30Z');
    h.leader.value = false;
    h.scheduler.apply(config(entry('minutely', '* * * * *')), 'start');
    await h.clock.advanceTo(ms('2026-01-01T00:05:30Z'));
    expect(h.runs).toEqual([]);
    expect(h.reports).toEqual([]);
  });

  it('a replica that becomes leader within the slot window fires the slot', async () => {
    const h = harness('2026-01-01T00:00:30Z');
    h.leader.value = false;
    h.scheduler.apply(config(entry('minutely', '* * * * *')), 'start');
    await h.clock.advanceTo(ms('2026-01-01T00:01:20Z'));
    expect(h.runs).toEqual([]);
    h.leader.value = true;
    await h.clock.advanceTo(ms('2026-01-01T00:01:25Z'));
    expect(h.runs.map((r) => [r.slot.eventId, new Date(r.at).toISOString()])).toEqual([
      ['minutely-20260101T000100Z', '2026-01-01T00:01:21.000Z'],
    ]);
  });
});

describe('Scheduler: transient failures', () => {
  it('are retried within the slot until the create succeeds', async () => {
    const h = harness('2026-01-01T00:00:30Z', failing('minutely-20260101T000100Z', 2));
    await begin(h, config(entry('minutely', '* * * * *')));
    await h.clock.advanceTo(ms('2026-01-01T00:01:30Z'));
    expect(h.runs.map((r) => new Date(r.at).toISOString())).toEqual([
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:01:01.000Z', // 1 s
      '2026-01-01T00:01:03.000Z', // then 2 s
    ]);
    expect(h.reports).toHaveLength(1);
    expect(h.reports[0]).toMatchObject({ result: 'created', attempts: 3, lateMs: 3000 });
  });

  it('stop before the next slot, and the slot counts as failed', async () => {
    const h = harness('2026-01-01T00:00:30Z', failing('minutely-20260101T000100Z'));
    await begin(h, config(entry('minutely', '* * * * *')));
    await h.clock.advanceTo(ms('2026-01-01T00:01:59Z'));
    const first = h.runs.filter((r) => r.slot.eventId === 'minutely-20260101T000100Z');
    // 1, 2, 4, 8, 16, 16 s apart: the attempt after 00:01:47 would start past 00:02:00.
    expect(first.map((r) => new Date(r.at).toISOString().slice(14, 19))).toEqual([
      '01:00',
      '01:01',
      '01:03',
      '01:07',
      '01:15',
      '01:31',
      '01:47',
    ]);
    expect(h.reports).toHaveLength(1);
    expect(h.reports[0]).toMatchObject({ result: 'failed', attempts: 7 });
    expect(h.reports[0]!.reason).toContain('503');
  });

  it('a refusal is not retried', async () => {
    const h = harness('2026-01-01T00:00:30Z', (s) => ({
      name: s.name,
      outcome: 'failed',
      failure: 'cluster-refused',
      reason: 'the cluster refused PipelineRun (HTTP 403)',
      resources: [],
      retryAfterSeconds: undefined,
    }));
    await begin(h, config(entry('minutely', '* * * * *')));
    await h.clock.advanceTo(ms('2026-01-01T00:01:30Z'));
    expect(h.runs).toHaveLength(1);
    expect(h.reports[0]).toMatchObject({ result: 'failed', attempts: 1 });
  });
});

describe('Scheduler: late timers and reloads', () => {
  it('a paused process runs the passed slots still within their deadline and skips older ones', async () => {
    const h = harness('2026-01-01T00:00:30Z');
    await begin(h, config(entry('minutely', '* * * * *', '    startingDeadlineSeconds: 120\n')));
    h.clock.jump(4 * 60_000); // 00:04:30, no timer fired meanwhile
    await h.clock.advanceBy(0);
    expect(h.reports.map((r) => [r.slot.eventId, r.result])).toEqual([
      ['minutely-20260101T000100Z', 'skipped'],
      ['minutely-20260101T000200Z', 'skipped'],
      ['minutely-20260101T000300Z', 'created'],
      ['minutely-20260101T000400Z', 'created'],
    ]);
  });

  it('a removed schedule stops at once and its next time is cleared', async () => {
    const h = harness('2026-01-01T00:00:30Z');
    await begin(h, config(entry('a', '* * * * *') + entry('b', '* * * * *')));
    await h.clock.advanceTo(ms('2026-01-01T00:01:30Z'));
    h.scheduler.apply(config(entry('a', '* * * * *')), 'reload');
    expect(h.next.get('b')).toBeUndefined();
    await h.clock.advanceTo(ms('2026-01-01T00:03:30Z'));
    expect(h.runs.filter((r) => r.schedule === 'b').map((r) => r.slot.eventId)).toEqual([
      'b-20260101T000100Z',
    ]);
    expect(h.runs.filter((r) => r.schedule === 'a')).toHaveLength(3);
  });

  it('a changed cron takes effect from its next slot; an unchanged schedule is not fired again', async () => {
    const h = harness('2026-01-01T00:00:30Z');
    await begin(h, config(entry('a', '* * * * *')));
    await h.clock.advanceTo(ms('2026-01-01T00:01:30Z'));
    h.scheduler.apply(config(entry('a', '*/10 * * * *')), 'reload');
    expect(h.next.get('a')).toBe(ms('2026-01-01T00:10:00Z'));
    await h.clock.advanceTo(ms('2026-01-01T00:20:30Z'));
    expect(h.runs.map((r) => r.slot.eventId)).toEqual([
      'a-20260101T000100Z',
      'a-20260101T001000Z',
      'a-20260101T002000Z',
    ]);
  });

  it('a new schedule added by a reload catches up its latest slot within the deadline', async () => {
    const h = harness('2026-01-01T03:01:00Z');
    h.scheduler.apply(config(entry('a', '0 * * * *')), 'start');
    h.scheduler.apply(config(entry('a', '0 * * * *') + entry('b', '0 3 * * *')), 'reload');
    await h.clock.advanceBy(10);
    expect(h.runs.map((r) => r.slot.eventId)).toEqual(['a-20260101T030000Z', 'b-20260101T030000Z']);
    // A slot older than the deadline of a schedule that did not exist then is not reported as missed.
    h.scheduler.apply(config(entry('a', '0 * * * *') + entry('c', '0 2 * * *')), 'reload');
    await h.clock.advanceBy(10);
    expect(h.reports.filter((r) => r.result === 'skipped')).toEqual([]);
  });

  it('a slot runs on the snapshot it began with, even when a reload lands during its retries', async () => {
    const h = harness('2026-01-01T00:00:30Z', failing('a-20260101T000100Z', 1));
    const first = config(entry('a', '* * * * *'));
    await begin(h, first);
    await h.clock.advanceTo(ms('2026-01-01T00:01:00Z'));
    h.scheduler.apply(config(entry('a', '* * * * *', '    namespace: other\n')), 'reload');
    await h.clock.advanceTo(ms('2026-01-01T00:01:10Z'));
    expect(h.runs.filter((r) => r.slot.eventId === 'a-20260101T000100Z').map((r) => r.config)).toEqual([
      first,
      first,
    ]);
  });

  it('stop() ends timers and retries', async () => {
    const h = harness('2026-01-01T00:00:30Z', failing('a-20260101T000100Z'));
    await begin(h, config(entry('a', '* * * * *')));
    await h.clock.advanceTo(ms('2026-01-01T00:01:00Z'));
    h.scheduler.stop();
    await h.scheduler.idle();
    await h.clock.advanceTo(ms('2026-01-01T00:05:00Z'));
    expect(h.runs).toHaveLength(1);
    expect(h.clock.pending).toBe(0);
  });
});

describe('handleSlot: a slot through the real pipeline', () => {
  const requests: CreateRequest[] = [];
  const create = async (r: CreateRequest): Promise<CreateResult> => {
    requests.push(r);
    return requests.filter((q) => (q.object.metadata as any).name === (r.object.metadata as any).name)
      .length > 1
      ? { kind: 'exists', afterLostAttempt: false }
      : { kind: 'created', object: r.object };
  };
  const io = {
    now: () => ms('2026-01-01T03:00:00Z'),
    randomUUID: () => '00000000-0000-4000-8000-000000000000',
    secrets: () => undefined,
    create,
    serverDryRun: false,
    skipVerify: true,
    deadline: ms('2026-01-01T03:05:00Z'),
    trace: undefined,
  };

  it('renders $(body.x) and $(context.scheduledTime), labels the run, and names it from the slot', async () => {
    const cfg = config(entry('nightly', '0 3 * * *', '    namespace: batch\n'));
    const schedule = cfg.schedules[0]!;
    const slot = { time: ms('2026-01-01T03:00:00Z'), eventId: 'nightly-20260101T030000Z' };
    const outcome = await handleSlot(cfg, schedule, slot, io);
    expect(outcome.outcome).toBe('created');
    const object = requests[0]!.object as any;
    expect(requests[0]!.namespace).toBe('batch');
    expect(object.spec.params).toEqual([
      { name: 'ref', value: 'refs/heads/main' },
      { name: 'when', value: '2026-01-01T03:00:00Z' },
    ]);
    expect(object.metadata.labels).toMatchObject({
      'triggers.tekton.dev/trigger': 'nightly',
      'triggers.tekton.dev/triggers-eventid': 'nightly-20260101T030000Z',
      'app.kubernetes.io/managed-by': 'tekton-gateway',
    });
    expect(object.metadata.name).toMatch(/^nightly-[a-z0-9]{10}$/);
    // The same slot on another replica renders the same name, and the create ends duplicate.
    const again = await handleSlot(cfg, schedule, slot, io);
    expect(again.outcome).toBe('duplicate');
    expect((requests[1]!.object.metadata as any).name).toBe(object.metadata.name);
    // Another slot gets another name.
    await handleSlot(
      cfg,
      schedule,
      { time: slot.time + 86_400_000, eventId: 'nightly-20260102T030000Z' },
      io,
    );
    expect((requests[2]!.object.metadata as any).name).not.toBe(object.metadata.name);
  });

  it('without a cluster (serve --dry-run) the outcome carries the objects it would create', async () => {
    const cfg = config(entry('nightly', '0 3 * * *'));
    const outcome = await handleSlot(
      cfg,
      cfg.schedules[0]!,
      { time: ms('2026-01-01T03:00:00Z'), eventId: 'nightly-20260101T030000Z' },
      { ...io, create: undefined },
    );
    expect(outcome.outcome).toBe('rendered');
    expect(outcome.outcome === 'rendered' && outcome.objects[0]!.kind).toBe('PipelineRun');
  });
});
