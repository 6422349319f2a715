// What Tekton Pipelines does to a run, for tests that need a run to move: the validating webhook's rules
// for updates (pkg/apis/pipeline/v1/{pipelinerun,taskrun}_validation.go) and the controller's condition
// writes (reasons, startTime, completionTime, lastTransitionTime as Tekton Pipelines writes them
// records them).
type Json = Record<string, unknown>;

export type Phase = 'pending' | 'started' | 'running' | 'succeeded' | 'failed' | 'timeout' | 'cancelled';

const PIPELINE_SPEC_STATUS = ['Cancelled', 'CancelledRunFinally', 'StoppedRunFinally', 'PipelineRunPending'];
const TASK_SPEC_STATUS = ['TaskRunCancelled', 'TaskRunPending'];

function spec(run: Json): Json {
  return (run['spec'] ?? {}) as Json;
}
function status(run: Json): Json {
  return (run['status'] ?? {}) as Json;
}

export function succeededCondition(run: Json): Json | undefined {
  const conditions = (status(run)['conditions'] ?? []) as Json[];
  return conditions.find((c) => c['type'] === 'Succeeded');
}

export function isDone(run: Json): boolean {
  const s = succeededCondition(run)?.['status'];
  return s === 'True' || s === 'False';
}

/** The webhook's answer to an update of `old` into `next`, or undefined when it allows it. */
export function updateDenial(old: Json, next: Json): string | undefined {
  const kind = old['kind'] as string;
  const value = spec(next)['status'];
  const allowed = kind === 'TaskRun' ? TASK_SPEC_STATUS : PIPELINE_SPEC_STATUS;
  if (value !== undefined && value !== '' && !allowed.includes(String(value))) {
    const list =
      kind === 'TaskRun'
        ? 'TaskRunCancelled or TaskRunPending'
        : 'Cancelled, CancelledRunFinally, StoppedRunFinally or PipelineRunPending';
    return `validation failed: invalid value: ${String(value)} should be ${list}: spec.status`;
  }
  const stripped = (run: Json) => {
    const { status: _s, statusMessage: _m, ...rest } = spec(run);
    return JSON.stringify(rest);
  };
  const specChanged = JSON.stringify(spec(old)) !== JSON.stringify(spec(next));
  if (specChanged && isDone(old)) {
    return `validation failed: invalid value: Once the ${kind} is complete, no updates are allowed: spec`;
  }
  if (stripped(old) !== stripped(next)) {
    return `validation failed: invalid value: Once the ${kind} has started, only status updates are allowed: spec`;
  }
  const pending = kind === 'TaskRun' ? 'TaskRunPending' : 'PipelineRunPending';
  if (value === pending && spec(old)['status'] !== pending && status(old)['startTime'] !== undefined) {
    return `validation failed: invalid value: ${kind} cannot be Pending after it is started: spec.status`;
  }
  return undefined;
}

function isoSeconds(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * The run as the controller leaves it after moving it to `phase` at `now` (a new object). Finishing sets
 * completionTime; the condition's lastTransitionTime changes only when its status changes, as knative's
 * condition manager does.
 */
export function transition(run: Json, phase: Phase, now: Date, message?: string): Json {
  const kind = run['kind'] as string;
  const name = ((run['metadata'] ?? {}) as Json)['name'] as string;
  const old = succeededCondition(run);
  const at = isoSeconds(now);
  const next: Json = { ...status(run) };
  const [conditionStatus, reason, text] = ((): [string, string, string] => {
    switch (phase) {
      case 'pending':
        return ['Unknown', `${kind}Pending`, `${kind} "${name}" is pending`];
      case 'started':
        return ['Unknown', 'Started', ''];
      case 'running':
        return [
          'Unknown',
          'Running',
          kind === 'PipelineRun'
            ? 'Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0'
            : 'Not all Steps in the Task have finished executing',
        ];
      case 'succeeded':
        return [
          'True',
          'Succeeded',
          kind === 'PipelineRun'
            ? 'Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0'
            : 'All Steps have completed executing',
        ];
      case 'failed':
        return [
          'False',
          'Failed',
          message ??
            (kind === 'PipelineRun'
              ? 'Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0'
              : '"step-build" exited with code 1'),
        ];
      case 'timeout':
        return ['False', `${kind}Timeout`, `${kind} "${name}" failed to finish within "1h0m0s"`];
      case 'cancelled':
        return kind === 'TaskRun'
          ? ['False', 'TaskRunCancelled', `TaskRun "${name}" was cancelled. `]
          : ['False', 'Cancelled', `PipelineRun "${name}" was cancelled`];
    }
  })();
  if (phase !== 'pending' && next['startTime'] === undefined) next['startTime'] = at;
  if (conditionStatus !== 'Unknown') next['completionTime'] = at;
  const lastTransitionTime = old && old['status'] === conditionStatus ? old['lastTransitionTime'] : at;
  next['conditions'] = [
    { type: 'Succeeded', status: conditionStatus, reason, message: message ?? text, lastTransitionTime },
  ];
  return { ...run, status: next };
}

/**
 * What the controller does on its own when it reconciles `run`: honour spec.status (pending stays pending,
 * a cancel request finishes the run as Cancelled) and pick up a new run (Started). Undefined: nothing to do.
 */
export function reconcileRun(run: Json, now: Date): Json | undefined {
  if (isDone(run)) return undefined;
  const requested = spec(run)['status'];
  const condition = succeededCondition(run);
  if (
    requested === 'Cancelled' ||
    requested === 'CancelledRunFinally' ||
    requested === 'StoppedRunFinally' ||
    requested === 'TaskRunCancelled'
  ) {
    return transition(run, 'cancelled', now);
  }
  if (requested === 'PipelineRunPending' || requested === 'TaskRunPending') {
    return condition?.['reason'] === requested ? undefined : transition(run, 'pending', now);
  }
  if (status(run)['startTime'] === undefined) return transition(run, 'started', now);
  return undefined;
}
