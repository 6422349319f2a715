// Gitea and Forgejo commit statuses: POST {api}/repos/{owner}/{repo}/statuses/{sha} with
// `Authorization: token` (contract §12.1); the same four states as GitHub.
import type { ReportState } from '../run-state.js';
import { cut, segments, type BuildPost } from './host.js';

export const GITEA_STATE: Readonly<Record<ReportState, string>> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  cancelled: 'error',
  error: 'error',
};

export const gitea: BuildPost = (i) => ({
  url: `${i.apiURL}/repos/${segments(i.repository)}/statuses/${encodeURIComponent(i.commit)}`,
  headers: { Authorization: `token ${i.token}` },
  body: {
    state: GITEA_STATE[i.state],
    context: i.context,
    description: cut(i.description),
    ...(i.targetURL ? { target_url: i.targetURL } : {}),
  },
});
