// A fake Kubernetes API server for tests: node:http on 127.0.0.1, reached through a real kubeconfig, that
// answers POST /apis/<group>/<version>/namespaces/<ns>/<plural> the way kube-apiserver plus Tekton's
// webhooks do, in the real order of checks (k8s.io/apiserver's handler chain): authentication,
// impersonation, RBAC, unknown resource, CreateOptions, decoding, namespace, name generation, validation,
// Tekton's admission webhook, AlreadyExists. Faults (errors, latency, resets) can be injected, and every
// request is recorded, so the production client runs unchanged against it.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeKubeconfig, type KubeconfigOptions } from './kubeconfig.js';
import * as S from './status.js';
import type { FieldError } from './status.js';
import { mergePatch } from './merge-patch.js';
import { parseSelector } from './selector.js';
import { reconcileRun, transition, updateDenial, type Phase } from './tekton.js';
import { createOptionsErrors, objectMetaErrors } from './validation.js';

type Json = Record<string, unknown>;

export interface FakeResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  /** Apply Tekton's validation webhook (name ≤ 63, exactly one of ref/spec). */
  readonly tektonRun?: boolean;
}

export const TEKTON_RESOURCES: readonly FakeResource[] = ['v1', 'v1beta1'].flatMap((version) => [
  { group: 'tekton.dev', version, plural: 'pipelineruns', kind: 'PipelineRun', tektonRun: true },
  { group: 'tekton.dev', version, plural: 'taskruns', kind: 'TaskRun', tektonRun: true },
]);

export const LEASE_RESOURCE: FakeResource = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
};

/** Who may do what: `*` matches anything; without `verbs`, every verb. */
export interface RbacRule {
  readonly user: string;
  readonly namespace: string;
  readonly resource: string;
  /** get, list, watch, create, update, patch, delete. */
  readonly verbs?: readonly string[];
}

export interface Faults {
  /** Share of requests (0–1) answered with `status` instead of being served. */
  readonly errorRate?: number;
  readonly status?: 429 | 500 | 502 | 503 | 504;
  /** Retry-After seconds on injected errors; 429 always carries one (default 1, like max-in-flight). */
  readonly retryAfter?: number;
  /** 429 as Status JSON (webhooks, eviction) instead of priority-and-fairness's plain text. */
  readonly statusJson?: boolean;
  /** Delay before any answer, on every request while set. */
  readonly latencyMs?: number;
  /** Share of requests whose connection is destroyed without an answer. */
  readonly resetRate?: number;
  /** Destroy the connection after the object was stored: created, but the client cannot know it. */
  readonly resetAfterStore?: boolean;
  /** How many requests the error and reset faults hit before switching off; unlimited when absent. */
  readonly times?: number;
  /**
   * Picks this request's fault, or none, before the rate-based faults above are rolled; for a chaos mix of
   * kinds that one `status` cannot express. The caller sees every request, so it can count what it injected.
   */
  readonly choose?: (request: RecordedRequest) => Injection | undefined;
  /** Holds a request until the promise it returns settles (then serves it as usual); undefined: no hold. */
  readonly hold?: (request: RecordedRequest) => Promise<void> | undefined;
  /**
   * Runs right before a request is served, after any hold: another client's change (`remove`, `advance`)
   * lands in the window between a caller's decision and its request, so the answer is the real one for
   * that race (404 for a delete of a deleted object, Tekton's webhook 400 for a cancel of a finished run).
   */
  readonly before?: (request: RecordedRequest) => void;
}

/**
 * One injected fault: an error answer, or a connection destroyed before the request is handled or after
 * (whatever the answer was, so a stored object's 201 and a 409 are lost alike).
 */
export type Injection =
  | {
      readonly status: 429 | 500 | 502 | 503 | 504;
      readonly retryAfter?: number;
      readonly statusJson?: boolean;
    }
  | { readonly reset: 'before-handling' | 'after-handling' };

export interface FakeKubeOptions {
  readonly namespaces?: readonly string[];
  /** Bearer token → user name. The first token goes into `kubeconfigPath`. */
  readonly tokens?: Readonly<Record<string, string>>;
  /** Default: everyone may create everything. */
  readonly rbac?: readonly RbacRule[];
  /** Requesting user → users (or `*`) it may impersonate. Default: nobody may impersonate. */
  readonly impersonation?: Readonly<Record<string, readonly string[]>>;
  readonly resources?: readonly FakeResource[];
  readonly faults?: Faults;
  /** Drives generateName suffixes and fault rates; pass a fixed one to force collisions. */
  readonly random?: () => number;
  /** Serve https with this key and certificate; the kubeconfig then carries the certificate as its CA. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /**
   * Play Tekton's controller after every create and patch of a run: a new run is Started, a pending one
   * gets its Pending condition, a cancel request finishes it as Cancelled. Off: runs stay as written until
   * `advance` moves them.
   */
  readonly tektonController?: boolean;
}

