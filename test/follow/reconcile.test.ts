// The follower's decisions as tables (contract §12.0 items 5–7, §12.1–§12.3): runs in, actions out, no
// cluster.
import { describe, expect, it } from 'vitest';
import {
  groupActions,
  orphanAction,
  pruneActions,
  reportAction,
  type Keep,
} from '../../src/follow/reconcile.js';
import { runStateOf, viewOf, type RunView } from '../../src/follow/run-state.js';

type Phase = 'new' | 'pending' | 'started' | 'succeeded' | 'failed' | 'timeout' | 'cancelled';

interface RunSpec {
  name: string;
  kind?: 'PipelineRun' | 'TaskRun';
  phase?: Phase;
  specStatus?: string;
  reported?: string;
  failed?: string;
  receivedAt?: string;
  completionTime?: string;
  createdAt?: string;
  route?: string | null;
  group?: string;
  cancelInProgress?: boolean;
  limit?: number;
}

function run(s: RunSpec): Record<string, unknown> {
  const conditions: Record<Phase, unknown[]> = {
    new: [],
    pending: [{ type: 'Succeeded', status: 'Unknown', reason: 'PipelineRunPending' }],
    started: [{ type: 'Succeeded', status: 'Unknown', reason: 'Running' }],
    succeeded: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
    failed: [{ type: 'Succeeded', status: 'False', reason: 'Failed', message: 'task build failed' }],
    timeout: [{ type: 'Succeeded', status: 'False', reason: 'PipelineRunTimeout' }],
    cancelled: [
      { type: 'Succeeded', status: 'False', reason: s.kind === 'TaskRun' ? 'TaskRunCancelled' : 'Cancelled' },
    ],
  };
  const phase = s.phase ?? 'new';
  const annotations: Record<string, string> = {
    'tekton-gateway.dev/received-at': s.receivedAt ?? '2026-12-02T10:00:00.000Z',
  };
  if (s.route !== null) annotations['tekton-gateway.dev/route'] = s.route ?? '/hook';
  if (s.reported) annotations['tekton-gateway.dev/status-reported'] = s.reported;
  if (s.failed) annotations['tekton-gateway.dev/status-failed'] = s.failed;
  if (s.cancelInProgress) annotations['tekton-gateway.dev/cancel-in-progress'] = 'true';
  if (s.limit !== undefined) annotations['tekton-gateway.dev/concurrency-limit'] = String(s.limit);
  return {
    apiVersion: 'tekton.dev/v1',
    kind: s.kind ?? 'PipelineRun',
    metadata: {
      name: s.name,
      namespace: 'ci',
      uid: `uid-${s.name}`,
      creationTimestamp: s.createdAt ?? '2026-12-02T10:00:00Z',
      labels: {
        'triggers.tekton.dev/trigger': 'build',
        ...(s.group ? { 'tekton-gateway.dev/concurrency': s.group } : {}),
      },
      annotations,
    },
    spec: { pipelineRef: { name: 'b' }, ...(s.specStatus ? { status: s.specStatus } : {}) },
    status: {
      ...(phase !== 'new' && phase !== 'pending' ? { startTime: '2026-12-02T10:00:01Z' } : {}),
      ...(s.completionTime ? { completionTime: s.completionTime } : {}),
      conditions: conditions[phase],
    },
  };
}

const view = (s: RunSpec): RunView => viewOf(run(s));

describe('state (§12.0 item 5)', () => {
  it.each([
    { name: 'no condition', spec: { name: 'a' }, state: 'pending' },
    {
      name: 'spec.status pending',
      spec: { name: 'a', specStatus: 'PipelineRunPending', phase: 'pending' },
      state: 'pending',
    },
    {
      name: 'TaskRunPending',
      spec: { name: 'a', kind: 'TaskRun', specStatus: 'TaskRunPending' },
      state: 'pending',
    },
    { name: 'started', spec: { name: 'a', phase: 'started' }, state: 'running' },
    { name: 'succeeded', spec: { name: 'a', phase: 'succeeded' }, state: 'success' },
    { name: 'failed', spec: { name: 'a', phase: 'failed' }, state: 'failure' },
    { name: 'timed out counts as failure', spec: { name: 'a', phase: 'timeout' }, state: 'failure' },
    { name: 'cancelled', spec: { name: 'a', phase: 'cancelled' }, state: 'cancelled' },
    {
      name: 'TaskRunCancelled',
      spec: { name: 'a', kind: 'TaskRun', phase: 'cancelled' },
      state: 'cancelled',
    },
  ] as { name: string; spec: RunSpec; state: string }[])('$name → $state', ({ spec, state }) => {
    expect(runStateOf(run(spec)).state).toBe(state);
  });
});

