// The gateway's own small Kubernetes client: one keep-alive agent on node:http(s), JSON in and out, and
// client-node's KubeConfig only for finding the cluster and applying its auth to each request. It sends the
// few requests the gateway makes (create; list, watch, patch, delete and Leases for following runs) without
// loading client-node's generated API (see src/kube/client-node.ts and docs/architecture.md).
//
// It does not interpret answers: HTTP errors come back as their status and body, and only what stopped an
// answer from arriving (network, TLS, timeout, abort, credentials that could not be obtained) throws.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { Deadlines } from '../deadlines.js';
import type { KubeConfig, KubeCluster } from './client-node.js';

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** e.g. /apis/tekton.dev/v1/namespaces/ns/pipelineruns; appended to the server URL's own path. */
  path: string;
  /** e.g. {labelSelector, resourceVersion, timeoutSeconds, dryRun}; undefined values are left out. */
  query?: Record<string, string | undefined>;
  /** JSON-serialised by the client (a string or Buffer is sent as it is). */
  body?: unknown;
  /** Default application/json; merge patch: application/merge-patch+json. */
  contentType?: string;
  /** Impersonate-User header value; overrides the kubeconfig user's `as:`. */
  impersonate?: string;
  /** Extra headers (e.g. traceparent). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** request(): the whole exchange. watch(): until the response headers arrive (the stream may then run on). */
  timeoutMs?: number;
}

export interface KubeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the answer is JSON, else its text ('' when empty). */
  body: unknown;
}

export interface KubeClient {
  /** Network errors throw; HTTP errors return their status. */
  request(req: KubeRequest): Promise<KubeResponse>;
  /**
   * GET with ?watch=1, yielding each parsed JSON event line; ends when the server closes the stream.
   * Throws on network error or abort, and a KubeStatusError when the API refuses the watch itself.
   */
  watch(req: KubeRequest): AsyncIterable<unknown>;
}

export interface LeanKubeClient extends KubeClient {
  /** The API server URL, for log lines. */
  readonly server: string;
  /** Ends every request and watch in flight and the kept-alive connections. */
  close(): void;
}

export interface KubeClientOptions {
  /** Connections per API server; the gateway's rate of requests is small, the cap bounds a webhook storm. */
  maxSockets?: number;
  /** Answers (and single watch events) larger than this are an error: an API answer is never that big. */
  maxResponseBytes?: number;
  userAgent?: string;
}

/** The request was aborted by its signal or ran past `timeoutMs`; nothing is known about its effect. */
export class KubeAbortError extends Error {
  override readonly name = 'AbortError';
  constructor(readonly timedOut: boolean) {
    super(
      timedOut
        ? 'the Kubernetes API did not answer in time'
        : 'the request to the Kubernetes API was aborted',
    );
  }
}

/** The connection failed (refused, reset, TLS, DNS). `code` is Node's, e.g. ECONNREFUSED. */
export class KubeNetworkError extends Error {
  override readonly name = 'KubeNetworkError';
  readonly code: string | undefined;
  constructor(cause: Error & { code?: unknown }) {
    super(cause.message, { cause });
    this.code = typeof cause.code === 'string' ? cause.code : undefined;
  }
}

/** Credentials could not be obtained (unreadable token file, failing exec plugin, OIDC refresh). Nothing was sent. */
export class KubeAuthError extends Error {
  override readonly name = 'KubeAuthError';
}

/** The answer broke the protocol: too large, or a watch line that is not JSON. */
export class KubeProtocolError extends Error {
  override readonly name = 'KubeProtocolError';
}

/** A watch the API refused (e.g. 403, 404, 410): its status and body, as request() would have returned them. */
export class KubeStatusError extends Error {
  override readonly name = 'KubeStatusError';
  constructor(readonly response: KubeResponse) {
    super(`the Kubernetes API answered ${response.status}${statusMessage(response.body)}`);
  }
}

const DEFAULT_MAX_SOCKETS = 50;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** client-node's private per-request auth step (token, token file, exec, OIDC, cloud providers). */
type ApplyAuth = (opts: { headers: Record<string, unknown> }) => Promise<void>;

