// A run as the follower sees it: its state from Tekton's Succeeded condition and spec.status (contract
// §12.0 item 5, §12.1's table) and what the gateway recorded on it. Pure: a Kubernetes object in, plain
// values out, so every decision downstream can be table-tested without a cluster.
import {
  CANCEL_IN_PROGRESS_ANNOTATION,
  CONCURRENCY_LABEL,
  LIMIT_ANNOTATION,
} from '../pipeline/follow-stamp.js';
import {
  RECEIVED_AT_ANNOTATION,
  ROUTE_ANNOTATION,
  TRIGGER_LABEL,
  KEY_PREFIX,
} from '../pipeline/run-stamp.js';

export type RunState = 'pending' | 'running' | 'success' | 'failure' | 'cancelled';
/** What a status report may say: a run's state, or `error` for a trigger that failed to create. */
export type ReportState = RunState | 'error';

export const STATUS_REPORTED = `${KEY_PREFIX}status-reported`;
export const STATUS_FAILED = `${KEY_PREFIX}status-failed`;
export { CANCEL_IN_PROGRESS_ANNOTATION, CONCURRENCY_LABEL, LIMIT_ANNOTATION };

const ORDER: Readonly<Record<ReportState, number>> = {
  pending: 0,
  running: 1,
  success: 2,
  failure: 2,
  cancelled: 2,
  error: 2,
};

type Json = Record<string, unknown>;

export interface RunView {
  /** `<namespace>/<kind>/<name>`: the work queue's key. */
  readonly key: string;
  readonly apiVersion: string;
  readonly kind: 'PipelineRun' | 'TaskRun';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** What a start patch sends as its precondition: the run as the decision saw it. */
  readonly resourceVersion: string;
  readonly route: string | undefined;
  readonly trigger: string;
  readonly state: RunState;
  /** Condition message (for a failure's description). */
  readonly message: string;
  /** spec.status as written (Pending/Cancelled values), or undefined. */
  readonly specStatus: string | undefined;
  readonly started: boolean;
  readonly receivedAt: string;
  readonly createdAt: string;
  readonly completionTime: string | undefined;
  readonly reported: ReportState | undefined;
  readonly failed: ReportState | undefined;
  readonly group: string | undefined;
  readonly cancelInProgress: boolean;
  readonly limit: number | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

export function isFinal(state: ReportState): boolean {
  return ORDER[state] === 2;
}

/** States never go backwards (§12.1): a report is due only when `next` is later than what was recorded. */
export function isLater(next: ReportState, recorded: ReportState | undefined): boolean {
  if (recorded === undefined) return true;
  return ORDER[next] > ORDER[recorded];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function reportState(value: unknown): ReportState | undefined {
  return typeof value === 'string' && Object.hasOwn(ORDER, value) ? (value as ReportState) : undefined;
}

/** The §12.0 item 5 reading of a run. */
export function runStateOf(run: Json): { state: RunState; message: string; started: boolean } {
  const spec = (run['spec'] ?? {}) as Json;
  const status = (run['status'] ?? {}) as Json;
  const conditions = Array.isArray(status['conditions']) ? (status['conditions'] as Json[]) : [];
  const succeeded = conditions.find((c) => c['type'] === 'Succeeded');
  const message = str(succeeded?.['message']) ?? '';
  const started = typeof status['startTime'] === 'string' && status['startTime'] !== '';
  const specStatus = str(spec['status']);
  if (succeeded?.['status'] === 'True') return { state: 'success', message, started };
  if (succeeded?.['status'] === 'False') {
    const reason = str(succeeded['reason']);
    const cancelled = reason === 'Cancelled' || reason === 'TaskRunCancelled';
    return { state: cancelled ? 'cancelled' : 'failure', message, started };
  }
  if (specStatus === 'PipelineRunPending' || specStatus === 'TaskRunPending' || !started) {
    return { state: 'pending', message, started: false };
  }
  return { state: 'running', message, started };
}

/** Reads a run object (already known to be ours) into a RunView. */
export function viewOf(run: Json): RunView {
  const metadata = (run['metadata'] ?? {}) as Json;
  const labels = (metadata['labels'] ?? {}) as Record<string, string>;
  const annotations = (metadata['annotations'] ?? {}) as Record<string, string>;
  const status = (run['status'] ?? {}) as Json;
  const kind = run['kind'] === 'TaskRun' ? 'TaskRun' : 'PipelineRun';
  const namespace = str(metadata['namespace']) ?? '';
  const name = str(metadata['name']) ?? '';
  const { state, message, started } = runStateOf(run);
  const limit = Number(annotations[LIMIT_ANNOTATION]);
  return {
    key: `${namespace}/${kind}/${name}`,
    apiVersion: str(run['apiVersion']) ?? 'tekton.dev/v1',
    kind,
    namespace,
    name,
    uid: str(metadata['uid']) ?? '',
    resourceVersion: str(metadata['resourceVersion']) ?? '',
    route: annotations[ROUTE_ANNOTATION],
    trigger: labels[TRIGGER_LABEL] ?? '',
    state,
    message,
    specStatus: str(((run['spec'] ?? {}) as Json)['status']),
    started,
    receivedAt: annotations[RECEIVED_AT_ANNOTATION] ?? str(metadata['creationTimestamp']) ?? '',
    createdAt: str(metadata['creationTimestamp']) ?? '',
    completionTime: str(status['completionTime']),
    reported: reportState(annotations[STATUS_REPORTED]),
    failed: reportState(annotations[STATUS_FAILED]),
    group: labels[CONCURRENCY_LABEL],
    cancelInProgress: annotations[CANCEL_IN_PROGRESS_ANNOTATION] === 'true',
    limit: Number.isInteger(limit) && limit >= 1 ? limit : undefined,
    annotations,
    labels,
  };
}

/** §12.0 item 7: members ordered by received-at, then by name. */
export function byArrival(a: RunView, b: RunView): number {
  if (a.receivedAt !== b.receivedAt) return a.receivedAt < b.receivedAt ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
