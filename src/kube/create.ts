// The gateway's door to the Kubernetes API for creating runs (contract §6): find the cluster, create one
// rendered object through our lean client (src/kube/client.ts), and turn whatever the API or the network
// answered into a CreateResult value. client-node itself is loaded only by src/kube/client-node.ts.
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CreateFn, CreateRequest, CreateResult, JsonObject } from '../model.js';
import { KubeConfig } from './client-node.js';
import {
  KubeAbortError,
  KubeNetworkError,
  kubeClientFromConfig,
  tlsMaterial,
  type KubeResponse,
  type LeanKubeClient,
} from './client.js';

// ---------------------------------------------------------------------------------------------------
// Finding the cluster

/** Where Kubernetes mounts a pod's service-account credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A loaded cluster configuration; `source`, `location` and `server` are for the start-up log line. */
export interface Cluster {
  readonly source: 'kubeconfig' | 'in-cluster';
  /** The kubeconfig file(s), or the service-account directory. */
  readonly location: string;
  readonly server: string;
  readonly kubeConfig: KubeConfig;
}

export type ClusterConfigResult = { ok: true; cluster: Cluster } | { ok: false; message: string };

/**
 * $KUBECONFIG (its files merged, the first current-context winning, as kubectl does), else the pod's
 * service account (token file present and KUBERNETES_SERVICE_HOST/PORT set), else ~/.kube/config.
 * An explicit KUBECONFIG wins over the pod's own account, as in kubectl and controller-runtime, so a
 * gateway can be pointed at another cluster than the one it runs in. `env`, `homeDir` and
 * `serviceAccountDir` are parameters so tests need no real home directory or pod.
 */
export function loadCluster(
  env: NodeJS.ProcessEnv = process.env,
  homeDir: string = os.homedir(),
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): ClusterConfigResult {
  const kubeconfig = env['KUBECONFIG'];
  if (kubeconfig) {
    const files = kubeconfig.split(path.delimiter).filter((file) => file !== '');
    return fromKubeconfigFiles(files, `KUBECONFIG=${kubeconfig}`);
  }
  const tokenFile = path.join(serviceAccountDir, 'token');
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (host && port && fs.existsSync(tokenFile)) return fromServiceAccount(serviceAccountDir, host, port);
  const homeConfig = path.join(homeDir, '.kube', 'config');
  if (fs.existsSync(homeConfig)) return fromKubeconfigFiles([homeConfig], homeConfig);
  return {
    ok: false,
    message:
      `no Kubernetes cluster configuration found: not running in a cluster (no ${tokenFile} with ` +
      `KUBERNETES_SERVICE_HOST/PORT), KUBECONFIG is not set, and ${homeConfig} does not exist. ` +
      'Run inside a cluster, set KUBECONFIG, or use --dry-run.',
  };
}

function fromKubeconfigFiles(files: readonly string[], where: string): ClusterConfigResult {
  const kubeConfig = new KubeConfig();
  try {
    files.forEach((file, index) => {
      if (index === 0) return kubeConfig.loadFromFile(file);
      const more = new KubeConfig();
      more.loadFromFile(file);
      kubeConfig.mergeConfig(more, Boolean(kubeConfig.currentContext));
    });
  } catch (error) {
    return { ok: false, message: `cannot load kubeconfig (${where}): ${errorText(error)}` };
  }
  return checked(kubeConfig, 'kubeconfig', files.join(path.delimiter));
}

/** Like client-node's loadFromCluster, but reading the environment and directory it is given. */
function fromServiceAccount(dir: string, host: string, port: string): ClusterConfigResult {
  // The API server speaks plain HTTP only on these ports (same rule as client-go and client-node).
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const server = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    // client-node refuses plain http unless TLS verification is "skipped"; there is no TLS to verify then.
    clusters: [
      { name: 'in-cluster', server, caFile: path.join(dir, 'ca.crt'), skipTLSVerify: scheme === 'http' },
    ],
    // The `tokenFile` auth provider re-reads the projected token every 60 s, so rotation is picked up.
    users: [
      {
        name: 'in-cluster',
        authProvider: { name: 'tokenFile', config: { tokenFile: path.join(dir, 'token') } },
      },
    ],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster' }],
    currentContext: 'in-cluster',
  });
  return checked(kubeConfig, 'in-cluster', dir);
}