/** One watch event as the fake keeps it in its history. */
interface HistoryEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly storeKey: string;
  readonly resourceKey: string;
  readonly namespace: string;
  readonly object: Json;
  readonly previous: Json | undefined;
}

interface Watcher {
  readonly resource: FakeResource;
  readonly namespace: string;
  readonly selector: (labels: Readonly<Record<string, unknown>>) => boolean;
  readonly bookmarks: boolean;
  readonly res: http.ServerResponse;
  end(): void;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Which TCP connection carried it (1, 2, …), for keep-alive assertions. */
  readonly connection: number;
}

export interface FakeKube {
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly requests: readonly RecordedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Stored objects (copies), oldest first. */
  objects(): Json[];
  setFaults(faults: Faults): void;
  /** Another kubeconfig for this server, e.g. without a token or with `as:`. */
  writeKubeconfig(name: string, options: Omit<KubeconfigOptions, 'server' | 'caPem'>): string;
  /** One stored object (a copy), e.g. `get('pipelineruns', 'ci', 'build-x')`. */
  get(plural: string, namespace: string, name: string): Json | undefined;
  /** Moves a run the way Tekton's controller does (a watch sees MODIFIED); returns the new object. */
  advance(plural: string, namespace: string, name: string, phase: Phase, message?: string): Json;
  /**
   * Merge-patches an object as another client would (`kubectl patch --type merge`), without an HTTP request:
   * the same admission (Tekton's webhook throws here as its 400), a watch sees MODIFIED, and the controller
   * reacts when on. Returns the stored object.
   */
  patch(plural: string, namespace: string, name: string, body: unknown): Json;
  /** Deletes an object as a user would (a watch sees DELETED), without an HTTP request. */
  remove(plural: string, namespace: string, name: string): void;
  /** Drops the watch history (etcd compaction): open watches get an ERROR 410 and end; older RVs get 410. */
  expireHistory(): void;
  /** Sends a BOOKMARK to the watches that asked for them. */
  bookmark(): void;
  /** Silent watches: open ones and new ones get no event and never end (a dead load balancer). */
  silenceWatches(silent: boolean): void;
  /** Cuts every open watch connection. */
  cutWatches(): void;
  /** Watches open now. */
  openWatches(): number;
  close(): Promise<void>;
}

/** k8s.io/apimachinery/pkg/util/rand: no vowels, no 0/1/3, so generated names never spell words. */
export const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_GENERATE_ATTEMPTS = 8; // registry/generic/registry/store.go maxNameGenerationCreateAttempts
const TEKTON_WEBHOOK = 'validation.webhook.pipeline.tekton.dev';
const TOP_LEVEL_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
const METADATA_FIELDS = new Set(
  'name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields'.split(
    ' ',
  ),
);

