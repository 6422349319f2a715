// Loopback fakes of the five commit-status endpoints (the hosts' documented status APIs;
// §4): each checks its auth header, validates states as the host does (GitHub 422 on an unknown state or a
// description over 140, GitLab 400 on a repeated state, Bitbucket 400 without a valid url) and records
// what was accepted, per commit and context.
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
}

export interface FakeStatusHosts {
  readonly url: string;
  readonly token: string;
  readonly accepted: RecordedStatus[];
  /** Every request, accepted or not: [host, HTTP status]. */
  readonly answered: [string, number][];
  /** The next `times` posts answer `status` with these headers instead. */
  fail(times: number, status: number, headers?: Record<string, string>): void;
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

function validUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export async function startFakeStatusHosts(token = 'status-token'): Promise<FakeStatusHosts> {
  const accepted: RecordedStatus[] = [];
  const answered: [string, number][] = [];
  let failing: { times: number; status: number; headers: Record<string, string> } | undefined;

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
      if (!match || req.method !== 'POST') return send('?', 404, { message: 'Not Found' });
      const [host, m] = match as [string, RegExpExecArray];
      const auth =
        host === 'gitlab'
          ? req.headers['private-token']
          : host === 'gitea'
            ? req.headers.authorization?.replace(/^token /, '')
            : req.headers.authorization?.replace(/^Bearer /, '');
      if (auth !== token) return send(host, 401, { message: '401 Unauthorized' });
      if (failing && failing.times > 0) {
        failing.times--;
        return send(host, failing.status, { message: 'injected' }, failing.headers);
      }
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
    fail: (times, status, headers = {}) => {
      failing = { times, status, headers };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
