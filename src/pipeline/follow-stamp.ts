// What a trigger that is followed (contract §12.1, §12.3, §12.0 items 5 and 7) writes on its runs at
// creation: the concurrency group label and the group's settings, whether runs start pending, and where
// its status goes (repository, commit, context). Everything the leader needs later is on the run itself.
import { createHash } from 'node:crypto';
import type { BindingExpression, ProviderName, StatusConfig, Trigger } from '../model.js';
import { evaluateBinding, type BindingEvent } from './bind.js';
import { compileBindingValue } from './expressions.js';
import { KEY_PREFIX } from './run-stamp.js';

export const CONCURRENCY_LABEL = `${KEY_PREFIX}concurrency`;
export const CANCEL_IN_PROGRESS_ANNOTATION = `${KEY_PREFIX}cancel-in-progress`;
export const LIMIT_ANNOTATION = `${KEY_PREFIX}concurrency-limit`;
export const STATUS_REPOSITORY = `${KEY_PREFIX}status-repository`;
export const STATUS_COMMIT = `${KEY_PREFIX}status-commit`;
export const STATUS_CONTEXT = `${KEY_PREFIX}status-context`;
export const STATUS_INSTALLATION = `${KEY_PREFIX}status-installation`;

export type FollowStamp =
  | {
      readonly ok: true;
      readonly labels: Readonly<Record<string, string>>;
      readonly annotations: Readonly<Record<string, string>>;
      /** Runs are created pending (spec.status PipelineRunPending / TaskRunPending): a limit queues them. */
      readonly pending: boolean;
      /** Why this trigger's runs report no status, when it has status but the payload lacks what it needs. */
      readonly statusSkipped: string | undefined;
    }
  | { readonly ok: false; readonly reason: string };

const b = compileBindingValue;
/** §12.1: default repository and commit per provider and event. */
const DEFAULTS: Record<string, { repository: BindingExpression; commit: Record<string, BindingExpression> }> =
  {
    github: {
      repository: b('$(body.repository.full_name)'),
      commit: { push: b('$(body.after)'), pull_request: b('$(body.pull_request.head.sha)') },
    },
    gitea: {
      repository: b('$(body.repository.full_name)'),
      commit: { push: b('$(body.after)'), pull_request: b('$(body.pull_request.head.sha)') },
    },
    gitlab: {
      repository: b('$(body.project.id)'),
      commit: {
        'Push Hook': b('$(body.checkout_sha)'),
        'Tag Push Hook': b('$(body.checkout_sha)'),
        'Merge Request Hook': b('$(body.object_attributes.last_commit.id)'),
      },
    },
    'bitbucket-cloud': {
      repository: b('$(body.repository.full_name)'),
      commit: {
        'repo:push': b('$(body.push.changes[0].new.target.hash)'),
        'pullrequest:*': b('$(body.pullrequest.source.commit.hash)'),
      },
    },
    'bitbucket-datacenter': {
      repository: b('$(body.repository.project.key)/$(body.repository.slug)'),
      commit: {
        'repo:refs_changed': b('$(body.changes[0].toHash)'),
        'pr:*': b('$(body.pullRequest.fromRef.latestCommit)'),
      },
    },
  };
const GITLAB_PROJECT_FALLBACK = b('$(body.project_id)');
const GITLAB_MR_PROJECT = b('$(body.object_attributes.source_project_id)');
const BITBUCKET_DC_PR_REPOSITORY = b(
  '$(body.pullRequest.fromRef.repository.project.key)/$(body.pullRequest.fromRef.repository.slug)',
);

const REPOSITORY = /^~?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;
const COMMIT = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;
const SHORT_COMMIT = /^[0-9a-f]{12,40}$/;

function evaluate(expression: BindingExpression | undefined, event: BindingEvent): string | undefined {
  if (!expression) return undefined;
  const result = evaluateBinding(expression, event);
  return result.ok ? result.text : undefined;
}

function defaultCommit(status: StatusConfig, event: string | undefined): BindingExpression | undefined {
  const table = DEFAULTS[status.host]!.commit;
  if (event === undefined) return undefined;
  if (table[event]) return table[event];
  const prefix = Object.keys(table).find((k) => k.endsWith(':*') && event.startsWith(k.slice(0, -1)));
  return prefix ? table[prefix] : undefined;
}

