// The HTTP edge: Express apps for the webhook port and the admin port. They read the raw body (stopping at
// the size limit), build a Delivery, hand it to the pure pipeline with its I/O, and write the answer from
// respond.ts. The only Express import.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type {
  Config,
  CreateFn,
  Delivery,
  PipelineIO,
  Route,
  SecretLookup,
  TraceEvent,
  WebhookResult,
} from '../model.js';
import { describeRoutes } from '../config/describe.js';
import { handleWebhook } from '../pipeline/handle.js';
import { checkRoute } from '../pipeline/match.js';
import { deliveryId } from '../pipeline/provider.js';
import { BUSY_RETRY_AFTER_SECONDS, type InFlightLimiter } from './limits.js';
import { answer, type HttpAnswer } from './respond.js';

/** What became of a webhook: the pipeline's result, or the gateway's own refusal or failure around it. */
export type ObservedResult =
  | WebhookResult
  | {
      /** overloaded: no in-flight slot (503); internal: a bug (500). */
      readonly kind: 'overloaded' | 'internal';
      readonly route: Route | undefined;
      readonly eventId: string;
      readonly message: string;
    };

export interface WebhookObservation {
  readonly result: ObservedResult;
  readonly answer: HttpAnswer;
  readonly delivery: Delivery | undefined;
  readonly seconds: number;
  /** Every expression result and param the pipeline traced for this request, in order. */
  readonly trace: readonly TraceEvent[];
}

/** The admin port's operator endpoints, handed in so this file stays the only Express import. */
export interface AdminHooks {
  /** Prometheus text exposition. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>;
  readonly logLevel: () => string;
  /** Undefined when done, else what is wrong with `level`. */
  readonly setLogLevel: (level: string) => string | undefined;
}

export interface GatewayDeps {
  /** The config snapshot to serve; each request keeps the one it started with (reloads swap it). */
  readonly config: () => Config | undefined;
  readonly ready: () => boolean;
  readonly secrets: SecretLookup;
  readonly create: CreateFn | undefined;
  readonly serverDryRun: boolean;
  readonly now?: () => number;
  /** Called once per webhook answered (logs and metrics hang here). */
  readonly observe?: (o: WebhookObservation) => void;
  /** Each object the cluster created for real (not a dry run): resources_created_total. */
  readonly onCreated?: (created: {
    readonly route: Route;
    readonly trigger: string;
    readonly kind: string;
  }) => void;
  /** Unexpected exceptions ("broken", not "no"). */
  readonly onError?: (error: unknown) => void;
  /** A client that went away before sending its whole body (no answer is possible). */
  readonly onAborted?: (route: Route) => void;
  /** In-flight cap and per-route fairness; none: unlimited. */
  readonly limiter?: InFlightLimiter;
  readonly admin?: AdminHooks;
}

function baseApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);
  return app;
}

function health(app: express.Express, deps: GatewayDeps): void {
  app.all('/healthz', (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void res.status(405).set('Allow', 'GET').type('text').send('use GET');
    res.status(200).type('text').send('ok');
  });
  app.all('/readyz', (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void res.status(405).set('Allow', 'GET').type('text').send('use GET');
    const ready = deps.ready();
    res
      .status(ready ? 200 : 503)
      .type('text')
      .send(ready ? 'ready' : 'not ready');
  });
}

export function createWebhookApp(deps: GatewayDeps): express.Express {
  const app = baseApp();
  health(app, deps);
  app.use((req, res, next) => {
    handleRequest(deps, req, res).catch(next);
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    deps.onError?.(error);
    if (!res.headersSent)
      res.status(500).json({ error: 'internal error; see the gateway logs', eventId: randomUUID() });
    else res.destroy();
  });
  return app;
}

export function createAdminApp(deps: GatewayDeps): express.Express {
  const app = baseApp();
  health(app, deps);
  const admin = deps.admin;
  if (admin) {
    app.get('/metrics', (_req, res, next) => {
      admin.metrics().then(({ contentType, body }) => void res.type(contentType).send(body), next);
    });
    // The runtime log level (docs/operations.md): GET shows it, PUT with the level as the body changes it
    // until the next change or restart. An endpoint rather than a signal: the image has no shell to send one.
    app.get('/loglevel', (_req, res) => void res.type('text').send(`${admin.logLevel()}\n`));
    app.put('/loglevel', express.text({ type: () => true, limit: 64 }), (req, res) => {
      const problem = admin.setLogLevel(typeof req.body === 'string' ? req.body.trim() : '');
      if (problem !== undefined) return void res.status(400).type('text').send(`${problem}\n`);
      res.type('text').send(`${admin.logLevel()}\n`);
    });
  }
  app.get('/routes', (_req, res) => {
    const config = deps.config();
    if (!config) return void res.status(503).json({ error: 'no valid config is loaded' });
    res.json(describeRoutes(config));
  });
  return app;
}

