// Each Git host's event names, as its event header carries them (contract §4), so that `validate` can refuse
// `events: [pushes]` (which would answer every delivery 200 "skipped") with a "did you mean", and so that
// routes.schema.json can offer them as completions. `generic` takes whatever its eventHeader carries, so any
// name is accepted there. Sources: GitHub's "Webhook events and payloads", GitLab's "Webhook events",
// Bitbucket Cloud's "Event payloads" and Bitbucket Data Center 8.x's "Event payload" pages, Gitea's
// modules/webhook/type.go (X-Gitea-Event carries the coarse name, X-Gitea-Event-Type the fine one; both
// are listed because routes written for either exist), Gogs' hook events.
import type { ProviderName } from '../model.js';
import { closest } from './schema-dsl.js';

// prettier-ignore
const GITHUB = [
  'branch_protection_configuration', 'branch_protection_rule', 'check_run', 'check_suite',
  'code_scanning_alert', 'commit_comment', 'create', 'custom_property', 'custom_property_values', 'delete',
  'dependabot_alert', 'deploy_key', 'deployment', 'deployment_protection_rule', 'deployment_review',
  'deployment_status', 'discussion', 'discussion_comment', 'fork', 'github_app_authorization', 'gollum',
  'installation', 'installation_repositories', 'installation_target', 'issue_comment', 'issue_dependencies',
  'issues', 'label', 'marketplace_purchase', 'member', 'membership', 'merge_group', 'meta', 'milestone',
  'org_block', 'organization', 'package', 'page_build', 'personal_access_token_request', 'ping', 'project',
  'project_card', 'project_column', 'projects_v2', 'projects_v2_item', 'projects_v2_status_update', 'public',
  'pull_request', 'pull_request_review', 'pull_request_review_comment', 'pull_request_review_thread', 'push',
  'registry_package', 'release', 'repository', 'repository_advisory', 'repository_dispatch',
  'repository_import', 'repository_ruleset', 'repository_vulnerability_alert', 'secret_scanning_alert',
  'secret_scanning_alert_location', 'secret_scanning_scan', 'security_advisory', 'security_and_analysis',
  'sponsorship', 'star', 'status', 'sub_issues', 'team', 'team_add', 'watch', 'workflow_dispatch',
  'workflow_job', 'workflow_run',
] as const;

// prettier-ignore
const GITLAB = [
  'Push Hook', 'Tag Push Hook', 'Issue Hook', 'Confidential Issue Hook', 'Note Hook',
  'Confidential Note Hook', 'Merge Request Hook', 'Wiki Page Hook', 'Pipeline Hook', 'Job Hook',
  'Build Hook', 'Deployment Hook', 'Feature Flag Hook', 'Release Hook', 'Emoji Hook',
  'Resource Access Token Hook', 'Project Access Token Hook', 'Group Access Token Hook', 'Member Hook',
  'Subgroup Hook', 'Project Hook', 'Milestone Hook', 'Vulnerability Hook', 'System Hook',
] as const;

// prettier-ignore
const BITBUCKET = [
  // Cloud
  'repo:push', 'repo:fork', 'repo:updated', 'repo:transfer', 'repo:imported', 'repo:deleted',
  'repo:commit_comment_created', 'repo:commit_status_created', 'repo:commit_status_updated', 'issue:created',
  'issue:updated', 'issue:comment_created', 'pullrequest:created', 'pullrequest:updated',
  'pullrequest:changes_request_created', 'pullrequest:changes_request_removed', 'pullrequest:approved',
  'pullrequest:unapproved', 'pullrequest:fulfilled', 'pullrequest:rejected', 'pullrequest:comment_created',
  'pullrequest:comment_updated', 'pullrequest:comment_deleted', 'pullrequest:comment_resolved',
  'pullrequest:comment_reopened',
  // Data Center
  'repo:refs_changed', 'repo:modified', 'repo:forked', 'repo:comment:added', 'repo:comment:edited',
  'repo:comment:deleted', 'repo:secret_detected', 'pr:opened', 'pr:from_ref_updated', 'pr:to_ref_updated',
  'pr:modified', 'pr:reviewer:updated', 'pr:reviewer:approved', 'pr:reviewer:unapproved',
  'pr:reviewer:needs_work', 'pr:merged', 'pr:declined', 'pr:deleted', 'pr:comment:added',
  'pr:comment:edited', 'pr:comment:deleted', 'mirror:repo_synchronized', 'diagnostics:ping',
] as const;

// prettier-ignore
const GITEA = [
  // X-Gitea-Event (coarse)
  'create', 'delete', 'fork', 'push', 'issues', 'issue_comment', 'pull_request', 'pull_request_approved',
  'pull_request_rejected', 'pull_request_comment', 'wiki', 'repository', 'release', 'package', 'status',
  'schedule', 'workflow_run', 'workflow_job',
  // X-Gitea-Event-Type (fine)
  'issue_assign', 'issue_label', 'issue_milestone', 'pull_request_assign', 'pull_request_label',
  'pull_request_milestone', 'pull_request_review_approved', 'pull_request_review_rejected',
  'pull_request_review_comment', 'pull_request_sync', 'pull_request_review_request',
] as const;

// prettier-ignore
const GOGS = [
  'create', 'delete', 'fork', 'push', 'issues', 'issue_comment', 'pull_request', 'release',
] as const;

/** Known event names per provider; a provider missing here (generic, none) has no fixed list. */
export const PROVIDER_EVENTS: Readonly<Partial<Record<ProviderName, readonly string[]>>> = {
  github: GITHUB,
  gitlab: GITLAB,
  bitbucket: BITBUCKET,
  gitea: GITEA,
  forgejo: GITEA,
  gogs: GOGS,
};

/** Every known name once, for editor completions. */
export const ALL_EVENT_NAMES: readonly string[] = [
  ...new Set(Object.values(PROVIDER_EVENTS).flatMap((l) => [...(l ?? [])])),
].sort();

/** Undefined when `name` is one of the provider's events (or the provider has no fixed list), else why not. */
export function unknownEventProblem(provider: ProviderName, name: string): string | undefined {
  const known = PROVIDER_EVENTS[provider];
  if (known === undefined || known.includes(name)) return undefined;
  const lower = name.toLowerCase();
  // Same name in another case, a near spelling, or the start of a longer name (`Push` → `Push Hook`).
  const hint =
    known.find((k) => k.toLowerCase() === lower) ??
    closest(name, known) ??
    (lower.length >= 3 ? known.find((k) => k.toLowerCase().startsWith(`${lower} `)) : undefined);
  return (
    `"${name}" is not a ${provider} event name, so no delivery would ever match it` +
    (hint === undefined
      ? ` (${provider} sends e.g. ${known
          .slice(0, 4)
          .map((k) => `"${k}"`)
          .join(', ')})`
      : ` (did you mean "${hint}"?)`)
  );
}
