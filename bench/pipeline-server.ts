// An experiment, not a product: the gateway's own pipeline (the built dist/: config loader, secret store,
// handleWebhook, the respond.ts table) behind a bare node:http handler instead of the Express app in
// src/http/app.ts. It skips what app.ts adds around the pipeline (in-flight limits, metrics, the log line),
// so "gateway ÷ this" bounds what the HTTP edge costs per request (BENCHMARKS.md, "Where the time goes").
//
// Usage (the bench starts it): node pipeline-server.js DIST_DIR ROUTES_FILE SECRETS_DIR PORT
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// dist/ has no type declarations; these are the few shapes this file touches.
type Route = { readonly path: string };
type Config = {
  readonly routes: readonly Route[];
  readonly secretRefs: readonly unknown[];
  readonly gateway: { readonly maxBodyBytes: number };
};
type Answer = { readonly status: number; readonly headers: Record<string, string>; readonly body: unknown };

const [dist, routesFile, secretsDir, port] = process.argv.slice(2) as [string, string, string, string];
const load = async <T>(file: string) => (await import(pathToFileURL(path.join(dist, file)).href)) as T;
const { loadConfigFile } = await load<{
  loadConfigFile: (f: string, o: object) => { ok: boolean; config: Config; problems?: string[] };
}>('config/load.js');
const { SecretStore } = await load<{
  SecretStore: new (dir: string, o: object) => { watch(refs: readonly unknown[]): void; lookup: unknown };
}>('secrets.js');
const { handleWebhook } = await load<{
  handleWebhook: (c: Config, r: Route, d: object, io: object) => Promise<unknown>;
}>('pipeline/handle.js');
const { checkRoute } = await load<{
  checkRoute: (routes: readonly Route[], method: string, path: string) => { ok: boolean; route?: Route };
}>('pipeline/match.js');
const { answer } = await load<{ answer: (result: unknown) => Answer }>('http/respond.js');

const loaded = loadConfigFile(routesFile, { secretsDir });
if (!loaded.ok) throw new Error(loaded.problems?.join('\n'));
const config = loaded.config;
const secrets = new SecretStore(secretsDir, {});
secrets.watch(config.secretRefs);

function send(res: http.ServerResponse, a: Answer): void {
  const text = JSON.stringify(a.body);
  res.writeHead(a.status, {
    ...a.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const requestPath = q < 0 ? url : url.slice(0, q);
  const matched = checkRoute(config.routes, req.method ?? 'GET', requestPath);
  if (!matched.ok || !matched.route)
    return send(res, { status: 404, headers: {}, body: { error: 'no route' } });
  const route = matched.route;
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const now = Date.now();
    const io = {
      now: Date.now,
      randomUUID,
      secrets: secrets.lookup,
      create: undefined,
      serverDryRun: false,
      skipVerify: false,
      deadline: now + 9_000,
      trace: undefined,
    };
    const delivery = {
      method: req.method,
      path: requestPath,
      requestURL: url,
      headers: req.headersDistinct,
      body,
    };
    handleWebhook(config, route, delivery, io).then(
      (result) => send(res, answer(result)),
      () => send(res, { status: 500, headers: {}, body: { error: 'internal error' } }),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
