// Bitbucket Data Center build statuses: POST {base}/rest/api/latest/projects/{key}/repos/{slug}/commits/
// {sha}/builds with a Bearer HTTP access token (contract §12.1); answers 204.
import type { ReportState } from '../run-state.js';
import { cut, type BuildPost } from './host.js';

export const BITBUCKET_DC_STATE: Readonly<Record<ReportState, string>> = {
  pending: 'INPROGRESS',
  running: 'INPROGRESS',
  success: 'SUCCESSFUL',
  failure: 'FAILED',
  cancelled: 'CANCELLED',
  error: 'FAILED',
};

export const bitbucketDatacenter: BuildPost = (i) => {
  const [project, slug] = i.repository.split('/') as [string, string];
  return {
    url: `${i.apiURL}/rest/api/latest/projects/${encodeURIComponent(project)}/repos/${encodeURIComponent(slug)}/commits/${encodeURIComponent(i.commit)}/builds`,
    headers: { Authorization: `Bearer ${i.token}` },
    body: {
      key: i.context,
      name: i.context,
      state: BITBUCKET_DC_STATE[i.state],
      description: cut(i.description),
      url: i.targetURL ?? '',
    },
  };
};
