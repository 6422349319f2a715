// The webhook port: a plain node:http request listener. It reads the raw body (stopping at the size limit),
// builds a Delivery, hands it to the pure pipeline with its I/O, and writes the answer from respond.ts.
//
// Not Express: on the verify + filter path Express's per-request work (its req/res prototypes, router and
// res.json) cost 175–210 µs, half to 70 % of the gateway's time and more than verifying and parsing a 30 KB
// payload (BENCHMARKS.md, "Where the time goes"). This port serves only /healthz, /readyz and POSTs to
// routes, none of which needs a router; the admin port keeps Express (./admin.ts).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { CreateFn, Delivery, PipelineIO, Route, TraceEvent, WebhookResult } from '../model.js';
import { handleWebhook } from '../pipeline/handle.js';
import { checkRoute } from '../pipeline/match.js';
import { deliveryId } from '../pipeline/provider.js';
import type { GatewayDeps, ObservedResult } from './deps.js';
import { healthAnswer } from './health.js';
import { BUSY_RETRY_AFTER_SECONDS } from './limits.js';
import { answer, type HttpAnswer } from './respond.js';

export function createWebhookHandler(deps: GatewayDeps): RequestListener {
  return (req, res) => {
    handleRequest(deps, req, res).catch((error: unknown) => {
      deps.onError?.(error);
      if (!res.headersSent) {
        sendJson(res, 500, {}, { error: 'internal error; see the gateway logs', eventId: randomUUID() });
      } else {
        res.destroy();
      }
    });
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>>,
  body: unknown,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function handleRequest(deps: GatewayDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const now = deps.now ?? Date.now;
  // The sender's clock starts when it sends: time spent waiting for a slot counts against the deadline.
  const started = now();
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const health = healthAnswer(method, path, deps.ready);
  if (health) {
    res.writeHead(health.status, { ...health.headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(method === 'HEAD' ? undefined : health.body);
    return;
  }
  // Read once: a reload swaps the snapshot, and this request keeps the one it started with.
  const config = deps.config();
  if (!config) {
    sendJson(res, 503, { 'Retry-After': '5' }, { error: 'no valid config is loaded', eventId: randomUUID() });
    return;
  }
  const headers = req.headersDistinct as Delivery['headers'];
  const trace: TraceEvent[] = [];
  const reply = (result: ObservedResult, a: HttpAnswer, delivery: Delivery | undefined) => {
    sendJson(res, a.status, a.status === 413 ? { ...a.headers, Connection: 'close' } : a.headers, a.body);
    deps.observe?.({ result, answer: a, delivery, seconds: (now() - started) / 1000, trace });
  };
  const finish = (result: WebhookResult, delivery: Delivery | undefined) =>
    reply(result, answer(result), delivery);
  const eventIdOf = (route: Route | undefined) => (route && deliveryId(route, headers)) ?? randomUUID();
  const rejectEarly = (
    route: Route | undefined,
    rejection: Extract<WebhookResult, { kind: 'rejected' }>['rejection'],
  ) => finish({ kind: 'rejected', route, rejection, eventId: eventIdOf(route) }, undefined);

  const matched = checkRoute(config.routes, method, path);
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
    const body = await readBody(req, headers['content-length']?.[0], limit);
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
    const delivery: Delivery = { method, path, requestURL: url, headers, body };
    const io: PipelineIO = {
      now,
      randomUUID,
      secrets: deps.secrets,
      create: deps.create && deps.onCreated ? reportCreated(deps.create, route, deps.onCreated) : deps.create,
      serverDryRun: deps.serverDryRun,
      skipVerify: false,
      deadline,
      // Always recorded: debug logs show it, and info logs redact the param values it holds from cluster
      // messages (src/webhook-log.ts).
      trace: (e) => trace.push(e),
      instance: deps.instance,
      stateKey: deps.stateKey,
      receivedAt: started,
      statusError: deps.statusError,
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
function readBody(
  req: IncomingMessage,
  contentLength: string | undefined,
  limit: number,
): Promise<Buffer | 'too-large' | 'aborted'> {
  // From the headers the delivery already holds: reading req.headers too would make Node build them twice.
  const declared = Number(contentLength);
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