/** Problems that would otherwise surface only on the first webhook, reported at start-up instead. */
function checked(kubeConfig: KubeConfig, source: Cluster['source'], location: string): ClusterConfigResult {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    const context = kubeConfig.getCurrentContext() || '(none)';
    return { ok: false, message: `${location}: current-context ${context} names no cluster` };
  }
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    return {
      ok: false,
      message: `${location}: server ${cluster.server} is plain HTTP; client-node allows that only with insecure-skip-tls-verify`,
    };
  }
  try {
    tlsMaterial(kubeConfig);
  } catch (error) {
    return { ok: false, message: `${location}: ${errorText(error)}` };
  }
  return { ok: true, cluster: { source, location, server: cluster.server, kubeConfig } };
}

// ---------------------------------------------------------------------------------------------------
// Creating objects

export interface CreateOptions {
  /** `metadata.managedFields[].manager` of what we create; the API allows at most 128 characters. */
  fieldManager?: string;
  /** Called once per HTTP attempt (kube_requests_total / kube_request_duration_seconds). */
  onRequest?: (event: { verb: 'create'; code: number | 'error'; seconds: number }) => void;
  /** Source of backoff jitter in [0, 1); tests pass a fixed one. */
  random?: () => number;
  /** Time kept back before `request.deadline` so the webhook answer still goes out in time. */
  marginMs?: number;
  /** A client to share (e.g. with run following); by default makeCreate builds its own and close() ends it. */
  client?: LeanKubeClient;
}

// Backoff between attempts: 100 ms doubling to at most 2 s, each wait drawn from [½, 1] of that
// ("equal jitter"), so replicas retrying the same outage spread out but never retry at once.
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;
/** No attempt is started with less time than this left: it could not finish, and its outcome would be lost. */
const MIN_ATTEMPT_MS = 200;
const DEFAULT_MARGIN_MS = 100;
/** The gateway's rate of new runs is small; the cap bounds sockets during a webhook storm. */
const MAX_SOCKETS = 50;

/**
 * What one attempt came to: a final result, or a failure worth retrying while time remains. `reachedApi`
 * says whether the API may have acted on the request before the failure (a reset or timeout after sending,
 * a 5xx), as opposed to a refused connection or a 429, which the API sends before handling anything.
 */
type Attempt =
  | { readonly final: CreateResult }
  | {
      readonly transient: string;
      readonly retryAfterSeconds: number | undefined;
      readonly reachedApi: boolean;
    };

