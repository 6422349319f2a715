// The deliveries endpoints of the admin port (contract §14, §12.0 item 12), free of any HTTP framework:
// src/http/admin.ts hands each request in and writes the answer out.
//   GET  /                                   the page: list (filters route, outcome, limit) or ?id=<eventId>
//   GET  /deliveries                         JSON list, newest first
//   GET  /deliveries/<eventId>               JSON detail with request and response
//   POST /deliveries/<eventId>/replay[?dryRun=true]
// Without a usable admin token file all of them answer 404, as if they did not exist.
import type { AdminTokenCheck } from '../http/admin-token.js';
import type { AdminRequest, AdminResponse, WebhookObservation } from '../http/deps.js';
import type { Config, JsonObject, JsonValue } from '../model.js';
import { PAGE_CSP, detailPage, listPage, messagePage, replayPage, type PageContext } from './page.js';
import { replayDelivery, type ReplayDeps } from './replay.js';
import type { DeliveryFilter, DeliveryStore, StoredDelivery } from './store.js';

export interface DeliveriesApiDeps {
  readonly store: DeliveryStore;
  readonly token: AdminTokenCheck;
  readonly config: () => Config | undefined;
  /** What a replay needs besides the config; undefined fields as for webhooks. */
  readonly replay: Omit<ReplayDeps, 'config'>;
  readonly replica: string;
  /** Stores a replay as a delivery, as the webhook path does for webhooks. */
  readonly record: (o: WebhookObservation, replayOf: string) => void;
  readonly log: {
    info(message: string, fields: Record<string, unknown>): void;
    warn(message: string, fields: Record<string, unknown>): void;
  };
}

export const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100_000;

const SECURITY_HEADERS = {
  'Content-Security-Policy': PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  // The page has buttons that act: it may not be framed by another site (CSP's default-src does not cover it).
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  // Not no-referrer: under it a browser sends `Origin: null` on the page's own form POST, which the Origin
  // check must refuse. Same-origin still keeps the admin URL from the Dashboard links.
  'Referrer-Policy': 'same-origin',
};

const REALM = 'realm="tekton-gateway deliveries", charset="UTF-8"';

/** True when this path belongs to the deliveries endpoints. */
export function isDeliveriesPath(path: string): boolean {
  return path === '/' || path === '/deliveries' || path.startsWith('/deliveries/');
}

export function createDeliveriesApi(deps: DeliveriesApiDeps): (req: AdminRequest) => Promise<AdminResponse> {
  return async (req) => {
    const html = wantsHtml(req);
    const fail = (status: number, message: string, headers: Record<string, string> = {}): AdminResponse =>
      html
        ? {
            status,
            headers: { ...SECURITY_HEADERS, ...headers, 'Content-Type': 'text/html; charset=utf-8' },
            body: messagePage(status, message),
          }
        : json(status, { error: message }, headers);

    if (!deps.token.enabled()) return notFound();
    const segments = req.path.split('/').slice(1);
    const replayPath = segments.length === 3 && segments[0] === 'deliveries' && segments[2] === 'replay';

    if (req.method === 'POST') {
      if (!replayPath) return fail(405, 'only GET is allowed here', { Allow: 'GET' });
      // A browser sends Origin on a form POST: a page of another origin must not replay through the
      // operator's browser (§12.0 item 12).
      const origin = req.header('origin');
      if (origin !== undefined && !sameOrigin(origin, req.header('host'))) {
        deps.log.warn('deliveries: refused a POST from another origin', { path: req.path });
        return fail(
          403,
          'the Origin header does not match this host: replay from the gateway’s own page or with curl',
        );
      }
      const auth = postAuth(deps.token, req);
      if (auth.kind === 'denied') {
        deps.log.warn('deliveries: unauthorized request', {
          method: req.method,
          path: req.path,
          reason: auth.message,
        });
        return fail(401, auth.message, { 'WWW-Authenticate': `Bearer ${REALM}` });
      }
      if (auth.kind === 'disabled') return notFound();
      const id = decode(segments[1]!);
      if (id === undefined) return fail(400, 'the event id is not valid percent-encoding');
      return replay(deps, id, req.query.get('dryRun') === 'true', html, fail);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return fail(405, replayPath ? 'replay with POST' : 'only GET is allowed here', {
        Allow: replayPath ? 'POST' : 'GET',
      });
    }
    const auth = deps.token.check(req.header('authorization'), { basic: true });
    if (auth.kind === 'disabled') return notFound();
    if (auth.kind === 'denied') {
      deps.log.warn('deliveries: unauthorized request', {
        method: req.method,
        path: req.path,
        reason: auth.message,
      });
      return fail(401, auth.message, { 'WWW-Authenticate': `Basic ${REALM}` });
    }
    if (replayPath) return fail(405, 'replay with POST', { Allow: 'POST' });

    const config = deps.config();
    const ctx: PageContext = {
      routes: config?.routes.map((r) => r.path).sort() ?? [],
      dashboardURL: config?.gateway.dashboardURL,
      replica: deps.replica,
    };
    if (req.path === '/') {
      const id = req.query.get('id');
      if (id !== null) {
        const d = deps.store.get(id);
        return d
          ? htmlAnswer(200, detailPage(d, ctx))
          : fail(404, `no delivery ${id} is stored on this replica`);
      }
      const filter = filterOf(req.query);
      if (typeof filter === 'string') return fail(400, filter);
      return htmlAnswer(200, listPage(deps.store.list(filter), filter, ctx));
    }
    if (req.path === '/deliveries') {
      const filter = filterOf(req.query);
      if (typeof filter === 'string') return fail(400, filter);
      // A bare array, newest first: the shape §14 describes, with nothing to guess.
      return json(200, deps.store.list(filter).map(summary));
    }
    const id = segments.length === 2 ? decode(segments[1]!) : undefined;
    if (id === undefined) return fail(404, `no such path: ${req.path}`);
    const d = deps.store.get(id);
    return d ? json(200, detail(d)) : fail(404, `no delivery ${id} is stored on this replica`);
  };
}

