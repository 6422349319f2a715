// What every Git host's status API shares (contract §12.1): the request a host file builds, and how an
// answer is read (§12.0 item 5: permanent refusals, rate limits, retries). One file per host builds its
// request; this file is the one place answers are interpreted.
import type { ReportState } from '../run-state.js';

export interface StatusPost {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface StatusInput {
  readonly apiURL: string;
  readonly repository: string;
  readonly commit: string;
  readonly state: ReportState;
  readonly context: string;
  readonly description: string;
  readonly targetURL: string | undefined;
  /** The credential as the host wants it in Authorization (or PRIVATE-TOKEN for GitLab). */
  readonly token: string;
}

export type BuildPost = (input: StatusInput) => StatusPost;

export type Answer =
  | { readonly kind: 'success' }
  | { readonly kind: 'failure'; readonly message: string }
  | { readonly kind: 'retry'; readonly afterMs: number | undefined; readonly message: string };

/** Every path segment percent-encoded (§12.0 item 4): a repository or commit never adds a path. */
export function segments(repository: string): string {
  return repository.split('/').map(encodeURIComponent).join('/');
}

/** Descriptions cut to 140 Unicode code points, ending in "…" (§12.0 item 17). */
export function cut(text: string, max = 140): string {
  const points = [...text];
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}

function header(headers: Headers, name: string): string | undefined {
  return headers.get(name) ?? undefined;
}

/**
 * §12.0 item 5: 3xx, 400 (except GitLab's same-state 400, which is success), 401, 404, 410, 422 and a 403
 * that is not a rate limit are permanent; 403/429 with retry-after or x-ratelimit-remaining 0 wait as told;
 * 429 and 5xx retry with backoff.
 */
export function readAnswer(
  status: number,
  headers: Headers,
  text: string,
  gitlab: boolean,
  now: number,
): Answer {
  if (status >= 200 && status < 300) return { kind: 'success' };
  const excerpt = text.slice(0, 200);
  if (gitlab && status === 400 && /Cannot transition status/.test(text)) return { kind: 'success' };
  const retryAfter = Number(header(headers, 'retry-after'));
  const remaining = header(headers, 'x-ratelimit-remaining');
  const reset = Number(header(headers, 'x-ratelimit-reset'));
  const rateLimited =
    (status === 403 || status === 429) && (header(headers, 'retry-after') !== undefined || remaining === '0');
  if (rateLimited || status === 429) {
    const afterMs =
      Number.isFinite(retryAfter) && retryAfter >= 0
        ? retryAfter * 1000
        : Number.isFinite(reset) && reset > 0
          ? Math.max(0, reset * 1000 - now)
          : undefined;
    return { kind: 'retry', afterMs, message: `HTTP ${status} (rate limited)` };
  }
  if (status >= 500)
    return {
      kind: 'retry',
      afterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
      message: `HTTP ${status}`,
    };
  if (status >= 300 && status < 400)
    return { kind: 'failure', message: `HTTP ${status}: redirects are not followed` };
  return { kind: 'failure', message: `HTTP ${status}: ${excerpt}` };
}
