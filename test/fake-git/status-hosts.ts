// Loopback fakes of the five commit-status endpoints (the hosts' documented status APIs;
// §4): each checks its auth header, validates states as the host does (GitHub 422 on an unknown state or a
// description over 140, GitLab 400 on a repeated state, Bitbucket 400 without a valid url) and records
// what was accepted, per commit and context. GitHub also sells App installation tokens for a JWT it checks
// as GitHub does (RS256 with the App's public key, iss = the App id, exp at most 10 minutes ahead), and
// Bitbucket Cloud resolves a commit prefix to the full id for the commits a test registered.
import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedStatus {
  readonly host: string;
  readonly repository: string;
  readonly commit: string;
  readonly state: string;
  readonly context: string;
  readonly description: string;
  readonly url: string | undefined;
  /** The credential the post carried (the configured token or an installation token). */
  readonly token: string;
}

export interface FakeStatusHostsOptions {
  /** A GitHub App: its id, public key (PEM or KeyObject) and the installation ids it is installed on. */
  readonly app?: {
    readonly id: number;
    readonly publicKey: string | KeyObject;
    readonly installations: readonly number[];
  };
  /** Lifetime of an installation token (GitHub: one hour). */
  readonly tokenLifetimeMs?: number;
}

export interface IssuedToken {
  readonly installation: number;
  readonly token: string;
  readonly expiresAt: string;
}

export interface FakeStatusHosts {
  readonly url: string;
  readonly token: string;
  readonly accepted: RecordedStatus[];
  /** Every request, accepted or not: [host, HTTP status]. */
  readonly answered: [string, number][];
  /** Installation tokens GitHub's token endpoint sold, in order. */
  readonly issued: IssuedToken[];
  /** Commits Bitbucket Cloud knows (full ids): a GET of a prefix of one answers it. */
  addCommit(hash: string): void;
  /**
   * The next `times` authenticated requests (posts, token and commit calls; only those answered as `only`
   * — e.g. 'bitbucket-cloud', 'bitbucket-commit', 'github-app' — when given) answer `status` instead.
   */
  fail(times: number, status: number, headers?: Record<string, string>, only?: string): void;
  close(): Promise<void>;
}

const STATES: Record<string, readonly string[]> = {
  github: ['error', 'failure', 'pending', 'success'],
  gitea: ['pending', 'success', 'error', 'failure', 'warning'],
  gitlab: ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'],
  'bitbucket-cloud': ['INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED'],
  'bitbucket-datacenter': ['INPROGRESS', 'SUCCESSFUL', 'FAILED', 'CANCELLED', 'UNKNOWN'],
};

const ROUTES: [string, RegExp][] = [
  ['github', /^\/github\/repos\/([^/]+\/[^/]+)\/statuses\/([^/]+)$/],
  ['gitea', /^\/gitea\/api\/v1\/repos\/([^/]+\/[^/]+)\/statuses\/([^/]+)$/],
  ['gitlab', /^\/gitlab\/api\/v4\/projects\/([^/]+)\/statuses\/([^/]+)$/],
  ['bitbucket-cloud', /^\/bitbucket\/2\.0\/repositories\/([^/]+\/[^/]+)\/commit\/([^/]+)\/statuses\/build$/],
  [
    'bitbucket-datacenter',
    /^\/bbdc\/rest\/api\/latest\/projects\/([^/]+)\/repos\/([^/]+)\/commits\/([^/]+)\/builds$/,
  ],
];

const GITHUB_APP_TOKEN = /^\/github\/app\/installations\/([^/]+)\/access_tokens$/;
const BITBUCKET_COMMIT = /^\/bitbucket\/2\.0\/repositories\/([^/]+\/[^/]+)\/commit\/([^/]+)$/;

/** GitHub's checks of an App JWT; the reason it refuses one, or undefined when it is accepted. */
function jwtProblem(jwt: string, app: NonNullable<FakeStatusHostsOptions['app']>): string | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return 'A JSON web token could not be decoded';
  const [header, payload, signature] = parts as [string, string, string];
  let head: { alg?: unknown };
  let claims: { iat?: unknown; exp?: unknown; iss?: unknown };
  try {
    head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as typeof head;
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return 'A JSON web token could not be decoded';
  }
  if (head.alg !== 'RS256') return 'A JSON web token could not be decoded';
  const key = typeof app.publicKey === 'string' ? createPublicKey(app.publicKey) : app.publicKey;
  const valid = verify(
    'RSA-SHA256',
    Buffer.from(`${header}.${payload}`),
    key,
    Buffer.from(signature, 'base64url'),
  );
  if (!valid) return 'A JSON web token could not be decoded';
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.iat !== 'number' || claims.iat > now + 1)
    return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
  if (typeof claims.exp !== 'number' || claims.exp <= now)
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  if (claims.exp - now > 600) return "'Expiration time' claim ('exp') is too far in the future";
  // GitHub takes the App id as a number or a string, or the App's client id.
  if (String(claims.iss) !== String(app.id)) return 'Integration not found';
  return undefined;
}

function validUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export async function startFakeStatusHosts(
  token = 'status-token',
  options: FakeStatusHostsOptions = {},
): Promise<FakeStatusHosts> {
  const accepted: RecordedStatus[] = [];
  const answered: [string, number][] = [];
  const issued: IssuedToken[] = [];
  const commits: string[] = [];
  let failing:
    { times: number; status: number; headers: Record<string, string>; only: string | undefined } | undefined;
  const injected = (host: string) => {
    if (!failing || failing.times <= 0 || (failing.only !== undefined && failing.only !== host))
      return undefined;
    failing.times--;
    return failing;
  };
  const installationToken = (value: string | undefined) =>
    issued.some((t) => t.token === value && Date.parse(t.expiresAt) > Date.now());

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const match = ROUTES.map(([host, re]) => [host, re.exec(path)] as const).find(([, m]) => m);
      const send = (host: string, status: number, body: unknown, headers: Record<string, string> = {}) => {
        answered.push([host, status]);
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(body === undefined ? '' : JSON.stringify(body));
      };
      const appToken = GITHUB_APP_TOKEN.exec(path);
      if (appToken && req.method === 'POST') {
        const app = options.app;
        const jwt = /^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
        if (!app || jwt === undefined)
          return send('github-app', 401, { message: 'A JSON web token could not be decoded' });
        const problem = jwtProblem(jwt, app);
        if (problem) return send('github-app', 401, { message: problem });
        const installation = Number(appToken[1]);
        if (!app.installations.includes(installation))
          return send('github-app', 404, { message: 'Not Found' });
        const fault = injected('github-app');
        if (fault) return send('github-app', fault.status, { message: 'injected' }, fault.headers);
        const expiresAt = new Date(Date.now() + (options.tokenLifetimeMs ?? 3_600_000))
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z');
        const minted = { installation, token: `ghs_${randomBytes(18).toString('hex')}`, expiresAt };
        issued.push(minted);
        return send('github-app', 201, {
          token: minted.token,
          expires_at: expiresAt,
          permissions: { statuses: 'write' },
          repository_selection: 'all',
        });
      }
      const commitGet = BITBUCKET_COMMIT.exec(path);
      if (commitGet && req.method === 'GET') {
        if (req.headers.authorization?.replace(/^Bearer /, '') !== token)
          return send('bitbucket-commit', 401, { type: 'error', error: { message: 'Unauthorized' } });
        const fault = injected('bitbucket-commit');
        if (fault) return send('bitbucket-commit', fault.status, { message: 'injected' }, fault.headers);
        const prefix = decodeURIComponent(commitGet[2]!);
        const found = commits.find((c) => c.startsWith(prefix));
        return found
          ? send('bitbucket-commit', 200, { type: 'commit', hash: found })
          : send('bitbucket-commit', 404, {
              type: 'error',
              error: { message: `Commit not found: ${prefix}` },
            });
      }
      if (!match || req.method !== 'POST') return send('?', 404, { message: 'Not Found' });
      const [host, m] = match as [string, RegExpExecArray];
      // GitHub takes `Bearer` or the historical `token` prefix, for a token or an App installation token.
      const auth =
        host === 'gitlab'
          ? req.headers['private-token']
          : host === 'gitea'
            ? req.headers.authorization?.replace(/^token /, '')
            : host === 'github'
              ? req.headers.authorization?.replace(/^(Bearer|token) /i, '')
              : req.headers.authorization?.replace(/^Bearer /, '');
      const credential = typeof auth === 'string' ? auth : '';
      if (auth !== token && !(host === 'github' && installationToken(credential)))
        return send(host, 401, { message: '401 Unauthorized' });
      const fault = injected(host);
      if (fault) return send(host, fault.status, { message: 'injected' }, fault.headers);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return send(host, 400, { message: 'Problems parsing JSON' });
      }
      const state = String(body['state']);
      const repository = host === 'bitbucket-datacenter' ? `${m[1]}/${m[2]}` : decodeURIComponent(m[1]!);
      const commit = host === 'bitbucket-datacenter' ? m[3]! : m[2]!;
      const context = String(body['context'] ?? body['name'] ?? body['key'] ?? 'default');
      const description = String(body['description'] ?? '');
      if (!STATES[host]!.includes(state)) {
        return host === 'github'
          ? send(host, 422, {
              message: 'Validation Failed',
              errors: [
                {
                  resource: 'Status',
                  field: 'state',
                  code: 'custom',
                  message: 'state is not included in the list',
                },
              ],
            })
          : send(host, 400, { message: `state ${state} is not valid` });
      }
      if (host === 'github' && [...description].length > 140) {
        return send(host, 422, {
          message: 'Validation Failed',
          errors: [
            {
              resource: 'Status',
              code: 'custom',
              field: 'description',
              message: 'description is too long (maximum is 140 characters)',
            },
          ],
        });
      }
      if (host.startsWith('bitbucket') && !validUrl(body['url'])) {
        return send(host, 400, {
          type: 'error',
          error: { fields: { url: ['Enter a valid URL.'] }, message: 'url: Enter a valid URL.' },
        });
      }
      if (host === 'gitlab') {
        const last = accepted
          .filter((a) => a.host === host && a.commit === commit && a.context === context)
          .at(-1);
        if (last && last.state === state) {
          return send(host, 400, {
            message: `Cannot transition status via :run from :${state} (Reason(s): Status cannot transition via "run")`,
          });
        }
      }
      accepted.push({
        host,
        repository,
        commit,
        state,
        context,
        description,
        url: (body['target_url'] ?? body['url']) as string | undefined,
        token: credential,
      });
      send(
        host,
        host === 'bitbucket-datacenter' ? 204 : 201,
        host === 'bitbucket-datacenter' ? undefined : { state },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    accepted,
    answered,
    issued,
    addCommit: (hash) => {
      commits.push(hash);
    },
    fail: (times, status, headers = {}, only) => {
      failing = { times, status, headers, only };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