async function replay(
  deps: DeliveriesApiDeps,
  id: string,
  dryRun: boolean,
  html: boolean,
  fail: (status: number, message: string) => AdminResponse,
): Promise<AdminResponse> {
  const stored = deps.store.get(id);
  if (!stored) return fail(404, `no delivery ${id} is stored on this replica`);
  const config = deps.config();
  if (!config) return fail(503, 'no valid config is loaded');
  const root = stored.replayOf ?? stored.eventId;
  const result = await replayDelivery(stored, deps.store.nextReplayNumber(root), dryRun, {
    ...deps.replay,
    config,
  });
  if (result.kind === 'conflict') {
    deps.log.info('deliveries: replay refused', { eventId: id, reason: result.message });
    return fail(409, result.message);
  }
  deps.record(result.observation, root);
  deps.log.info('deliveries: replayed', {
    eventId: result.eventId,
    replayOf: root,
    dryRun,
    status: result.answer.status,
    triggers: triggerOutcomes(result.answer.body),
  });
  if (html) {
    return htmlAnswer(
      result.answer.status,
      replayPage(root, result.eventId, result.answer.status, result.answer.body, {
        routes: [],
        dashboardURL: config.gateway.dashboardURL,
        replica: deps.replica,
      }),
    );
  }
  return json(result.answer.status, result.answer.body, result.answer.headers);
}

/** POST takes the token as Bearer, or from the page's form (typed by the operator, never cached). */
function postAuth(token: AdminTokenCheck, req: AdminRequest) {
  const authorization = req.header('authorization');
  const form = isForm(req) ? new URLSearchParams(req.body ?? '').get('token') : null;
  // A browser adds its cached Basic credentials to the form's POST: they do not count, the typed token does.
  if (form !== null && !/^bearer /i.test(authorization ?? '')) return token.checkToken(form);
  return token.check(authorization, { basic: false });
}

function isForm(req: AdminRequest): boolean {
  return (req.header('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

function wantsHtml(req: AdminRequest): boolean {
  if (req.path === '/' || isForm(req)) return true;
  return false;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function filterOf(query: URLSearchParams): DeliveryFilter | string {
  const limitText = query.get('limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== null && limitText !== '') {
    if (!/^[0-9]{1,6}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) {
      return `limit must be a whole number from 1 to ${MAX_LIMIT}`;
    }
    limit = Number(limitText);
  }
  const route = query.get('route') || undefined;
  const outcome = query.get('outcome') || undefined;
  return { route, outcome, limit };
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function summary(d: StoredDelivery): JsonObject {
  return {
    eventId: d.eventId,
    time: new Date(d.timeMs).toISOString(),
    route: d.route,
    provider: d.provider,
    event: d.event ?? null,
    status: d.status,
    durationMs: d.durationMs,
    replica: d.replica,
    triggers: [...d.triggers],
    verified: d.verified,
    ...(d.error === undefined ? {} : { error: d.error }),
    ...(d.replayOf === undefined ? {} : { replayOf: d.replayOf }),
    ...(d.updatedMs === undefined ? {} : { updated: new Date(d.updatedMs).toISOString() }),
  };
}

function detail(d: StoredDelivery): JsonObject {
  const headers: JsonObject = {};
  for (const [name, values] of Object.entries(d.request.headers)) {
    Object.defineProperty(headers, name, {
      value: [...values],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return {
    ...summary(d),
    request: {
      method: d.request.method,
      path: d.request.path,
      headers,
      body: d.request.body === undefined ? null : d.request.body.toString('utf8'),
      bodyBytes: d.request.bodyBytes,
      ...(d.request.bodyOmitted === undefined ? {} : { bodyOmitted: d.request.bodyOmitted }),
    },
    response: { status: d.response.status, body: d.response.body },
  };
}

function triggerOutcomes(body: JsonObject): string[] {
  const triggers = Array.isArray(body['triggers']) ? body['triggers'] : [];
  return triggers.map((t) =>
    t !== null && typeof t === 'object' && !Array.isArray(t)
      ? `${String(t['name'])}: ${String(t['outcome'])}`
      : '',
  );
}

function json(
  status: number,
  body: JsonValue,
  headers: Readonly<Record<string, string>> = {},
): AdminResponse {
  return {
    status,
    headers: { ...SECURITY_HEADERS, ...headers, 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

function htmlAnswer(status: number, body: string): AdminResponse {
  return { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' }, body };
}

function notFound(): AdminResponse {
  return {
    status: 404,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
    body: 'not found\n',
  };
}
