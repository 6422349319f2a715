// Bitbucket Cloud pull request webhooks carry a 12-character `source.commit.hash`, and its statuses API
// wants the full id (contract §12.1, §12.0 items 4 and 5). `GET {api}/repositories/{workspace}/{slug}/
// commit/{hash}` resolves a prefix; its `hash` is the full 40-hex id.
import { segments, readAnswer, type Answer } from './host.js';
import { bitbucketCloudAuthorization } from './bitbucket-cloud.js';

export type Expansion =
  { readonly kind: 'commit'; readonly hash: string } | Exclude<Answer, { kind: 'success' }>;

const FULL = /^[0-9a-f]{40}$/;

/** Whether a commit needs expanding before Bitbucket Cloud accepts a status for it. */
export function isShortCommit(commit: string): boolean {
  return !FULL.test(commit) && !/^[0-9a-f]{64}$/.test(commit);
}

export async function expandCommit(input: {
  readonly apiURL: string;
  readonly repository: string;
  readonly commit: string;
  readonly token: string;
  readonly timeoutMs: number;
  readonly now: number;
}): Promise<Expansion> {
  let response: Response;
  try {
    response = await fetch(
      `${input.apiURL}/repositories/${segments(input.repository)}/commit/${encodeURIComponent(input.commit)}`,
      {
        // §12.0 item 4: never followed, like a status post.
        redirect: 'manual',
        headers: {
          Authorization: bitbucketCloudAuthorization(input.token),
          Accept: 'application/json',
          'User-Agent': 'tekton-gateway',
        },
        signal: AbortSignal.timeout(input.timeoutMs),
      },
    );
  } catch (error) {
    return {
      kind: 'retry',
      afterMs: undefined,
      message: `expanding the commit: Bitbucket could not be reached: ${(error as Error).name}`,
    };
  }
  const text = await response.text().catch(() => '');
  const answer = readAnswer(response.status, response.headers, text, false, input.now);
  if (answer.kind !== 'success') return { ...answer, message: `expanding the commit: ${answer.message}` };
  let hash: unknown;
  try {
    hash = (JSON.parse(text) as { hash?: unknown }).hash;
  } catch {
    hash = undefined;
  }
  // A full id that is not an extension of the short one would put the status on another commit.
  if (typeof hash !== 'string' || !FULL.test(hash) || !hash.startsWith(input.commit)) {
    return { kind: 'failure', message: 'expanding the commit: the answer has no matching 40-hex hash' };
  }
  return { kind: 'commit', hash };
}