export function kubeClientFromConfig(
  kubeConfig: KubeConfig,
  options: KubeClientOptions = {},
): LeanKubeClient {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster)
    throw new Error(`current-context ${kubeConfig.getCurrentContext() || '(none)'} names no cluster`);
  const base = new URL(cluster.server);
  const secure = base.protocol === 'https:';
  const transport = secure ? https : http;
  const prefix = base.pathname.replace(/\/+$/, '');
  const hostname = base.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = base.port || (secure ? 443 : 80);
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const userAgent = options.userAgent ?? 'tekton-gateway';
  const agent = proxyless(cluster)
    ? makeAgent(kubeConfig, cluster, options.maxSockets ?? DEFAULT_MAX_SOCKETS)
    : undefined;
  // With a proxy, client-node's own agent (hpagent / socks) is kept, built once.
  let proxyAgent: Promise<http.Agent | undefined> | undefined;
  const closing = new AbortController();
  /** The abort of every request and watch in flight, for close(). */
  const inFlight = new Set<() => void>();
  const deadlines = new Deadlines();

  // applyAuthorizationHeader is private in client-node's typings but is exactly the per-request step we need;
  // the public applyToHTTPSOptions also re-reads the CA and key files and builds a new Agent on every call.
  const privateApply = (kubeConfig as unknown as { applyAuthorizationHeader?: ApplyAuth })
    .applyAuthorizationHeader;
  const user = kubeConfig.getCurrentUser();

  // A user with only a static token or basic auth (no auth provider, no exec plugin) has the same headers on
  // every request: computed once, they save client-node's authenticator walk per create.
  const staticCredentials = privateApply !== undefined && user !== null && !user.authProvider && !user.exec;
  let staticHeaders: Promise<Record<string, string>> | undefined;
  /** The static headers once known: later requests then start without awaiting anything. */
  let knownHeaders: Record<string, string> | undefined;

  function authHeaders(): Promise<Record<string, string>> {
    if (!staticCredentials) return freshAuthHeaders();
    staticHeaders ??= freshAuthHeaders().then(
      (headers) => (knownHeaders = headers),
      (error: unknown) => {
        staticHeaders = undefined;
        throw error;
      },
    );
    return staticHeaders;
  }

  async function freshAuthHeaders(): Promise<Record<string, string>> {
    const opts: { headers: Record<string, unknown>; auth?: string } = { headers: {} };
    try {
      if (typeof privateApply === 'function') {
        await privateApply.call(kubeConfig, opts);
        if (user?.username) opts.auth = `${user.username}:${user.password ?? ''}`;
        if (user?.impersonateUser != null) opts.headers['Impersonate-User'] = user.impersonateUser;
      } else {
        await kubeConfig.applyToHTTPSOptions(opts);
      }
    } catch (error) {
      throw new KubeAuthError(`cannot obtain Kubernetes credentials: ${errorText(error)}`, { cause: error });
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(opts.headers)) {
      if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
    if (opts.auth) headers['authorization'] = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    return headers;
  }

  async function agentFor(): Promise<http.Agent | undefined> {
    if (agent) return agent;
    proxyAgent ??= (async () => {
      const opts: https.RequestOptions = {};
      await kubeConfig.applyToHTTPSOptions(opts);
      return opts.agent instanceof http.Agent ? opts.agent : undefined;
    })();
    return proxyAgent;
  }

  /** Sends the request; resolves with the response once its headers arrive. `done` must be called after. */
  async function open(
    req: KubeRequest,
    headersOnlyTimeout: boolean,
  ): Promise<{ res: http.IncomingMessage; done: () => void }> {
    if (closing.signal.aborted || req.signal?.aborted) throw new KubeAbortError(false);
    // Awaited only while they are not known yet (or never static): each await is a turn of the microtask
    // queue on every create.
    const headers: Record<string, string> = {
      ...(knownHeaders ?? (await authHeaders())),
      accept: 'application/json',
      'user-agent': userAgent,
    };
    if (req.impersonate) headers['impersonate-user'] = req.impersonate;
    if (req.headers) for (const name in req.headers) headers[name.toLowerCase()] = req.headers[name]!;
    let payload: string | Buffer | undefined;
    if (req.body !== undefined) {
      payload =
        typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : JSON.stringify(req.body);
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const requestAgent = agent ?? (await agentFor());
    if (closing.signal.aborted || req.signal?.aborted) throw new KubeAbortError(false);
    return new Promise((resolve, reject) => {
      let response: http.IncomingMessage | undefined;
      let stopTimer: (() => void) | undefined;
      const outgoing = transport.request({
        agent: requestAgent,
        method: req.method,
        hostname,
        port,
        path: prefix + req.path + queryString(req.query),
        headers,
      });
      // Destroying the response first makes its reader fail with this error rather than a bare "aborted".
      const abort = (timedOut: boolean) => {
        const error = new KubeAbortError(timedOut);
        response?.destroy(error);
        outgoing.destroy(error);
      };
      const onAbort = () => abort(false);
      const done = () => {
        stopTimer?.();
        req.signal?.removeEventListener('abort', onAbort);
        inFlight.delete(onAbort);
      };
      inFlight.add(onAbort);
      req.signal?.addEventListener('abort', onAbort, { once: true });
      if (req.timeoutMs !== undefined) stopTimer = deadlines.after(req.timeoutMs, () => abort(true));
      outgoing.on('error', (error: Error & { code?: unknown }) => {
        if (response) return; // the response reader sees it
        done();
        reject(error instanceof KubeAbortError ? error : new KubeNetworkError(error));
      });
      outgoing.on('response', (res) => {
        response = res;
        if (headersOnlyTimeout) stopTimer?.();
        resolve({ res, done });
      });
      outgoing.end(payload);
    });
  }

  async function request(req: KubeRequest): Promise<KubeResponse> {
    const { res, done } = await open(req, false);
    try {
      const text = await readAll(res, maxResponseBytes);
      return {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: parseBody(res.headers['content-type'], text),
      };
    } finally {
      done();
    }
  }

  async function* watch(req: KubeRequest): AsyncGenerator<unknown> {
    const query = { ...req.query, watch: req.query?.['watch'] ?? '1' };
    const { res, done } = await open({ ...req, method: 'GET', query }, true);
    try {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        const text = await readAll(res, maxResponseBytes);
        throw new KubeStatusError({
          status,
          headers: res.headers,
          body: parseBody(res.headers['content-type'], text),
        });
      }
      try {
        yield* jsonLines(res, maxResponseBytes);
      } catch (error) {
        throw readError(error);
      }
    } finally {
      done();
      // The consumer stopped early (break/return) or the stream failed: release the connection.
      if (!res.complete) res.destroy();
    }
  }

  return {
    server: cluster.server,
    request,
    watch,
    close() {
      closing.abort();
      for (const abort of inFlight) abort();
      agent?.destroy();
      void proxyAgent?.then((a) => a?.destroy());
    },
  };
}