export function makeCreate(cluster: Cluster, options: CreateOptions = {}): CreateFn & { close(): void } {
  const client = options.client ?? kubeClientFromConfig(cluster.kubeConfig, { maxSockets: MAX_SOCKETS });
  const ownClient = options.client === undefined;
  const closing = new AbortController();
  // Every create backing off waits on this one signal; a burst of webhooks during an API outage easily has
  // more than Node's default 10 waiting, which would print a "possible memory leak" warning that is not
  // one (each wait removes its listener). The number is bounded by the requests in flight.
  setMaxListeners(0, closing.signal);
  const fieldManager = options.fieldManager ?? 'tekton-gateway';
  const random = options.random ?? Math.random;
  const marginMs = options.marginMs ?? DEFAULT_MARGIN_MS;

  // close() must end the attempts in flight. Our own client's close() does that already, so its attempts
  // carry no signal at all; a shared client's attempts listen on the one `closing` signal. Either way there is
  // no AbortController per attempt (a measurable share of a create's CPU), and no AbortSignal.any([timeout,
  // closing.signal]): on Node 20 every composite leaves an entry in the long-lived source's dependant set that
  // is never pruned, one per attempt for the life of the process (nodejs/node#55351).
  const attemptSignal = ownClient ? undefined : closing.signal;
  async function send(request: CreateRequest, timeoutMs: number): Promise<Attempt> {
    const started = performance.now();
    const report = (code: number | 'error') =>
      options.onRequest?.({ verb: 'create', code, seconds: (performance.now() - started) / 1000 });
    let response: KubeResponse;
    try {
      response = await client.request({
        method: 'POST',
        path: `/apis/${segment(request.group)}/${segment(request.version)}/namespaces/${segment(request.namespace)}/${segment(request.plural)}`,
        query: {
          dryRun: request.dryRun ? 'All' : undefined,
          fieldManager,
          // Tekton's CRDs have structural schemas since v0.70: the API server silently prunes unknown fields
          // under the default `Warn`. `Strict` turns a typo or a v1beta1-only field in a template into a 400
          // the user sees, instead of a run that quietly ignores part of its spec.
          fieldValidation: 'Strict',
        },
        body: request.object,
        impersonate: request.impersonate,
        // The API server continues the trace when its APIServerTracing is on (docs/tracing.md).
        headers: request.traceparent ? { traceparent: request.traceparent } : undefined,
        signal: attemptSignal,
        timeoutMs,
      });
    } catch (error) {
      report('error');
      if (closing.signal.aborted) {
        return { final: unavailable('the Kubernetes client was closed', undefined) };
      }
      if (error instanceof KubeAbortError) {
        return {
          transient: 'the Kubernetes API did not answer in time',
          retryAfterSeconds: undefined,
          reachedApi: true,
        };
      }
      if (error instanceof KubeNetworkError) {
        return {
          transient: `cannot reach the Kubernetes API: ${errorText(error)}`,
          retryAfterSeconds: undefined,
          reachedApi: error.code !== 'ECONNREFUSED',
        };
      }
      // Not the API and not the network: e.g. an unreadable token file or a failing exec credential plugin.
      return {
        final: unavailable(`cannot send the request to the Kubernetes API: ${errorText(error)}`, undefined),
      };
    }
    report(response.status);
    if (response.status >= 200 && response.status < 300) {
      const object = response.body;
      return { final: { kind: 'created', object: isObject(object) ? object : {} } };
    }
    return fromStatus(response, request);
  }

  async function create(request: CreateRequest): Promise<CreateResult> {
    const stopAt = request.deadline - marginMs;
    let attempts = 0;
    let last: { transient: string; retryAfterSeconds: number | undefined } | undefined;
    let retryAfterSeconds: number | undefined;
    // Whether an earlier attempt may have stored the object: a later AlreadyExists may then be our own.
    let lostAttempt = false;
    const giveUp = () => {
      const what = last
        ? `${last.transient} (${plural(attempts, 'attempt')})`
        : 'no time left before the deadline';
      return unavailable(what, retryAfterSeconds);
    };
    for (;;) {
      if (closing.signal.aborted) return unavailable('the Kubernetes client was closed', undefined);
      const timeLeft = stopAt - Date.now();
      if (timeLeft <= 0) return giveUp();
      attempts++;
      // Each attempt may use all the time that is left: a slow but successful create beats a retry.
      const outcome = await send(request, timeLeft);
      if ('final' in outcome) {
        const final = outcome.final;
        return final.kind === 'exists' ? { kind: 'exists', afterLostAttempt: lostAttempt } : final;
      }
      last = outcome;
      lostAttempt ||= outcome.reachedApi;
      if (outcome.retryAfterSeconds !== undefined) retryAfterSeconds = outcome.retryAfterSeconds;
      const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempts - 1));
      const waitMs = outcome.retryAfterSeconds
        ? outcome.retryAfterSeconds * 1000
        : ceiling / 2 + (ceiling / 2) * random();
      // When the API's Retry-After (or our backoff) reaches past the deadline, waiting cannot help: answer
      // now and let the sender redeliver, which is safe (contract §6).
      if (waitMs + MIN_ATTEMPT_MS > stopAt - Date.now()) return giveUp();
      try {
        await sleep(waitMs, undefined, { signal: closing.signal });
      } catch {
        return unavailable('the Kubernetes client was closed', undefined);
      }
    }
  }

  return Object.assign(create, {
    close() {
      closing.abort();
      if (ownClient) client.close();
    },
  });
}