interface Answer {
  readonly code: number;
  readonly body: Json | string;
  readonly headers?: Record<string, string>;
}

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const namespaces = new Set(options.namespaces ?? ['default']);
  const tokens = options.tokens ?? { 'test-token': 'system:serviceaccount:tekton-gateway:tekton-gateway' };
  const rbac = options.rbac ?? [{ user: '*', namespace: '*', resource: '*' }];
  const impersonation = options.impersonation ?? {};
  const resources = options.resources ?? [...TEKTON_RESOURCES, LEASE_RESOURCE];
  const random = options.random ?? Math.random;
  let faults: Faults = options.faults ?? {};
  const store = new Map<string, Json>();
  const requests: RecordedRequest[] = [];
  const connectionIds = new WeakMap<Socket, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  let resourceVersion = 1000;
  const history: HistoryEvent[] = [];
  /** Watches from a resourceVersion below this get 410 Expired. */
  let compactedBelow = 0;
  const watchers = new Set<Watcher>();
  let silent = false;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        connection: connectionIds.get(req.socket) ?? 0,
      };
      requests.push(recorded);
      const held = faults.hold?.(recorded);
      if (held) {
        void held.then(() => {
          if (!res.destroyed) serve(recorded, res);
        });
        return;
      }
      const latency = faults.latencyMs ?? 0;
      if (latency <= 0) return serve(recorded, res);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) serve(recorded, res);
      }, latency);
      timers.add(timer);
    });
  };

  /** Decides whether an error/reset fault hits this request, counting down `times`. */
  function rollFault(rate: number | undefined): boolean {
    if (!rate || (faults.times !== undefined && faults.times <= 0)) return false;
    if (random() >= rate) return false;
    if (faults.times !== undefined) faults = { ...faults, times: faults.times - 1 };
    return true;
  }

  function serve(request: RecordedRequest, res: http.ServerResponse): void {
    faults.before?.(request);
    const chosen = faults.choose?.(request);
    if (
      (chosen && 'reset' in chosen && chosen.reset === 'before-handling') ||
      (!chosen && !faults.resetAfterStore && rollFault(faults.resetRate))
    ) {
      res.socket?.destroy();
      return;
    }
    const answer = handle(request, chosen, res);
    if (answer === 'streaming') return;
    if (answer === 'reset' || (chosen && 'reset' in chosen)) {
      res.socket?.destroy();
      return;
    }
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const contentType = typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    res.writeHead(answer.code, {
      'Content-Type': contentType,
      ...(typeof answer.body === 'string' ? { 'X-Content-Type-Options': 'nosniff' } : {}),
      ...answer.headers,
    });
    res.end(text);
  }

  function injectedError(chosen: Injection | undefined): Answer | undefined {
    if (chosen) return 'status' in chosen ? errorAnswer(chosen) : undefined;
    if (!rollFault(faults.errorRate)) return undefined;
    return errorAnswer({
      status: faults.status ?? 503,
      retryAfter: faults.retryAfter,
      statusJson: faults.statusJson,
    });
  }

  function errorAnswer(fault: Extract<Injection, { status: number }>): Answer {
    const code = fault.status;
    if (code === 429) {
      // max-in-flight always says 1; priority-and-fairness computes it. Either way the header is there.
      const retryAfter = fault.retryAfter ?? 1;
      if (fault.statusJson) return json(S.tooManyRequests(retryAfter));
      return {
        code,
        body: 'Too many requests, please try again later.\n',
        headers: { 'Retry-After': String(retryAfter) },
      };
    }
    return json(S.serverError(code, fault.retryAfter));
  }

  function handle(
    request: RecordedRequest,
    chosen: Injection | undefined,
    res: http.ServerResponse,
  ): Answer | 'reset' | 'streaming' {
    const fault = injectedError(chosen);
    if (fault) return fault;

    // Authentication, then impersonation, then authorization: the apiserver's filter chain order.
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const requestor = token === undefined ? undefined : tokens[token];
    if (requestor === undefined) return json(S.unauthorized());
    let user = requestor;
    const target = request.headers['impersonate-user'];
    if (typeof target === 'string' && target !== '') {
      const allowed = impersonation[requestor] ?? [];
      if (!allowed.includes('*') && !allowed.includes(target))
        return json(impersonationDenied(requestor, target));
      user = target;
    }

    const match = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(request.path);
    if (!match) return notFoundPage();
    const [, group, version, namespace, plural, objectName] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      string | undefined,
    ];
    const verb = verbOf(request, objectName);
    if (
      !rbac.some(
        (r) =>
          matches(r.user, user) &&
          matches(r.namespace, namespace) &&
          matches(r.resource, plural) &&
          (r.verbs === undefined || r.verbs.includes('*') || r.verbs.includes(verb)),
      )
    ) {
      const why = S.forbiddenWhy(user, verb, plural, group, namespace);
      return json(S.forbidden(plural, group, objectName ?? '', why));
    }
    const resource = resources.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (!resource) return notFoundPage();
    switch (verb) {
      case 'get':
        return getOne(resource, namespace, objectName!);
      case 'list':
        return list(resource, namespace, request);
      case 'watch':
        return watch(resource, namespace, request, res);
      case 'patch':
        return patch(resource, namespace, objectName!, request);
      case 'update':
        return update(resource, namespace, objectName!, request);
      case 'delete':
        return remove(resource, namespace, objectName!, request);
      case 'create':
        if (objectName !== undefined) return json(S.methodNotAllowed());
        break;
      default:
        return json(S.methodNotAllowed());
    }

    const optionErrors = createOptionsErrors(request.query);
    if (optionErrors.length > 0) return json(S.invalid('CreateOptions', 'meta.k8s.io', '', optionErrors));
    const decoded = decode(request, resource);
    if ('code' in decoded) return decoded;
    const { object, warnings } = decoded;

    // NamespaceLifecycle admission, then rest.BeforeCreate's namespace check.
    if (!namespaces.has(namespace)) return json(S.notFound('namespaces', '', namespace));
    const meta = object['metadata'] as Json;
    if (meta['namespace'] !== undefined && meta['namespace'] !== '' && meta['namespace'] !== namespace) {
      return json(
        S.badRequest('the namespace of the provided object does not match the namespace sent on the request'),
      );
    }

    const dryRun = request.query.getAll('dryRun').includes('All');
    const fixedName = typeof meta['name'] === 'string' && meta['name'] !== '' ? meta['name'] : undefined;
    const generateName = typeof meta['generateName'] === 'string' ? meta['generateName'] : undefined;
    let name = '';
    for (let attempt = 1; attempt <= MAX_GENERATE_ATTEMPTS; attempt++) {
      name = fixedName ?? (generateName ? generatedName(generateName) : '');
      const labels = (meta['labels'] ?? {}) as Json;
      // The custom-resource validator checks the kind alone first, then all of metadata.
      const errors =
        object['kind'] === resource.kind
          ? objectMetaErrors({ name, generateName, labels })
          : [kindError(object['kind'] as string, resource.kind)];
      if (errors.length > 0) return json(S.invalid(resource.kind, group, name, errors));
      const denial = resource.tektonRun ? tektonDenial(resource, name, object) : undefined;
      if (denial) return json(S.webhookDenied(TEKTON_WEBHOOK, denial));
      // DryRunnableStorage still looks the key up, so a dry run answers AlreadyExists too.
      if (!store.has(key(resource, namespace, name))) break;
      if (fixedName || attempt === MAX_GENERATE_ATTEMPTS) {
        return json(
          fixedName ? S.alreadyExists(plural, group, name) : S.generateNameConflict(plural, group, name),
        );
      }
    }

    if (resource === LEASE_RESOURCE || resource.kind === 'Lease') {
      const problem = microTimeProblem(object);
      if (problem)
        return json(S.badRequest(`Lease in version "v1" cannot be handled as a Lease: ${problem}`));
    }
    const served = finish(object, request, { name, namespace, dryRun, apiVersion: `${group}/${version}` });
    if (!dryRun) {
      store.set(key(resource, namespace, name), served);
      record('ADDED', resource, namespace, served, undefined);
      if (options.tektonController && resource.tektonRun) controllerSoon(resource, namespace, name);
    }
    if (!chosen && faults.resetAfterStore && rollFault(faults.resetRate)) return 'reset';
    const headers: Record<string, string> =
      warnings.length > 0 ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') } : {};
    return { code: 201, body: served, headers };
  }

  function served(resource: FakeResource, object: Json): Json {
    return { ...structuredClone(object), apiVersion: `${resource.group}/${resource.version}` };
  }

  function getOne(resource: FakeResource, namespace: string, name: string): Answer {
    const object = store.get(key(resource, namespace, name));
    if (!object) return json(S.notFound(resource.plural, resource.group, name));
    return { code: 200, body: served(resource, object) };
  }

  function selectorOf(request: RecordedRequest): ReturnType<typeof parseSelector> {
    return parseSelector(request.query.get('labelSelector') ?? '');
  }

  function inScope(resource: FakeResource, namespace: string, storeKey: string): boolean {
    return storeKey.startsWith(`${resource.group}/${resource.plural}/${namespace}/`);
  }

  function labelsOf(object: Json | undefined): Record<string, unknown> {
    return ((object?.['metadata'] as Json | undefined)?.['labels'] ?? {}) as Record<string, unknown>;
  }

  function list(resource: FakeResource, namespace: string, request: RecordedRequest): Answer {
    const selector = selectorOf(request);
    if ('error' in selector) return json(S.badRequest(selector.error));
    const items = [...store.entries()]
      .filter(([k, o]) => inScope(resource, namespace, k) && selector(labelsOf(o)))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, o]) => served(resource, o));
    return {
      code: 200,
      body: {
        apiVersion: `${resource.group}/${resource.version}`,
        kind: `${resource.kind}List`,
        metadata: { resourceVersion: String(resourceVersion) },
        items,
      },
    };
  }

  /**
   * A watch: 200 with chunked JSON lines. From an explicit resourceVersion it replays the history after it
   * (410 as an ERROR event when that history was compacted); without one (or "0") it starts with a
   * synthetic ADDED per object. It ends after `timeoutSeconds`, as the server does.
   */
  function watch(
    resource: FakeResource,
    namespace: string,
    request: RecordedRequest,
    res: http.ServerResponse,
  ): Answer | 'streaming' {
    const selector = selectorOf(request);
    if ('error' in selector) return json(S.badRequest(selector.error));
    const from = request.query.get('resourceVersion') ?? '';
    const fromRV = from === '' || from === '0' ? undefined : Number(from);
    if (fromRV !== undefined && !Number.isInteger(fromRV)) {
      return json(S.badRequest(`invalid resource version: ${JSON.stringify(from)}`));
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    let timer: NodeJS.Timeout | undefined;
    const watcher: Watcher = {
      resource,
      namespace,
      selector,
      bookmarks: request.query.get('allowWatchBookmarks') === 'true',
      res,
      end: () => {
        if (timer) clearTimeout(timer);
        watchers.delete(watcher);
        if (!res.writableEnded) res.end();
      },
    };
    res.on('close', () => watcher.end());
    if (silent) {
      watchers.add(watcher);
      return 'streaming';
    }
    if (fromRV !== undefined && fromRV < compactedBelow) {
      const message = `too old resource version: ${fromRV} (${compactedBelow})`;
      res.write(JSON.stringify({ type: 'ERROR', object: S.status(410, 'Expired', message) }) + '\n');
      res.end();
      return 'streaming';
    }
    if (fromRV === undefined) {
      for (const [k, o] of store.entries()) {
        if (inScope(resource, namespace, k) && selector(labelsOf(o))) {
          res.write(JSON.stringify({ type: 'ADDED', object: served(resource, o) }) + '\n');
        }
      }
    } else {
      for (const event of history) if (event.rv > fromRV) send(watcher, event);
    }
    watchers.add(watcher);
    const timeout = Number(request.query.get('timeoutSeconds') ?? '');
    if (timeout > 0) {
      timer = setTimeout(() => watcher.end(), timeout * 1000);
      timers.add(timer);
    }
    return 'streaming';
  }

  /** Sends one history event to a watcher, as the watch cache does: objects leaving the selector are DELETED. */
  function send(watcher: Watcher, event: HistoryEvent): void {
    if (silent || event.resourceKey !== `${watcher.resource.group}/${watcher.resource.plural}`) return;
    if (event.namespace !== watcher.namespace) return;
    const now = watcher.selector(labelsOf(event.object));
    const before = event.previous !== undefined && watcher.selector(labelsOf(event.previous));
    let type: string = event.type;
    if (event.type === 'MODIFIED') {
      if (!now && !before) return;
      if (now && !before) type = 'ADDED';
      if (!now && before) type = 'DELETED';
    } else if (!now) return;
    watcher.res.write(JSON.stringify({ type, object: served(watcher.resource, event.object) }) + '\n');
  }

  function record(
    type: HistoryEvent['type'],
    resource: FakeResource,
    namespace: string,
    object: Json,
    previous: Json | undefined,
  ): void {
    const meta = object['metadata'] as Json;
    const event: HistoryEvent = {
      rv: Number(meta['resourceVersion']),
      type,
      storeKey: key(resource, namespace, meta['name'] as string),
      resourceKey: `${resource.group}/${resource.plural}`,
      namespace,
      object: structuredClone(object),
      previous,
    };
    history.push(event);
    for (const watcher of watchers) send(watcher, event);
  }

  /** Stores a changed object under a new resourceVersion and tells the watches. */
  function replace(resource: FakeResource, namespace: string, previous: Json, next: Json): Json {
    const meta: Json = { ...(next['metadata'] as Json), resourceVersion: String(++resourceVersion) };
    const stored = { ...next, metadata: meta };
    store.set(key(resource, namespace, meta['name'] as string), stored);
    record('MODIFIED', resource, namespace, stored, previous);
    return stored;
  }

  function conflict(resource: FakeResource, name: string): Answer {
    return json(
      S.status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${S.qualified(resource.plural, resource.group)} ${S.quote(name)}: ` +
          'the object has been modified; please apply your changes to the latest version and try again',
        { name, group: resource.group, kind: resource.plural },
      ),
    );
  }

  /** Checks an update of `previous` into `next` (resourceVersion precondition, Tekton's webhook). */
  function admitUpdate(resource: FakeResource, name: string, previous: Json, next: Json): Answer | undefined {
    const wanted = (next['metadata'] as Json | undefined)?.['resourceVersion'];
    const have = (previous['metadata'] as Json)['resourceVersion'];
    if (wanted !== undefined && wanted !== '' && wanted !== have) return conflict(resource, name);
    if (resource.tektonRun) {
      const denial = updateDenial(previous, next);
      if (denial) return json(S.webhookDenied(TEKTON_WEBHOOK, denial));
    }
    if (resource.kind === 'Lease') {
      const problem = microTimeProblem(next);
      if (problem)
        return json(S.badRequest(`Lease in version "v1" cannot be handled as a Lease: ${problem}`));
    }
    return undefined;
  }

  /** PATCH: JSON merge patch only (CRDs refuse strategic merge); status is a subresource, so it is kept. */
  function patch(resource: FakeResource, namespace: string, name: string, request: RecordedRequest): Answer {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (type !== 'application/merge-patch+json') {
      return json(
        S.status(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ` +
            'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
        ),
      );
    }
    const previous = store.get(key(resource, namespace, name));
    if (!previous) return json(S.notFound(resource.plural, resource.group, name));
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch (error) {
      return json(S.badRequest(`error decoding patch: ${(error as Error).message}`));
    }
    const patched = mergePatch(previous, body) as Json;
    const next: Json = { ...patched, status: previous['status'] };
    if (previous['status'] === undefined) delete next['status'];
    next['metadata'] = {
      ...(patched['metadata'] as Json),
      name,
      namespace,
      uid: (previous['metadata'] as Json)['uid'],
      creationTimestamp: (previous['metadata'] as Json)['creationTimestamp'],
    };
    const refused = admitUpdate(resource, name, previous, next);
    if (refused) return refused;
    if (request.query.getAll('dryRun').includes('All')) return { code: 200, body: served(resource, next) };
    const stored = replace(resource, namespace, previous, next);
    if (options.tektonController && resource.tektonRun) controllerSoon(resource, namespace, name);
    return { code: 200, body: served(resource, stored) };
  }

  /** PUT: a full replacement; it must carry the resourceVersion it read (optimistic concurrency). */
  function update(resource: FakeResource, namespace: string, name: string, request: RecordedRequest): Answer {
    const previous = store.get(key(resource, namespace, name));
    if (!previous) return json(S.notFound(resource.plural, resource.group, name));
    let next: Json;
    try {
      next = JSON.parse(request.body) as Json;
    } catch (error) {
      return json(S.badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`));
    }
    const meta = (next['metadata'] ?? {}) as Json;
    if (meta['resourceVersion'] === undefined || meta['resourceVersion'] === '') {
      return json(
        S.invalid(resource.kind, resource.group, name, [
          {
            type: 'FieldValueInvalid',
            field: 'metadata.resourceVersion',
            body: 'Invalid value: 0x0: must be specified for an update',
          },
        ]),
      );
    }
    if (meta['name'] !== name)
      return json(S.badRequest('the name of the object does not match the name on the URL'));
    const refused = admitUpdate(resource, name, previous, next);
    if (refused) return refused;
    const merged: Json = {
      ...next,
      ...(resource.tektonRun ? { status: previous['status'] } : {}),
      metadata: {
        ...meta,
        uid: (previous['metadata'] as Json)['uid'],
        creationTimestamp: (previous['metadata'] as Json)['creationTimestamp'],
        namespace,
      },
    };
    return { code: 200, body: served(resource, replace(resource, namespace, previous, merged)) };
  }

  /** DELETE: propagationPolicy from DeleteOptions or the query; dependents go too unless Orphan. */
  function remove(resource: FakeResource, namespace: string, name: string, request: RecordedRequest): Answer {
    let policy = request.query.get('propagationPolicy') ?? undefined;
    if (request.body.trim() !== '') {
      try {
        const options = JSON.parse(request.body) as Json;
        if (typeof options['propagationPolicy'] === 'string') policy = options['propagationPolicy'];
      } catch (error) {
        return json(S.badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`));
      }
    }
    if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
      return json(
        S.invalid('DeleteOptions', 'meta.k8s.io', '', [
          {
            type: 'FieldValueNotSupported',
            field: 'propagationPolicy',
            body: `Unsupported value: ${S.quote(policy)}: supported values: "Foreground", "Background", "Orphan", "nil"`,
          },
        ]),
      );
    }
    const object = store.get(key(resource, namespace, name));
    if (!object) return json(S.notFound(resource.plural, resource.group, name));
    deleteStored(resource, namespace, name, policy !== 'Orphan');
    return { code: 200, body: served(resource, object) };
  }

  function deleteStored(resource: FakeResource, namespace: string, name: string, cascade: boolean): void {
    const k = key(resource, namespace, name);
    const object = store.get(k);
    if (!object) return;
    store.delete(k);
    const meta: Json = { ...(object['metadata'] as Json), resourceVersion: String(++resourceVersion) };
    record('DELETED', resource, namespace, { ...object, metadata: meta }, object);
    if (!cascade) return;
    // The garbage collector: objects owned by this one go too.
    const uid = meta['uid'];
    for (const [childKey, child] of [...store.entries()]) {
      const owners = ((child['metadata'] as Json)['ownerReferences'] ?? []) as Json[];
      if (!owners.some((o) => o['uid'] === uid)) continue;
      const [group, plural, ns, childName] = childKey.split('/') as [string, string, string, string];
      const childResource = resources.find((r) => r.group === group && r.plural === plural)!;
      deleteStored(childResource, ns, childName, true);
    }
  }

  function resourceFor(plural: string): FakeResource {
    const found = resources.find((r) => r.plural === plural);
    if (!found) throw new Error(`fake kube: no resource ${plural}`);
    return found;
  }

  /** Tekton's controller reacts a moment after a write, never inside the request. */
  function controllerSoon(resource: FakeResource, namespace: string, name: string): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      const current = store.get(key(resource, namespace, name));
      if (!current) return;
      const next = reconcileRun(current, new Date());
      if (next) replace(resource, namespace, current, next);
    }, 5);
    timers.add(timer);
  }

  /** The object the server fills in on create (FillObjectMetaSystemFields, managedFields, generation). */
  function finish(
    object: Json,
    request: RecordedRequest,
    at: { name: string; namespace: string; dryRun: boolean; apiVersion: string },
  ): Json {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const given = object['metadata'] as Json;
    // Without fieldManager the server names the manager after the User-Agent's product token.
    const manager =
      request.query.get('fieldManager') || (request.headers['user-agent'] ?? '').split('/')[0]!.slice(0, 128);
    const metadata: Json = {
      ...given,
      name: at.name,
      namespace: at.namespace,
      uid: randomUUID(),
      // A dry run has no resourceVersion: nothing was written.
      ...(at.dryRun ? {} : { resourceVersion: String(++resourceVersion) }),
      generation: 1,
      creationTimestamp: now,
      managedFields: [
        {
          manager,
          operation: 'Update',
          apiVersion: at.apiVersion,
          time: now,
          fieldsType: 'FieldsV1',
          fieldsV1: {},
        },
      ],
    };
    return { ...object, metadata };
  }

  function generatedName(base: string): string {
    let suffix = '';
    for (let i = 0; i < 5; i++)
      suffix += GENERATE_NAME_ALPHABET[Math.floor(random() * GENERATE_NAME_ALPHABET.length)];
    return base.slice(0, 63 - 5) + suffix;
  }

  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : http.createServer(handler);
  server.on('connection', (socket: Socket) => {
    connectionIds.set(socket, ++connections);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // TLS sockets are the ones requests see; map them to the same connection number.
  server.on('secureConnection', (socket: Socket) => connectionIds.set(socket, connections));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-kube-'));
  const kubeconfigFor = (name: string, rest: Omit<KubeconfigOptions, 'server' | 'caPem'>) =>
    writeKubeconfig(path.join(dir, name), {
      ...rest,
      server: url,
      ...(options.tls ? { caPem: options.tls.cert } : {}),
    });
  const kubeconfigPath = kubeconfigFor('kubeconfig', { token: Object.keys(tokens)[0] ?? null });

  return {
    url,
    kubeconfigPath,
    requests,
    connections: () => connections,
    objects: () => [...store.values()].map((o) => structuredClone(o)),
    setFaults: (next) => {
      faults = next;
    },
    writeKubeconfig: kubeconfigFor,
    get: (plural, namespace, name) => {
      const object = store.get(key(resourceFor(plural), namespace, name));
      return object && structuredClone(object);
    },
    advance: (plural, namespace, name, phase, message) => {
      const resource = resourceFor(plural);
      const current = store.get(key(resource, namespace, name));
      if (!current) throw new Error(`fake kube: no ${plural} ${namespace}/${name}`);
      return structuredClone(
        replace(resource, namespace, current, transition(current, phase, new Date(), message)),
      );
    },
    patch: (plural, namespace, name, body) => {
      const resource = resourceFor(plural);
      const answer = patch(resource, namespace, name, {
        method: 'PATCH',
        path: '',
        query: new URLSearchParams(),
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify(body),
        connection: 0,
      });
      if (answer.code !== 200) throw new Error(`fake kube: patch refused: ${JSON.stringify(answer.body)}`);
      return answer.body as Json;
    },
    remove: (plural, namespace, name) => deleteStored(resourceFor(plural), namespace, name, true),
    expireHistory: () => {
      // Compaction at the current revision: a watch from it (what a fresh list returns) still works.
      compactedBelow = resourceVersion;
      history.length = 0;
      const message = `too old resource version: ${resourceVersion} (${compactedBelow})`;
      for (const watcher of [...watchers]) {
        watcher.res.write(
          JSON.stringify({ type: 'ERROR', object: S.status(410, 'Expired', message) }) + '\n',
        );
        watcher.end();
      }
    },
    bookmark: () => {
      for (const watcher of watchers) {
        if (!watcher.bookmarks || silent) continue;
        const object = {
          kind: watcher.resource.kind,
          apiVersion: `${watcher.resource.group}/${watcher.resource.version}`,
          metadata: { resourceVersion: String(resourceVersion) },
        };
        watcher.res.write(JSON.stringify({ type: 'BOOKMARK', object }) + '\n');
      }
    },
    silenceWatches: (on) => {
      silent = on;
    },
    cutWatches: () => {
      for (const watcher of [...watchers]) watcher.res.socket?.destroy();
    },
    openWatches: () => watchers.size,
    close: async () => {
      for (const watcher of [...watchers]) watcher.end();
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Decodes the body as the create handler does: JSON object, apiVersion/kind matching the URL, strictness. */
function decode(
  request: RecordedRequest,
  resource: FakeResource,
): { object: Json; warnings: string[] } | Answer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch (error) {
    return json(S.badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return json(S.badRequest(`couldn't get version/kind; json parse error: not a JSON object`));
  }
  const object = parsed as Json;
  if (typeof object['kind'] !== 'string' || object['kind'] === '') {
    return json(S.badRequest(`Object 'Kind' is missing in '${request.body}'`));
  }
  const expected = `${resource.group}/${resource.version}`;
  if (object['apiVersion'] !== expected) {
    const given = typeof object['apiVersion'] === 'string' ? object['apiVersion'] : '';
    return json(
      S.badRequest(
        `the API version in the data (${given}) does not match the expected API version (${expected})`,
      ),
    );
  }
  // The fake knows no Tekton schema, only the envelope: unknown top-level and metadata fields.
  const metadata =
    typeof object['metadata'] === 'object' && object['metadata'] !== null ? (object['metadata'] as Json) : {};
  const unknown = [
    ...Object.keys(object).filter((k) => !TOP_LEVEL_FIELDS.has(k)),
    ...Object.keys(metadata)
      .filter((k) => !METADATA_FIELDS.has(k))
      .map((k) => `metadata.${k}`),
  ];
  const messages = unknown.map((field) => `unknown field ${JSON.stringify(field)}`);
  const directive = request.query.get('fieldValidation') || 'Warn';
  if (directive === 'Strict' && unknown.length > 0) {
    const kind = resource.kind;
    return json(
      S.badRequest(
        `${kind} in version ${JSON.stringify(resource.version)} cannot be handled as a ${kind}: ` +
          `strict decoding error: ${messages.join(', ')}`,
      ),
    );
  }
  // Under Warn and Ignore the server prunes unknown fields; Warn also says so in a Warning header.
  const pruned = Object.fromEntries(Object.entries(object).filter(([k]) => TOP_LEVEL_FIELDS.has(k)));
  pruned['metadata'] = Object.fromEntries(Object.entries(metadata).filter(([k]) => METADATA_FIELDS.has(k)));
  return { object: pruned, warnings: directive === 'Warn' ? messages : [] };
}

/** What Tekton's validating webhook refuses that matters to a gateway (pkg/apis/validate/metadata.go). */
function tektonDenial(resource: FakeResource, name: string, object: Json): string | undefined {
  if (name.length > 63) {
    return 'validation failed: Invalid resource name: length must be no more than 63 characters: metadata.name';
  }
  const spec = (typeof object['spec'] === 'object' && object['spec'] !== null ? object['spec'] : {}) as Json;
  const [ref, inline] =
    resource.kind === 'TaskRun' ? ['taskRef', 'taskSpec'] : ['pipelineRef', 'pipelineSpec'];
  const count = (spec[ref] === undefined ? 0 : 1) + (spec[inline] === undefined ? 0 : 1);
  if (count === 1) return undefined;
  return `validation failed: expected exactly one, got ${count === 0 ? 'neither' : 'both'}: spec.${ref}, spec.${inline}`;
}

/** Impersonating `system:serviceaccount:<ns>:<name>` is checked as that namespaced serviceaccount. */
function impersonationDenied(requestor: string, target: string): S.Status {
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(target);
  if (sa) {
    const why = S.forbiddenWhy(requestor, 'impersonate', 'serviceaccounts', '', sa[1]!);
    return S.forbidden('serviceaccounts', '', sa[2]!, why);
  }
  return S.forbidden('users', '', target, S.forbiddenWhy(requestor, 'impersonate', 'users', '', ''));
}

function kindError(given: string, expected: string): FieldError {
  return {
    type: 'FieldValueInvalid',
    field: 'kind',
    body: `Invalid value: ${S.quote(given)}: must be ${expected}`,
  };
}

/** The RBAC verb of a request, as the API server's RequestInfo names it. */
function verbOf(request: RecordedRequest, name: string | undefined): string {
  switch (request.method) {
    case 'GET': {
      const watching = ['1', 'true'].includes(request.query.get('watch') ?? '');
      if (watching) return 'watch';
      return name === undefined ? 'list' : 'get';
    }
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return name === undefined ? 'deletecollection' : 'delete';
    default:
      return request.method.toLowerCase();
  }
}

/** MicroTime is parsed with Go's layout "2006-01-02T15:04:05.000000Z07:00": exactly six fractional digits. */
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;
function microTimeProblem(object: Json): string | undefined {
  const spec = (object['spec'] ?? {}) as Json;
  for (const field of ['acquireTime', 'renewTime']) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || !MICRO_TIME.test(value)) {
      return `parsing time ${S.quote(String(value))} as "2006-01-02T15:04:05.000000Z07:00": cannot parse as ".000000"`;
    }
  }
  return undefined;
}

/** Go's http.NotFound, which the API server uses for paths no API group serves. */
function notFoundPage(): Answer {
  return { code: 404, body: '404 page not found\n' };
}

/** Like responsewriters.ErrorNegotiated, which turns details.retryAfterSeconds into a Retry-After header. */
function json(status: S.Status): Answer {
  const retryAfter = status.details?.retryAfterSeconds;
  return {
    code: status.code,
    body: { ...status },
    headers: retryAfter ? { 'Retry-After': String(retryAfter) } : {},
  };
}

function matches(pattern: string, value: string): boolean {
  return pattern === '*' || pattern === value;
}

function key(resource: FakeResource, namespace: string, name: string): string {
  // Versions of one resource share storage, as they do in etcd.
  return `${resource.group}/${resource.plural}/${namespace}/${name}`;
}
