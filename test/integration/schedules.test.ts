// Issue #18 end to end: schedules fired by the real `serve` against the fake Kubernetes API (contract §13).
// One replica in-process with an every-second schedule; three replicas as separate processes of the built
// binary (`npm run build` first), where every slot must end as exactly one run: zero duplicates, zero
// missed; an API that fails at slot time, recovered within the slot; a start-up two minutes after a real
// slot (caught up with the default deadline, skipped with 60 s); a reload removing a schedule. DST,
// leadership and the finer timing are driven with an injected clock in test/schedule/.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { routesFile } from '../helpers/gateway.js';
import {
  Cleanup,
  EVENTID,
  LISTENER,
  MANAGED_BY,
  TRIGGER,
  childGateway,
  fakeKube,
  gatewayOn,
  type Obj,
} from './harness.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const routes = (cron: string) =>
  routesFile(`apiVersion: tekton-gateway/v1
templates:
  tick:
    params:
      - name: ref
      - name: when
      - name: id
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: {generateName: tick-}
        spec:
          pipelineRef: {name: tick}
          params:
            - {name: ref, value: $(tt.params.ref)}
            - {name: when, value: $(tt.params.when)}
            - {name: id, value: $(tt.params.id)}
routes:
  - path: /unused
    provider: none
    triggers:
      - name: t
        bindings: [{name: ref, value: x}, {name: when, value: x}, {name: id, value: x}]
        template: tick
schedules:
  - name: tick
    cron: "${cron}"
    namespace: ci
    body: {ref: refs/heads/main}
    bindings:
      - {name: ref, value: $(body.ref)}
      - {name: when, value: $(context.scheduledTime)}
      - {name: id, value: $(context.eventID)}
    template: tick
`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `tick-20260101T000001Z` → its slot in epoch milliseconds. */
function slotOf(eventId: string): number {
  const m = /^tick-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(eventId);
  if (!m) throw new Error(`not a slot eventId: ${eventId}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

const runsOf = (objects: Obj[]) => objects.filter((o) => o.kind === 'PipelineRun');

/** Per slot: how many runs; and the slots between the first and last seen that have none. */
function tally(runs: Obj[], stepMs: number) {
  const perSlot = new Map<number, number>();
  for (const r of runs) {
    const slot = slotOf(r.metadata.labels[EVENTID]);
    perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
  }
  const slots = [...perSlot.keys()].sort((a, b) => a - b);
  const missed: number[] = [];
  for (let s = slots[0]!; s <= slots.at(-1)!; s += stepMs) if (!perSlot.has(s)) missed.push(s);
  const duplicates = [...perSlot.values()].reduce((n, c) => n + (c - 1), 0);
  return { slots, missed, duplicates };
}

describe('schedules through a real serve', () => {
  it('an every-second schedule creates one run per slot, rendered from the body and the slot', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, routes('* * * * * *'));
    await waitFor('6 runs', () => runsOf(fake.objects()).length >= 6, 15_000);
    await gw.stop();
    const runs = runsOf(fake.objects());
    const { slots, missed, duplicates } = tally(runs, 1000);
    expect(slots.length).toBeGreaterThanOrEqual(6);
    expect(missed).toEqual([]);
    expect(duplicates).toBe(0);
    for (const run of runs) {
      const eventId = run.metadata.labels[EVENTID] as string;
      const when = new Date(slotOf(eventId)).toISOString().replace('.000Z', 'Z');
      expect(run.metadata.namespace).toBe('ci');
      expect(run.metadata.name).toMatch(/^tick-[a-z0-9]{10}$/);
      expect(run.metadata.labels).toMatchObject({
        [TRIGGER]: 'tick',
        [LISTENER]: 'tekton-gateway',
        [MANAGED_BY]: 'tekton-gateway',
      });
      expect(run.spec.params).toEqual([
        { name: 'ref', value: 'refs/heads/main' },
        { name: 'when', value: when },
        { name: 'id', value: eventId },
      ]);
    }
    // One log line per slot, and the metrics of §9.
    const lines = gw.logs.flatMap((l) => l.split('\n')).filter((l) => l.includes('"schedule slot"'));
    expect(lines.length).toBeGreaterThanOrEqual(runs.length);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', schedule: 'tick', route: 'schedules/tick' });
  });

  it('exports schedule_runs_total and schedule_next_run_timestamp_seconds', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, routes('* * * * * *'));
    await waitFor('2 runs', () => runsOf(fake.objects()).length >= 2, 10_000);
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const created = /^tekton_gateway_schedule_runs_total\{schedule="tick",outcome="created"\} (\d+)$/m.exec(
      text,
    );
    expect(Number(created?.[1])).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^tekton_gateway_schedule_runs_total\{schedule="tick",outcome="failed"\} 0$/m);
    const next = /^tekton_gateway_schedule_next_run_timestamp_seconds\{schedule="tick"\} (\d+)$/m.exec(text);
    expect(Math.abs(Number(next?.[1]) - Date.now() / 1000)).toBeLessThan(3);
    expect(text).toMatch(
      /^tekton_gateway_resources_created_total\{route="schedules\/tick",trigger="tick",kind="PipelineRun"\} [1-9]/m,
    );
  });

  it('an API failing at slot time is retried and the slot still gets its run', async () => {
    const fake = await fakeKube(cleanup, { faults: { errorRate: 1, status: 503, times: 3 } });
    const gw = await gatewayOn(cleanup, fake, routes('*/3 * * * * *'));
    const slotLines = () =>
      gw.logs
        .flatMap((l) => l.split('\n'))
        .filter((l) => l.includes('"schedule slot"'))
        .map((l) => JSON.parse(l) as Obj);
    await waitFor('a created slot', () => slotLines().some((l) => l.outcome === 'created'), 10_000);
    const posts = fake.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThanOrEqual(4); // three refused, then the one that stored it
    const run = runsOf(fake.objects())[0]!;
    const line = slotLines().find((l) => l.eventId === run.metadata.labels[EVENTID]);
    expect(line).toMatchObject({ outcome: 'created' });
  });

  it('a reload that removes the schedule stops it at once', async () => {
    const fake = await fakeKube(cleanup);
    const file = routes('* * * * * *');
    const gw = await gatewayOn(cleanup, fake, file);
    await waitFor('2 runs', () => runsOf(fake.objects()).length >= 2, 10_000);
    const yaml = readFileSync(file, 'utf8');
    writeFileSync(file, yaml.slice(0, yaml.indexOf('schedules:')));
    expect(gw.handle.reload()).toBe(true);
    const atReload = runsOf(fake.objects()).length;
    await sleep(2500);
    // At most the slot already being created when the reload landed.
    expect(runsOf(fake.objects()).length - atReload).toBeLessThanOrEqual(1);
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(text).not.toMatch(/^tekton_gateway_schedule_next_run_timestamp_seconds\{/m);
  });

  // The slot is a real one, two minutes before start-up: a six-field cron naming that second of the year.
  const twoMinutesAgo = () => {
    const slot = new Date(Math.floor(Date.now() / 1000) * 1000 - 120_000);
    const cron = `${slot.getUTCSeconds()} ${slot.getUTCMinutes()} ${slot.getUTCHours()} ${slot.getUTCDate()} ${slot.getUTCMonth() + 1} *`;
    return { slot, cron };
  };
  const eventIdOf = (slot: Date) =>
    `tick-${slot
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.000Z$/, 'Z')}`;

  it('started 2 minutes after a slot with the default 300 s deadline: runs it once', async () => {
    const fake = await fakeKube(cleanup);
    const { slot, cron } = twoMinutesAgo();
    const gw = await gatewayOn(cleanup, fake, routes(cron));
    await waitFor('the caught-up run', () => runsOf(fake.objects()).length >= 1, 10_000);
    await sleep(500);
    const runs = runsOf(fake.objects());
    expect(runs.map((r) => r.metadata.labels[EVENTID])).toEqual([eventIdOf(slot)]);
    const line = gw.logs.find((l) => l.includes('"schedule slot"'));
    expect(JSON.parse(line!)).toMatchObject({ outcome: 'created', cause: 'catch-up' });
  });

  it('started 2 minutes after a slot with a 60 s deadline: skips it, says so and counts it', async () => {
    const fake = await fakeKube(cleanup);
    const { slot, cron } = twoMinutesAgo();
    const file = routes(cron);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        /template: tick\n$/,
        'template: tick\n    startingDeadlineSeconds: 60\n',
      ),
    );
    const gw = await gatewayOn(cleanup, fake, file);
    await waitFor('the skip line', () => gw.logs.some((l) => l.includes('"schedule slot"')), 10_000);
    const line = JSON.parse(gw.logs.find((l) => l.includes('"schedule slot"'))!);
    expect(line).toMatchObject({ level: 'warn', outcome: 'skipped', eventId: eventIdOf(slot) });
    expect(line.reason).toMatch(/^missed by 12\d s, more than startingDeadlineSeconds \(60\)$/);
    expect(runsOf(fake.objects())).toEqual([]);
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(text).toMatch(/^tekton_gateway_schedule_runs_total\{schedule="tick",outcome="skipped"\} 1$/m);
  });

  it('three replicas: every slot ends as exactly one run (the others answer duplicate)', async () => {
    const fake = await fakeKube(cleanup);
    const file = routes('* * * * * *');
    const replicas = await Promise.all([0, 1, 2].map(() => childGateway(file, fake.kubeconfigPath)));
    for (const r of replicas) cleanup.add(() => r.stop());
    const allUp = Date.now();
    await waitFor(
      '11 slots with all replicas up',
      () => runsOf(fake.objects()).filter((o) => slotOf(o.metadata.labels[EVENTID]) > allUp).length >= 11,
      30_000,
    );
    // Slots while all three run; the one being fired when they stop may end either way.
    const stopping = Date.now() - 1000;
    await Promise.all(replicas.map((r) => r.stop()));
    const runs = runsOf(fake.objects()).filter((o) => {
      const slot = slotOf(o.metadata.labels[EVENTID]);
      return slot > allUp && slot < stopping;
    });
    const { slots, missed, duplicates } = tally(runs, 1000);
    expect(slots.length).toBeGreaterThanOrEqual(10);
    expect(missed).toEqual([]);
    expect(duplicates).toBe(0);
    // Each replica fired each slot (no Lease yet: dedupe is what keeps one run per slot).
    const outcomes = replicas.flatMap((r) =>
      r.logs
        .filter((l) => l.msg === 'schedule slot' && slots.includes(slotOf(l.eventId)))
        .map((l) => l.outcome as string),
    );
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(slots.length);
    expect(outcomes.filter((o) => o === 'duplicate').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o !== 'created' && o !== 'duplicate')).toEqual([]);
  });
});