/** Maps a non-2xx answer: refusals are final, 429 and 500/502/503/504 are worth another try. */
function fromStatus(response: KubeResponse, request: CreateRequest): Attempt {
  const code = response.status;
  const status = parseStatus(response.body);
  const message = status.message ?? (http.STATUS_CODES[code] || `HTTP ${code}`);
  const retryAfterSeconds = parseRetryAfter(response.headers['retry-after']) ?? status.retryAfterSeconds;
  if (code === 429 || code === 500 || code === 502 || code === 503 || code === 504) {
    // 429 comes from priority-and-fairness or max-in-flight, before the request is handled; a 5xx may come
    // after storage (a 504 "may still be processing the request", a proxy losing the answer).
    const reachedApi = code !== 429;
    return { transient: `the Kubernetes API answered ${code}: ${message}`, retryAfterSeconds, reachedApi };
  }
  if (code === 409 && status.reason === 'AlreadyExists' && hasFixedName(request.object)) {
    // create() sets afterLostAttempt from the attempts before this one.
    return { final: { kind: 'exists', afterLostAttempt: false } };
  }
  // A 409 here is generateName exhaustion or a conflict other than our fixed name: a refusal like any 4xx.
  if (code >= 400 && code < 500) return { final: { kind: 'refused', code, message } };
  return { final: unavailable(`the Kubernetes API answered ${code}: ${message}`, retryAfterSeconds) };
}

interface StatusFields {
  readonly message: string | undefined;
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;
}

/**
 * The error body is a Status object for most errors (parsed by the client when sent as JSON), but plain
 * text for 429 from priority-and-fairness and for `404 page not found`, and may be empty (401).
 */
function parseStatus(body: unknown): StatusFields {
  let parsed: unknown = body;
  let text = '';
  if (typeof body === 'string') {
    text = body;
    if (text.trim() === '') return { message: undefined, reason: undefined, retryAfterSeconds: undefined };
    try {
      parsed = JSON.parse(text);
    } catch {
      return { message: text.trim(), reason: undefined, retryAfterSeconds: undefined };
    }
  } else {
    text = JSON.stringify(body) ?? '';
  }
  if (!isObject(parsed)) return { message: text.trim(), reason: undefined, retryAfterSeconds: undefined };
  const details = isObject(parsed['details']) ? parsed['details'] : {};
  const retry = details['retryAfterSeconds'];
  return {
    message: typeof parsed['message'] === 'string' ? parsed['message'] : text.trim(),
    reason: typeof parsed['reason'] === 'string' ? parsed['reason'] : undefined,
    retryAfterSeconds: typeof retry === 'number' && retry > 0 ? retry : undefined,
  };
}

/** Retry-After in seconds; the HTTP-date form is accepted too, though the API server sends seconds. */
function parseRetryAfter(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function hasFixedName(object: JsonObject): boolean {
  const metadata = object['metadata'];
  return isObject(metadata) && typeof metadata['name'] === 'string' && metadata['name'] !== '';
}

function unavailable(message: string, retryAfterSeconds: number | undefined): CreateResult {
  return { kind: 'unavailable', message, retryAfterSeconds };
}

/** A path segment as the API expects it: names are DNS labels, but nothing unescaped reaches the URL. */
function segment(value: string): string {
  return encodeURIComponent(value);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error.message + cause;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