describe('status reports (§12.1: once each, never backwards, level-triggered)', () => {
  it.each([
    { name: 'new run, nothing reported → pending', spec: { name: 'a' }, want: 'pending' },
    { name: 'pending already reported → nothing', spec: { name: 'a', reported: 'pending' }, want: undefined },
    {
      name: 'running after pending → running',
      spec: { name: 'a', phase: 'started', reported: 'pending' },
      want: 'running',
    },
    {
      name: 'first seen finished → only the final state',
      spec: { name: 'a', phase: 'succeeded' },
      want: 'success',
    },
    {
      name: 'finished after pending (running missed) → final',
      spec: { name: 'a', phase: 'failed', reported: 'pending' },
      want: 'failure',
    },
    {
      name: 'final already reported → nothing',
      spec: { name: 'a', phase: 'cancelled', reported: 'cancelled' },
      want: undefined,
    },
    {
      name: 'a state the host refused for good is not tried again',
      spec: { name: 'a', phase: 'started', reported: 'pending', failed: 'running' },
      want: undefined,
    },
    {
      name: 'but the next state is',
      spec: { name: 'a', phase: 'succeeded', reported: 'pending', failed: 'running' },
      want: 'success',
    },
    {
      name: 'running never goes back to pending',
      spec: { name: 'a', specStatus: 'PipelineRunPending', reported: 'running' },
      want: undefined,
    },
  ] as { name: string; spec: RunSpec; want: string | undefined }[])('$name', ({ spec, want }) => {
    expect(reportAction(view(spec), true)?.state).toBe(want);
  });

  it('a trigger without status reports nothing', () => {
    expect(reportAction(view({ name: 'a' }), false)).toBeUndefined();
  });
});

describe('orphaned runs (§12.0 item 8: trigger or status removed from the configuration)', () => {
  it.each([
    {
      name: 'queued check left on the host → completed',
      spec: { name: 'a', reported: 'pending' },
      want: true,
    },
    {
      name: 'running check left on the host → completed',
      spec: { name: 'a', phase: 'succeeded', reported: 'running' },
      want: true,
    },
    { name: 'nothing reported: no check to complete', spec: { name: 'a' }, want: false },
    {
      name: 'final state already reported: the check is complete',
      spec: { name: 'a', phase: 'succeeded', reported: 'success' },
      want: false,
    },
    {
      name: 'already completed as error',
      spec: { name: 'a', phase: 'started', reported: 'error' },
      want: false,
    },
    {
      name: 'recorded as failed (refused, or orphaned after a restart): never again',
      spec: { name: 'a', phase: 'started', reported: 'running', failed: 'error' },
      want: false,
    },
  ] as { name: string; spec: RunSpec; want: boolean }[])('$name', ({ spec, want }) => {
    expect(orphanAction(view(spec), false) !== undefined).toBe(want);
  });

  it('a trigger that still reports status orphans nothing', () => {
    expect(orphanAction(view({ name: 'a', reported: 'pending' }), true)).toBeUndefined();
  });
});

describe('keep (§12.2, §12.0 item 6)', () => {
  const NOW = Date.parse('2026-12-02T12:00:00Z');
  const HOUR = 3_600_000;
  const finished = (i: number, phase: Phase = 'succeeded', extra: Partial<RunSpec> = {}): RunSpec => ({
    name: `f${i}`,
    phase,
    completionTime: `2026-12-02T10:0${i}:00Z`,
    ...extra,
  });
  const names = (actions: { run: RunView }[]) => actions.map((a) => a.run.name).sort();

  it('keep 3 of 6 finished and 2 running: the 3 oldest finished go, running ones stay', () => {
    const runs = [1, 2, 3, 4, 5, 6]
      .map((i) => view(finished(i)))
      .concat([view({ name: 'r1', phase: 'started' }), view({ name: 'r2' })]);
    expect(names(pruneActions(runs, { total: 3 }, NOW, 600_000, false))).toEqual(['f1', 'f2', 'f3']);
  });

  it('{successful: 2, failed: 1} counts each kind separately; cancelled and timed out count as failed', () => {
    const runs = [
      view(finished(1)),
      view(finished(2)),
      view(finished(3)),
      view(finished(4, 'failed')),
      view(finished(5, 'cancelled')),
      view(finished(6, 'timeout')),
    ];
    const keep: Keep = { successful: 2, failed: 1 };
    expect(names(pruneActions(runs, keep, NOW, 0, false))).toEqual(['f1', 'f4', 'f5']);
  });

  it('{successful: N} alone never deletes failed runs', () => {
    const runs = [view(finished(1, 'failed')), view(finished(2)), view(finished(3))];
    expect(names(pruneActions(runs, { successful: 1, failed: undefined }, NOW, 0, false))).toEqual(['f2']);
  });

  it.each([
    { name: 'a v1 run without the route annotation', extra: { route: null }, reports: false },
    {
      name: 'a run younger than the retry window',
      extra: { createdAt: '2026-12-02T11:55:00Z' },
      reports: false,
    },
    { name: 'a run whose final state is not reported yet', extra: { reported: 'running' }, reports: true },
  ] as { name: string; extra: Partial<RunSpec>; reports: boolean }[])(
    'never deletes $name',
    ({ extra, reports }) => {
      const runs = [
        view(finished(1, 'succeeded', extra)),
        view(finished(2, 'succeeded', { reported: 'success' })),
      ];
      expect(pruneActions(runs, { total: 1 }, NOW, HOUR / 6, reports)).toEqual([]);
    },
  );

  it('a final state the host refused for good does not block pruning', () => {
    const runs = [
      view(finished(1, 'failed', { failed: 'failure' })),
      view(finished(2, 'succeeded', { reported: 'success' })),
    ];
    expect(names(pruneActions(runs, { total: 1 }, NOW, 0, true))).toEqual(['f1']);
  });
});

