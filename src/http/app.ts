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
import { answer, type HttpAnswer } from './respond.js';

export interface WebhookObservation {
  readonly result: WebhookResult;
  readonly answer: HttpAnswer;
  readonly delivery: Delivery | undefined;
  readonly seconds: number;
}

export interface GatewayDeps {
  /** The config snapshot to serve; each request keeps the one it started with (reloads swap it). */
  readonly config: () => Config | undefined;
  readonly ready: () => boolean;
  readonly secrets: SecretLookup;
  readonly create: CreateFn | undefined;
  readonly serverDryRun: boolean;
  readonly now?: () => number;
  readonly trace?: ((e: TraceEvent) => void) | undefined;
  /** Called once per webhook answered (logs and metrics hang here). */
  readonly observe?: (o: WebhookObservation) => void;
  /** Unexpected exceptions ("broken", not "no"). */
  readonly onError?: (error: unknown) => void;
  /** Extra routes for the admin app (e.g. /metrics). */
  readonly adminRoutes?: (app: express.Express) => void;
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
  deps.adminRoutes?.(app);
  app.get('/routes', (_req, res) => {
    const config = deps.config();
    if (!config) return void res.status(503).json({ error: 'no valid config is loaded' });
    res.json(describeRoutes(config));
  });
  return app;
}

async function handleRequest(deps: GatewayDeps, req: Request, res: Response): Promise<void> {
  const now = deps.now ?? Date.now;
  const started = now();
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
  const finish = (result: WebhookResult, delivery: Delivery | undefined) => {
    const a = answer(result);
    if (a.status === 413) res.set('Connection', 'close');
    res.status(a.status).set(a.headers).json(a.body);
    deps.observe?.({ result, answer: a, delivery, seconds: (now() - started) / 1000 });
  };
  const rejectEarly = (
    route: Route | undefined,
    rejection: Extract<WebhookResult, { kind: 'rejected' }>['rejection'],
  ) =>
    finish(
      { kind: 'rejected', route, rejection, eventId: (route && deliveryId(route, headers)) ?? randomUUID() },
      undefined,
    );

  const matched = checkRoute(config.routes, req.method, path);
  if (!matched.ok) return rejectEarly(matched.route, matched.rejection);
  const route = matched.route;
  const limit = config.gateway.maxBodyBytes;
  const body = await readBody(req, limit);
  if (body === undefined) {
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
    create: deps.create,
    serverDryRun: deps.serverDryRun,
    skipVerify: false,
    deadline: started + config.gateway.requestTimeoutMs,
    trace: deps.trace,
  };
  finish(await handleWebhook(config, route, delivery, io), delivery);
}

/** The raw body, or undefined as soon as it passes `limit` bytes (declared or received). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