async function handleRequest(deps: GatewayDeps, req: Request, res: Response): Promise<void> {
  const now = deps.now ?? Date.now;
  // The sender's clock starts when it sends: time spent waiting for a slot counts against the deadline.
  const started = now();
  // Read once: a reload swaps the snapshot, and this request keeps the one it started with.
  const config = deps.config();
  if (!config) {
    res
      .status(503)
      .set('Retry-After', '5')
      .json({ error: 'no valid config is loaded', eventId: randomUUID() });
    return;
  }
  const url = req.originalUrl;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const headers = req.headersDistinct as Delivery['headers'];
  const trace: TraceEvent[] = [];
  const reply = (result: ObservedResult, a: HttpAnswer, delivery: Delivery | undefined) => {
    if (a.status === 413) res.set('Connection', 'close');
    res.status(a.status).set(a.headers).json(a.body);
    deps.observe?.({ result, answer: a, delivery, seconds: (now() - started) / 1000, trace });
  };
  const finish = (result: WebhookResult, delivery: Delivery | undefined) =>
    reply(result, answer(result), delivery);
  const eventIdOf = (route: Route | undefined) => (route && deliveryId(route, headers)) ?? randomUUID();
  const rejectEarly = (
    route: Route | undefined,
    rejection: Extract<WebhookResult, { kind: 'rejected' }>['rejection'],
  ) => finish({ kind: 'rejected', route, rejection, eventId: eventIdOf(route) }, undefined);

  const matched = checkRoute(config.routes, req.method, path);
  if (!matched.ok) return rejectEarly(matched.route, matched.rejection);
  const route = matched.route;

  const deadline = started + config.gateway.requestTimeoutMs;
  const release = deps.limiter ? await deps.limiter.acquire(route.path, deadline - now()) : () => {};
  if (release === undefined) {
    const eventId = eventIdOf(route);
    const message = `the gateway is at its limit of webhooks in flight${
      deps.limiter!.settings.perRoute < deps.limiter!.settings.max ? ' (for this route or in total)' : ''
    }; retry later`;
    return reply(
      { kind: 'overloaded', route, eventId, message },
      {
        status: 503,
        headers: { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) },
        body: { error: message, eventId },
      },
      undefined,
    );
  }
  try {
    const limit = config.gateway.maxBodyBytes;
    const body = await readBody(req, limit);
    if (body === 'aborted') {
      deps.onAborted?.(route);
      res.destroy();
      return;
    }
    if (body === 'too-large') {
      rejectEarly(route, {
        kind: 'too-large',
        message: `the body is larger than gateway.maxBodyBytes (${limit} bytes)`,
      });
      // Stop reading: the rest of an oversized body is never consumed.
      res.once('finish', () => req.socket.destroy());
      return;
    }
    const delivery: Delivery = { method: req.method, path, requestURL: url, headers, body };
    const io: PipelineIO = {
      now,
      randomUUID,
      secrets: deps.secrets,
      create: deps.create && deps.onCreated ? reportCreated(deps.create, route, deps.onCreated) : deps.create,
      serverDryRun: deps.serverDryRun,
      skipVerify: false,
      deadline,
      trace: (e) => trace.push(e),
    };
    let result: WebhookResult;
    try {
      result = await handleWebhook(config, route, delivery, io);
    } catch (error) {
      // A bug, not a "no": still answer (and count) it, so it shows up in requests_total{code="500"}.
      deps.onError?.(error);
      const eventId = eventIdOf(route);
      const message = 'internal error; see the gateway logs';
      return reply(
        { kind: 'internal', route, eventId, message },
        { status: 500, headers: {}, body: { error: message, eventId } },
        delivery,
      );
    }
    finish(result, delivery);
  } finally {
    release();
  }
}

const TRIGGER_LABEL = 'triggers.tekton.dev/trigger';

/**
 * Reports each object the API really created. The trigger is read from the label the renderer sets, and
 * only a trigger name of this route is reported, so the metric's labels stay within the config.
 */
function reportCreated(
  create: CreateFn,
  route: Route,
  onCreated: NonNullable<GatewayDeps['onCreated']>,
): CreateFn {
  return async (request) => {
    const result = await create(request);
    if (result.kind === 'created' && !request.dryRun) {
      const metadata = request.object['metadata'];
      const labels =
        metadata && typeof metadata === 'object' && !Array.isArray(metadata) ? metadata['labels'] : undefined;
      const label =
        labels && typeof labels === 'object' && !Array.isArray(labels) ? labels[TRIGGER_LABEL] : undefined;
      const trigger = route.triggers.find((t) => t.name === label);
      const kind = request.object['kind'];
      if (trigger && typeof kind === 'string') onCreated({ route, trigger: trigger.name, kind });
    }
    return result;
  };
}

/**
 * The raw body; 'too-large' as soon as it passes `limit` bytes (declared or received); 'aborted' when the
 * client goes away first (then no 'end' ever comes, and waiting for it would hold the slot forever).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too-large');
  // The client may have gone while the request waited for a slot: its 'close' has passed already.
  if (req.destroyed) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onAbort = () => {
      cleanup();
      resolve('aborted');
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}