/**
 * Splits a watch stream into its JSON lines (the API server writes one event per line, but chunks may cut a
 * line anywhere, including inside a UTF-8 sequence). Exported for tests.
 */
export async function* jsonLines(
  stream: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
): AsyncGenerator<unknown> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim() !== '') yield parseLine(line);
      newline = pending.indexOf('\n');
    }
    if (pending.length > maxLineBytes) {
      throw new KubeProtocolError(`a watch event is larger than ${maxLineBytes} bytes`);
    }
  }
  pending += decoder.end();
  if (pending.trim() !== '') yield parseLine(pending);
}

/** A failure while reading an answer: ours as they are, the connection's as a KubeNetworkError. */
function readError(error: unknown): Error {
  if (error instanceof KubeAbortError || error instanceof KubeProtocolError) return error;
  return new KubeNetworkError(error instanceof Error ? error : new Error(String(error)));
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new KubeProtocolError(`a watch event is not JSON: ${line.slice(0, 80)}`);
  }
}

function readAll(res: http.IncomingMessage, maxBytes: number): Promise<string> {
  // Events rather than for-await: the async iterator costs a promise per chunk on every create.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy(new KubeProtocolError(`the Kubernetes API answer is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.once('error', (error) => reject(readError(error)));
    // Settles a stream that closes without 'end' or 'error' (a no-op after either).
    res.once('close', () => {
      if (!res.complete)
        reject(new KubeNetworkError(new Error('the connection closed before the answer was complete')));
    });
    res.once('end', () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
  });
}

function parseBody(contentType: string | undefined, text: string): unknown {
  if (text === '' || !contentType || !/\bjson\b/i.test(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Characters URLSearchParams leaves as they are: a query made only of them needs no encoder. */
const PLAIN_QUERY_PART = /^[A-Za-z0-9*._-]*$/;

/**
 * `?a=1&b=2` with undefined values left out, encoded as URLSearchParams encodes (application/x-www-form-
 * urlencoded). A create's query (fieldManager, fieldValidation) is plain, so it is joined without building a
 * URLSearchParams on every create.
 */
function queryString(query: Record<string, string | undefined> | undefined): string {
  let text = '';
  for (const name in query) {
    const value = query[name];
    if (value === undefined) continue;
    if (!PLAIN_QUERY_PART.test(name) || !PLAIN_QUERY_PART.test(value)) return encodedQuery(query);
    text += `${text === '' ? '?' : '&'}${name}=${value}`;
  }
  return text;
}

function encodedQuery(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.append(name, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function statusMessage(body: unknown): string {
  if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { message?: unknown }).message === 'string'
  ) {
    return `: ${(body as { message: string }).message}`;
  }
  return typeof body === 'string' && body.trim() !== '' ? `: ${body.trim().slice(0, 200)}` : '';
}

function proxyless(cluster: KubeCluster): boolean {
  return !cluster.proxyUrl;
}

/** One keep-alive agent with the cluster's TLS material (read once: a rotated cluster CA needs a restart). */
function makeAgent(kubeConfig: KubeConfig, cluster: KubeCluster, maxSockets: number): http.Agent {
  if (cluster.server.startsWith('http:')) return new http.Agent({ keepAlive: true, maxSockets });
  return new https.Agent({
    keepAlive: true,
    maxSockets,
    ...tlsMaterial(kubeConfig),
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  });
}

/** CA and client certificate from files or inline data; throws a message naming what could not be read. */
export function tlsMaterial(kubeConfig: KubeConfig): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  const ca = pem('certificate-authority', cluster?.caFile, cluster?.caData);
  const cert = pem('client-certificate', user?.certFile, user?.certData);
  const key = pem('client-key', user?.keyFile, user?.keyData);
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}

function pem(what: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) {
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read ${what} ${file}`, { cause: error });
    }
  }
  return data ? Buffer.from(data, 'base64') : undefined;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error.message + cause;
}
