// The follower's decisions, pure (contract §12.1–§12.3, §12.0 items 5–7): given runs as they are now,
// what is to be done. The loop (./follower.ts) performs the actions and records them on the runs, so a
// decision is always made from the objects' current state and a new leader needs nothing from the old one.
import type { Keep } from '../model.js';
import { byArrival, isFinal, isLater, type ReportState, type RunView } from './run-state.js';

export type Action =
  | { readonly type: 'report'; readonly run: RunView; readonly state: ReportState }
  | { readonly type: 'prune'; readonly run: RunView }
  | { readonly type: 'cancel'; readonly run: RunView }
  | { readonly type: 'start'; readonly run: RunView }
  | { readonly type: 'orphan'; readonly run: RunView };

export type { Keep };

const CANCEL_VALUES = new Set(['Cancelled', 'CancelledRunFinally', 'StoppedRunFinally', 'TaskRunCancelled']);
const PENDING_VALUES = new Set(['PipelineRunPending', 'TaskRunPending']);

export function cancelRequested(run: RunView): boolean {
  return run.specStatus !== undefined && CANCEL_VALUES.has(run.specStatus);
}

export function isPending(run: RunView): boolean {
  return run.specStatus !== undefined && PENDING_VALUES.has(run.specStatus) && !isFinal(run.state);
}

/**
 * The status report a run is due, if any: its current state when later than the one recorded and not one
 * the host refused for good. A run first seen finished reports only its final state (level-triggered).
 */
export function reportAction(
  run: RunView,
  reports: boolean,
): Extract<Action, { type: 'report' }> | undefined {
  if (!reports) return undefined;
  if (run.failed === run.state) return undefined;
  if (!isLater(run.state, run.reported)) return undefined;
  return { type: 'report', run, state: run.state };
}

/**
 * §12.0 item 8: a run whose route, trigger or `status` is gone from the configuration while its check on the
 * host is still pending or running gets that check completed (`error` "removed from configuration"), once:
 * the outcome is recorded on the run like any report (`status-reported` or `status-failed` `error`).
 */
export function orphanAction(
  run: RunView,
  reportsNow: boolean,
): Extract<Action, { type: 'orphan' }> | undefined {
  if (reportsNow) return undefined;
  if (run.reported !== 'pending' && run.reported !== 'running') return undefined;
  if (run.failed === 'error') return undefined;
  return { type: 'orphan', run };
}

/**
 * §12.2 and §12.0 item 6: the finished runs of one trigger and route in one namespace beyond the `keep`
 * most recent (by completion time) are deleted — except runs made by v1 (no route annotation), runs younger
 * than the retry window (dedupe lives in the names), and runs whose final state is not yet reported.
 */
export function pruneActions(
  siblings: readonly RunView[],
  keep: Keep,
  now: number,
  retryWindowMs: number,
  reports: boolean,
): Action[] {
  const finished = siblings
    .filter((r) => isFinal(r.state))
    .sort((a, b) => ((a.completionTime ?? '') < (b.completionTime ?? '') ? 1 : -1));
  const beyond =
    'total' in keep
      ? finished.slice(keep.total)
      : [
          ...(keep.successful === undefined
            ? []
            : finished.filter((r) => r.state === 'success').slice(keep.successful)),
          ...(keep.failed === undefined
            ? []
            : finished.filter((r) => r.state !== 'success').slice(keep.failed)),
        ];
  return beyond
    .filter((r) => r.route !== undefined)
    .filter((r) => now - Date.parse(r.createdAt) >= retryWindowMs)
    .filter((r) => !reports || r.reported === r.state || r.failed === r.state)
    .map((run) => ({ type: 'prune', run }));
}

/**
 * §12.3 and §12.0 item 7: a concurrency group's members ordered by arrival; the newest member's settings
 * govern. cancelInProgress cancels every unfinished member before the newest; limit starts the earliest
 * pending members while fewer than `limit` are started and unfinished; a group whose newest member has no
 * limit starts its limit-pended members at once (a reload removed the limit).
 */
export function groupActions(members: readonly RunView[]): Action[] {
  if (members.length === 0) return [];
  const ordered = [...members].sort(byArrival);
  const newest = ordered[ordered.length - 1]!;
  const actions: Action[] = [];
  const cancelling = new Set<string>();
  if (newest.cancelInProgress) {
    for (const run of ordered.slice(0, -1)) {
      if (isFinal(run.state)) continue;
      cancelling.add(run.key);
      if (!cancelRequested(run)) actions.push({ type: 'cancel', run });
    }
  }
  const waiting = ordered.filter((r) => isPending(r) && !cancelRequested(r) && !cancelling.has(r.key));
  if (newest.limit === undefined) {
    for (const run of waiting) if (run.limit !== undefined) actions.push({ type: 'start', run });
    return actions;
  }
  const active = ordered.filter(
    (r) => !isFinal(r.state) && !isPending(r) && !cancelRequested(r) && !cancelling.has(r.key),
  ).length;
  for (const run of waiting.slice(0, Math.max(0, newest.limit - active)))
    actions.push({ type: 'start', run });
  return actions;
}
