// Bitbucket Cloud build statuses: POST {api}/repositories/{workspace}/{slug}/commit/{sha}/statuses/build,
// keyed by `key` so a later state replaces the earlier one; a url is required (contract §12.1).
import type { ReportState } from '../run-state.js';
import { cut, segments, type BuildPost } from './host.js';

export const BITBUCKET_CLOUD_STATE: Readonly<Record<ReportState, string>> = {
  pending: 'INPROGRESS',
  running: 'INPROGRESS',
  success: 'SUCCESSFUL',
  failure: 'FAILED',
  cancelled: 'STOPPED',
  error: 'FAILED',
};

/** `user:app-password` (basicAuthRef) is sent as Basic, an access token as Bearer. */
export function bitbucketCloudAuthorization(token: string): string {
  return token.includes(':') ? `Basic ${Buffer.from(token).toString('base64')}` : `Bearer ${token}`;
}

export const bitbucketCloud: BuildPost = (i) => ({
  url: `${i.apiURL}/repositories/${segments(i.repository)}/commit/${encodeURIComponent(i.commit)}/statuses/build`,
  headers: { Authorization: bitbucketCloudAuthorization(i.token) },
  body: {
    key: i.context,
    name: i.context,
    state: BITBUCKET_CLOUD_STATE[i.state],
    description: cut(i.description),
    url: i.targetURL ?? '',
  },
});
