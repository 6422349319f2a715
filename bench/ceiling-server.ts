// The Node ceiling (issue #8): a bare node:http server that does only the unavoidable work of the verify +
// filter path, so the gateway's throughput can be read as a share of what Node itself allows on this core.
// /github: HMAC-SHA256 of the raw body against X-Hub-Signature-256; /gitlab: X-Gitlab-Token against the
// token. Then JSON.parse and the ref check, and a small JSON answer. No framework, no logging, no metrics.
//
// Usage (the bench starts it): node ceiling-server.js PORT
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { GITHUB_SECRET, GITLAB_TOKEN, REJECTED_REF } from './payloads.js';

const githubKey = Buffer.from(GITHUB_SECRET);
const gitlabToken = Buffer.from(GITLAB_TOKEN);

/** Constant-time, as a real verifier must be; the length check first because timingSafeEqual throws. */
function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function verified(path: string, headers: http.IncomingHttpHeaders, body: Buffer): boolean {
  if (path === '/github') {
    const given = String(headers['x-hub-signature-256'] ?? '');
    if (!given.startsWith('sha256=')) return false;
    return equal(Buffer.from(given.slice(7), 'hex'), createHmac('sha256', githubKey).update(body).digest());
  }
  if (path === '/gitlab')
    return equal(Buffer.from(String(headers['x-gitlab-token'] ?? ''), 'latin1'), gitlabToken);
  return false;
}

function answer(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (!verified(req.url ?? '', req.headers, body)) return answer(res, 401, '{"error":"signature"}');
    let value: { ref?: unknown };
    try {
      value = JSON.parse(body.toString('utf8')) as { ref?: unknown };
    } catch {
      return answer(res, 400, '{"error":"json"}');
    }
    answer(res, 200, value.ref === REJECTED_REF ? '{"outcome":"accepted"}' : '{"outcome":"skipped"}');
  });
});
// As long as the gateway's, so neither closes idle keep-alive connections during a run.
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
