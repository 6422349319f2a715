// GitLab commit statuses: POST {api}/projects/{id}/statuses/{sha} with PRIVATE-TOKEN (contract §12.1).
// A project path is one URL-encoded segment; repeating the current state answers 400, read as success.
import type { ReportState } from '../run-state.js';
import { cut, type BuildPost } from './host.js';

export const GITLAB_STATE: Readonly<Record<ReportState, string>> = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  cancelled: 'canceled',
  error: 'failed',
};

export const gitlab: BuildPost = (i) => ({
  url: `${i.apiURL}/projects/${encodeURIComponent(i.repository)}/statuses/${encodeURIComponent(i.commit)}`,
  headers: { 'PRIVATE-TOKEN': i.token },
  body: {
    state: GITLAB_STATE[i.state],
    name: i.context,
    description: cut(i.description),
    ...(i.targetURL ? { target_url: i.targetURL } : {}),
  },
});
