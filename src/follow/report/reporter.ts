// Posts a run's state to its Git host (contract §12.1, §12.1a, §12.0 items 4, 5, 17): credentials from the
// Secret files, the API root from routes.yaml only, everything about the commit from the run's own
// annotations. Retries 429/5xx/network errors with backoff (Retry-After and X-RateLimit-Reset win) for up
// to 10 minutes; the follower records the outcome on the run.
import type { SecretLookup, StatusHost, Trigger } from '../../model.js';
import { STATUS_COMMIT, STATUS_CONTEXT, STATUS_REPOSITORY } from '../../pipeline/follow-stamp.js';
import type { Reporter, ReportResult } from '../follower.js';
import type { ReportState, RunView } from '../run-state.js';
import { bitbucketCloud } from './bitbucket-cloud.js';
import { expandCommit, isShortCommit } from './bitbucket-commit.js';
import { bitbucketDatacenter } from './bitbucket-datacenter.js';
import { gitea } from './gitea.js';
import { github } from './github.js';
import { gitlab } from './gitlab.js';
import { credentialOf } from './credential.js';
import { readAnswer, type BuildPost } from './host.js';

const HOSTS: Readonly<Record<StatusHost, BuildPost>> = {
  github,
  gitlab,
  gitea,
  'bitbucket-cloud': bitbucketCloud,
  'bitbucket-datacenter': bitbucketDatacenter,
};

const RETRY_WINDOW_MS = 10 * 60_000;
const MAX_BACKOFF_MS = 60_000;

export interface ReporterOptions {
  readonly secrets: SecretLookup;
  readonly dashboardURL: () => string | undefined;
  readonly now?: () => number;
  readonly timeoutMs?: number;
}

function describeState(run: RunView, state: ReportState, reason: string | undefined): string {
  switch (state) {
    case 'pending':
      return 'queued';
    case 'running':
      return 'running';
    case 'success':
      return 'succeeded';
    case 'cancelled':
      return reason ?? 'cancelled';
    case 'failure':
      return run.message || 'failed';
    case 'error':
      return reason ?? 'the run could not be created';
  }
}

function runFields(text: string, run: RunView, trigger: Trigger): string {
  return text
    .replaceAll('$(run.namespace)', run.namespace)
    .replaceAll('$(run.name)', run.name)
    .replaceAll('$(run.kind)', run.kind)
    .replaceAll('$(trigger.name)', trigger.name)
    .replaceAll('$(route.path)', run.route ?? '');
}

export function makeReporter(options: ReporterOptions): Reporter {
  const now = options.now ?? Date.now;
  // First attempt and attempts so far per (run, state): the 10-minute window and the backoff.
  const attempts = new Map<string, { first: number; count: number }>();

  return async (run, state, trigger, reason): Promise<ReportResult> => {
    const status = trigger.status;
    if (!status) return { kind: 'failure', message: 'the trigger no longer reports status' };
    const key = `${run.uid}/${state}`;
    const seen = attempts.get(key) ?? { first: now(), count: 0 };
    seen.count++;
    attempts.set(key, seen);
    const retry = (afterMs: number | undefined, message: string): ReportResult => {
      if (now() - seen.first >= RETRY_WINDOW_MS) {
        attempts.delete(key);
        return { kind: 'failure', message: `gave up after 10 minutes: ${message}` };
      }
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (seen.count - 1));
      return { kind: 'retry', afterMs: afterMs ?? backoff, message };
    };
    const timeoutMs = options.timeoutMs ?? 10_000;
    const credential = await credentialOf(status, run, options.secrets, timeoutMs);
    if (credential.kind === 'retry') return retry(credential.afterMs, credential.message);
    if (credential.kind === 'failure') {
      attempts.delete(key);
      return credential;
    }
    const token = credential.token;
    let commit = run.annotations[STATUS_COMMIT]!;
    // §12.1: a Bitbucket Cloud PR's short hash is expanded first; the follower records the full one on the run
    // (whatever the post then answers), so it is expanded once.
    let expanded: { commit: string } | undefined;
    if (status.host === 'bitbucket-cloud' && isShortCommit(commit)) {
      const expansion = await expandCommit({
        apiURL: status.apiURL,
        repository: run.annotations[STATUS_REPOSITORY]!,
        commit,
        token,
        timeoutMs,
        now: now(),
      });
      if (expansion.kind === 'retry') return retry(expansion.afterMs, expansion.message);
      if (expansion.kind === 'failure') {
        attempts.delete(key);
        return expansion;
      }
      commit = expansion.hash;
      expanded = { commit };
    }
    const dashboard = options.dashboardURL();
    const plural = run.kind === 'TaskRun' ? 'taskruns' : 'pipelineruns';
    const targetURL = status.targetURL
      ? runFields(status.targetURL, run, trigger)
      : dashboard && run.name === ''
        ? dashboard // `error`: there is no run to link to (§12.1a)
        : dashboard
          ? `${dashboard}/#/namespaces/${encodeURIComponent(run.namespace)}/${plural}/${encodeURIComponent(run.name)}`
          : undefined;
    const post = HOSTS[status.host]({
      apiURL: status.apiURL,
      repository: run.annotations[STATUS_REPOSITORY]!,
      commit,
      state,
      context: runFields(run.annotations[STATUS_CONTEXT] ?? `${trigger.name}`, run, trigger),
      description: describeState(run, state, reason),
      targetURL,
      token,
    });
    let response: Response;
    try {
      response = await fetch(post.url, {
        method: 'POST',
        // §12.0 item 4: a redirect is a permanent failure, never followed (it could carry the token away).
        redirect: 'manual',
        headers: { ...post.headers, 'Content-Type': 'application/json', 'User-Agent': 'tekton-gateway' },
        body: JSON.stringify(post.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      return {
        ...retry(undefined, `the Git host could not be reached: ${(error as Error).name}`),
        ...expanded,
      };
    }
    const text = await response.text().catch(() => '');
    const answer = readAnswer(response.status, response.headers, text, status.host === 'gitlab', now());
    if (answer.kind === 'retry') return { ...retry(answer.afterMs, answer.message), ...expanded };
    attempts.delete(key);
    return { ...answer, ...expanded };
  };
}
