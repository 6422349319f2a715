// GitHub commit statuses: POST {api}/repos/{owner}/{repo}/statuses/{sha}; four states only, so queued and
// running are both `pending` with a description that tells them apart (contract §12.1, §12.1a).
import type { ReportState } from '../run-state.js';
import { cut, segments, type BuildPost } from './host.js';

export const GITHUB_STATE: Readonly<Record<ReportState, string>> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  cancelled: 'error',
  error: 'error',
};

export const github: BuildPost = (i) => ({
  url: `${i.apiURL}/repos/${segments(i.repository)}/statuses/${encodeURIComponent(i.commit)}`,
  headers: {
    Authorization: `Bearer ${i.token}`,
    Accept: 'application/vnd.github+json',
    'X-GitHub-Api-Version': '2022-11-28',
  },
  body: {
    state: GITHUB_STATE[i.state],
    context: i.context,
    description: cut(i.description),
    ...(i.targetURL ? { target_url: i.targetURL } : {}),
  },
});
