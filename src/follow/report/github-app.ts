// GitHub App installation tokens for commit statuses (contract §12.1 `status.app`). The App proves itself
// with a JWT signed RS256 by its private key and buys a one-hour installation token at
// `POST {apiURL}/app/installations/{id}/access_tokens` (docs.github.com: "Authenticating as a GitHub App
// installation"). @octokit/auth-app enters the codebase here and nowhere else: it signs the JWT (iat 30 s in
// the past, exp 10 minutes after, GitHub's maximum) and caches tokens. The HTTP call is ours, handed in as
// its `request`, so the token call goes to the configured apiURL only (never api.github.com by default),
// never follows a redirect, and its answer is read by the same rules as a status post (./host.ts).
import { createHash } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { readAnswer, type Answer } from './host.js';

export type TokenResult =
  | { readonly kind: 'token'; readonly token: string; readonly expiresAt: string }
  | Exclude<Answer, { kind: 'success' }>;

export interface TokenOptions {
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** A cached token this close to its expires_at is refreshed rather than handed out for another post. */
const REFRESH_BEFORE_MS = 5 * 60_000;
const ROUTE = 'POST /app/installations/{installation_id}/access_tokens';

/** The token endpoint's answer when it is not a token: thrown through auth-app, caught below. */
class Refusal extends Error {
  constructor(readonly answer: Exclude<Answer, { kind: 'success' }>) {
    super(answer.message);
  }
}

type Auth = ReturnType<typeof createAppAuth>;

/**
 * One auth-app instance per (apiURL, App id): each has its own token cache. The instance remembers the
 * SHA-256 of the key it was made with, so a rotated private key (the Secret file is re-read on change)
 * replaces it and its cache: no token bought with the old key outlives the rotation here.
 */
const apps = new Map<string, { readonly keyHash: string; readonly auth: Auth }>();
/**
 * auth-app de-duplicates concurrent token requests in a module-wide map keyed by installation id alone, so
 * two Apps (another host, or a key being rotated) asking for the same id at once would share one answer.
 * Requests for one installation id are therefore made one after another here.
 */
const inFlight = new Map<string, Promise<unknown>>();

function tokenRequest(apiURL: string, timeoutMs: number, now: () => number) {
  return async (
    route: string,
    parameters: { installation_id: number; headers: { authorization: string } },
  ) => {
    // auth-app asks for nothing else when asked for an installation token; anything else is a bug here.
    if (route !== ROUTE) throw new Error(`unexpected GitHub App request ${route}`);
    let response: Response;
    try {
      response = await fetch(
        `${apiURL}/app/installations/${encodeURIComponent(String(parameters.installation_id))}/access_tokens`,
        {
          method: 'POST',
          redirect: 'manual',
          headers: {
            Authorization: parameters.headers.authorization,
            Accept: 'application/vnd.github+json',
            'X-GitHub-Api-Version': '2022-11-28',
            'User-Agent': 'tekton-gateway',
          },
          signal: AbortSignal.timeout(timeoutMs),
        },
      );
    } catch (error) {
      throw new Refusal({
        kind: 'retry',
        afterMs: undefined,
        message: `the GitHub App token endpoint could not be reached: ${(error as Error).name}`,
      });
    }
    const text = await response.text().catch(() => '');
    const answer = readAnswer(response.status, response.headers, text, false, now());
    if (answer.kind !== 'success') {
      throw new Refusal({ ...answer, message: `GitHub App token endpoint: ${answer.message}` });
    }
    let data: { token?: unknown; expires_at?: unknown };
    try {
      data = JSON.parse(text) as typeof data;
    } catch {
      data = {};
    }
    if (typeof data.token !== 'string' || typeof data.expires_at !== 'string') {
      throw new Refusal({
        kind: 'failure',
        message: `GitHub App token endpoint: HTTP ${response.status} without token and expires_at`,
      });
    }
    return { status: response.status, url: response.url, headers: {}, data };
  };
}

function appFor(appId: number, privateKeyPem: string, apiURL: string, options: TokenOptions): Auth {
  const id = `${apiURL}\n${appId}`;
  const keyHash = createHash('sha256').update(privateKeyPem).digest('hex');
  const known = apps.get(id);
  if (known?.keyHash === keyHash) return known.auth;
  const auth = createAppAuth({
    appId,
    privateKey: privateKeyPem,
    // A plain function stands in for @octokit/request: auth-app only calls it with ROUTE (see above).
    request: tokenRequest(apiURL, options.timeoutMs ?? 10_000, options.now ?? Date.now) as never,
    // auth-app warns only on paths we never use (its request hook); nothing of it reaches our logs.
    log: { warn: () => undefined },
  });
  apps.set(id, { keyHash, auth });
  return auth;
}

async function oneAtATime<T>(installationId: string, work: () => Promise<T>): Promise<T> {
  const before = inFlight.get(installationId) ?? Promise.resolve();
  const mine = before.then(work, work);
  const tail = mine.catch(() => undefined);
  inFlight.set(installationId, tail);
  try {
    return await mine;
  } finally {
    if (inFlight.get(installationId) === tail) inFlight.delete(installationId);
  }
}

/**
 * A token for the App's installation: from the cache while it has more than five minutes left, else a new
 * one from `{apiURL}/app/installations/{installationId}/access_tokens`. A key that does not parse and a
 * refusal (401, 404, …) are failures; 5xx, rate limits and network errors are retries. No result or
 * message ever carries the key, the JWT or the token's neighbours in the answer.
 */
export async function installationToken(
  appId: number,
  privateKeyPem: string,
  installationId: string,
  apiURL: string,
  options: TokenOptions = {},
): Promise<TokenResult> {
  const now = options.now ?? Date.now;
  if (!/^[1-9]\d{0,18}$/.test(installationId)) {
    return { kind: 'failure', message: 'the run has no valid GitHub App installation id' };
  }
  const auth = appFor(appId, privateKeyPem, apiURL, options);
  try {
    return await oneAtATime(installationId, async () => {
      const ask = (refresh: boolean) =>
        auth({ type: 'installation', installationId: Number(installationId), refresh });
      let token = await ask(false);
      // auth-app keeps a token for 59 minutes whatever its expiry says; the expiry GitHub sent decides here
      // (a token bought just now is used even when GitHub gave it less than the margin).
      const bought = now() - Date.parse(token.createdAt) < 60_000;
      if (!bought && Date.parse(token.expiresAt) - now() <= REFRESH_BEFORE_MS) token = await ask(true);
      return { kind: 'token', token: token.token, expiresAt: token.expiresAt } as const;
    });
  } catch (error) {
    if (error instanceof Refusal) return error.answer;
    // Anything else comes from signing the JWT: the key is not an RSA private key in PEM. The library's own
    // message is not passed on (it could quote what it was given).
    return {
      kind: 'failure',
      message: 'the GitHub App private key does not parse (a PEM RSA private key, PKCS#1 or PKCS#8)',
    };
  }
}