describe('concurrency groups (§12.3, §12.0 item 7)', () => {
  const at = (i: number) => `2026-12-02T10:00:0${i}.000Z`;
  const summary = (actions: { type: string; run: RunView }[]) =>
    actions.map((a) => `${a.type} ${a.run.name}`);

  it('cancelInProgress cancels every unfinished member received before the newest', () => {
    const members = [1, 2, 3, 4, 5].map((i) =>
      view({ name: `r${i}`, phase: 'started', receivedAt: at(i), cancelInProgress: true }),
    );
    members.push(view({ name: 'r0', phase: 'succeeded', receivedAt: at(0), cancelInProgress: true }));
    expect(summary(groupActions(members))).toEqual(['cancel r1', 'cancel r2', 'cancel r3', 'cancel r4']);
  });

  it('a member already asked to cancel is not patched again; the order is received-at, then name', () => {
    const members = [
      view({ name: 'b', phase: 'started', receivedAt: at(1), cancelInProgress: true }),
      view({
        name: 'a',
        phase: 'started',
        receivedAt: at(1),
        cancelInProgress: true,
        specStatus: 'Cancelled',
      }),
    ];
    // b is newest (same time, later name): a is the older one, already cancelling.
    expect(groupActions(members)).toEqual([]);
  });

  it('limit 1: starts the earliest pending member only when none is started', () => {
    const pending = (i: number) =>
      view({ name: `p${i}`, specStatus: 'PipelineRunPending', receivedAt: at(i), limit: 1 });
    expect(summary(groupActions([pending(3), pending(1), pending(2)]))).toEqual(['start p1']);
    const running = view({ name: 'p0', phase: 'started', receivedAt: at(0), limit: 1 });
    expect(groupActions([running, pending(1), pending(2)])).toEqual([]);
    const done = view({ name: 'p0', phase: 'succeeded', receivedAt: at(0), limit: 1 });
    expect(summary(groupActions([done, pending(1), pending(2)]))).toEqual(['start p1']);
  });

  it('limit 2 fills two slots; a cancelled pending member is never started', () => {
    const members = [
      view({ name: 'p1', specStatus: 'Cancelled', receivedAt: at(1), limit: 2 }),
      view({ name: 'p2', specStatus: 'PipelineRunPending', receivedAt: at(2), limit: 2 }),
      view({ name: 'p3', specStatus: 'PipelineRunPending', receivedAt: at(3), limit: 2 }),
      view({ name: 'p4', specStatus: 'PipelineRunPending', receivedAt: at(4), limit: 2 }),
    ];
    expect(summary(groupActions(members))).toEqual(['start p2', 'start p3']);
  });

  it('limit 1 with cancelInProgress: the newest is started, the rest cancelled', () => {
    const members = [
      view({ name: 'r1', phase: 'started', receivedAt: at(1), limit: 1, cancelInProgress: true }),
      view({
        name: 'p2',
        specStatus: 'PipelineRunPending',
        receivedAt: at(2),
        limit: 1,
        cancelInProgress: true,
      }),
      view({
        name: 'p3',
        specStatus: 'PipelineRunPending',
        receivedAt: at(3),
        limit: 1,
        cancelInProgress: true,
      }),
    ];
    expect(summary(groupActions(members))).toEqual(['cancel r1', 'cancel p2', 'start p3']);
  });

  it('a pending member of a group whose newest member has no limit (a reload removed it) starts at once', () => {
    const members = [
      view({ name: 'p1', specStatus: 'PipelineRunPending', receivedAt: at(1), limit: 1 }),
      view({ name: 'n2', phase: 'started', receivedAt: at(2) }),
    ];
    expect(summary(groupActions(members))).toEqual(['start p1']);
  });

  it('a template’s own pending run (no limit annotation) is left alone', () => {
    const members = [view({ name: 'p1', specStatus: 'PipelineRunPending', receivedAt: at(1) })];
    expect(groupActions(members)).toEqual([]);
  });
});