function defaultRepository(
  status: StatusConfig,
  event: string | undefined,
  e: BindingEvent,
): string | undefined {
  if (status.host === 'gitlab') {
    if (event === 'Merge Request Hook') return evaluate(GITLAB_MR_PROJECT, e);
    return evaluate(DEFAULTS['gitlab']!.repository, e) ?? evaluate(GITLAB_PROJECT_FALLBACK, e);
  }
  if (status.host === 'bitbucket-datacenter' && event?.startsWith('pr:'))
    return evaluate(BITBUCKET_DC_PR_REPOSITORY, e);
  return evaluate(DEFAULTS[status.host]!.repository, e);
}

/** The status annotations, or why status is skipped for this delivery (§12.0 item 4: checked values). */
function statusStamp(
  status: StatusConfig,
  trigger: Trigger,
  routePath: string,
  gatewayName: string,
  event: string | undefined,
  e: BindingEvent,
): { annotations: Record<string, string> } | { skipped: string } {
  const repository = status.repository ? evaluate(status.repository, e) : defaultRepository(status, event, e);
  const commitExpression = status.commit ?? defaultCommit(status, event);
  if (!commitExpression)
    return { skipped: `no default commit for event ${event ?? '(none)'}: set status.commit` };
  const commit = evaluate(commitExpression, e);
  const gitlabId = status.host === 'gitlab' && repository !== undefined && /^\d+$/.test(repository);
  if (repository === undefined || !(REPOSITORY.test(repository) || gitlabId)) {
    return { skipped: `status repository ${repository === undefined ? 'not found' : 'is not owner/name'}` };
  }
  const shortAllowed = status.host === 'bitbucket-cloud';
  if (
    commit === undefined ||
    /^0+$/.test(commit) ||
    !(COMMIT.test(commit) || (shortAllowed && SHORT_COMMIT.test(commit)))
  ) {
    return { skipped: `status commit ${commit === undefined ? 'not found' : 'is not a commit hash'}` };
  }
  const context = (status.context ?? `${gatewayName}/$(trigger.name)`)
    .replaceAll('$(trigger.name)', trigger.name)
    .replaceAll('$(route.path)', routePath);
  const annotations: Record<string, string> = {
    [STATUS_REPOSITORY]: repository,
    [STATUS_COMMIT]: commit,
    [STATUS_CONTEXT]: context,
  };
  if (status.app) {
    const installation = evaluate(b('$(body.installation.id)'), e);
    if (installation === undefined) return { skipped: 'body.installation.id not found (GitHub App)' };
    annotations[STATUS_INSTALLATION] = installation;
  }
  return { annotations };
}

export function followStamp(
  trigger: Trigger,
  routePath: string,
  gatewayName: string,
  event: string | undefined,
  e: BindingEvent,
  _provider?: ProviderName,
): FollowStamp {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  let pending = false;
  if (trigger.concurrency) {
    const key = evaluateBinding(trigger.concurrency.key, e);
    if (!key.ok) return { ok: false, reason: `concurrency.key: $(${key.ref.source}): ${key.message}` };
    if (key.text === '') return { ok: false, reason: 'concurrency.key rendered empty' };
    labels[CONCURRENCY_LABEL] = createHash('sha256').update(key.text).digest('hex').slice(0, 63);
    if (trigger.concurrency.cancelInProgress) annotations[CANCEL_IN_PROGRESS_ANNOTATION] = 'true';
    if (trigger.concurrency.limit !== undefined) {
      annotations[LIMIT_ANNOTATION] = String(trigger.concurrency.limit);
      pending = true;
    }
  }
  let statusSkipped: string | undefined;
  if (trigger.status) {
    const stamp = statusStamp(trigger.status, trigger, routePath, gatewayName, event, e);
    if ('skipped' in stamp) statusSkipped = stamp.skipped;
    else Object.assign(annotations, stamp.annotations);
  }
  return { ok: true, labels, annotations, pending, statusSkipped };
}
