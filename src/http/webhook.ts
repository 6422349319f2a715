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
import type { DeliverySpan, GatewayDeps, ObservedResult } from './deps.js';
import { healthAnswer } from './health.js';
import { BUSY_RETRY_AFTER_SECONDS } from './limits.js';
import { readBody } from './read-body.js';
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
  // Opened once a route matched: a request that matches none has no route path to name a span by.
  let span: DeliverySpan | undefined = undefined;
  const reply = (result: ObservedResult, a: HttpAnswer, delivery: Delivery | undefined) => {
    // A refused body is left unread: the connection cannot carry another request.
    const close =
      a.status === 413 || a.status === 408 || (result.kind === 'overloaded' && result.reason === 'memory');
    sendJson(res, a.status, close ? { ...a.headers, Connection: 'close' } : a.headers, a.body);
    span?.end(result, a.status);
    deps.observe?.({
      result,
      answer: a,
      delivery,
      seconds: (now() - started) / 1000,
      trace,
      request: { method, url, headers },
    });
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
  span = deps.tracing?.delivery(route, headers, started);

  const deadline = started + config.gateway.requestTimeoutMs;
  const limits = config.gateway;
  // The body first, bounded by size, the shared byte budget and its own deadline; only a request whose body
  // has arrived takes an in-flight slot, so slow senders hold bytes (bounded) but never the slots of others.
  const pending = readBody(req, {
    contentLength: headers['content-length']?.[0],
    maxBytes: limits.maxBodyBytes,
    budget: deps.budget,
    timeoutMs: started + limits.bodyTimeoutMs - now(),
  });
  try {
    const read = await pending.result;
    if (read.kind === 'aborted') {
      span?.end('aborted', undefined);
      deps.onAborted?.(route);
      res.destroy();
      return;
    }
    if (read.kind !== 'body') {
      const eventId = eventIdOf(route);
      if (read.kind === 'too-large') {
        rejectEarly(route, {
          kind: 'too-large',
          message: `the body is larger than gateway.maxBodyBytes (${limits.maxBodyBytes} bytes)`,
        });
      } else if (read.kind === 'over-budget') {
        const message = `the gateway holds its limit of request bytes in flight (gateway.maxBytesInFlight, ${limits.maxBytesInFlight} bytes); retry later`;
        reply(
          { kind: 'overloaded', reason: 'memory', route, eventId, message },
          {
            status: 503,
            headers: { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) },
            body: { error: message, eventId },
          },
          undefined,
        );
      } else {
        const message = `the body did not arrive within gateway.bodyTimeoutMs (${limits.bodyTimeoutMs} ms) of the request's headers`;
        reply(
          { kind: 'body-timeout', route, eventId, message },
          { status: 408, headers: {}, body: { error: message, eventId } },
          undefined,
        );
      }
      // Stop reading: the rest of a refused body is never consumed, and the connection cannot be reused.
      res.once('finish', () => req.socket.destroy());
      return;
    }
    const body = read.body;
    const limiter = deps.limiter;
    const release = limiter
      ? (limiter.tryAcquire(route.path) ?? (await limiter.acquire(route.path, deadline - now())))
      : () => {};
    if (release === undefined) {
      const eventId = eventIdOf(route);
      const message = `the gateway is at its limit of webhooks in flight${
        deps.limiter!.settings.perRoute < deps.limiter!.settings.max ? ' (for this route or in total)' : ''
      }; retry later`;
      return reply(
        { kind: 'overloaded', reason: 'capacity', route, eventId, message },
        {
          status: 503,
          headers: { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) },
          body: { error: message, eventId },
        },
        undefined,
      );
    }
    try {
      const delivery: Delivery = { method, path, requestURL: url, headers, body };
      const io: PipelineIO = {
        now,
        randomUUID,
        secrets: deps.secrets,
        create:
          deps.create && deps.onCreated ? reportCreated(deps.create, route, deps.onCreated) : deps.create,
        serverDryRun: deps.serverDryRun,
        skipVerify: false,
        deadline,
        // Always recorded: debug logs show it, and info logs redact the param values it holds from cluster
        // messages (src/webhook-log.ts).
        trace: (e) => trace.push(e),
        retryInBackground: deps.retryInBackground,
        ...(span && { tracer: span }),
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
  } finally {
    pending.release();
  }
}

const TRIGGER_LABEL = 'triggers.tekton.dev/trigger';

/**
 * Reports each object the API really created. The trigger is read from the label the renderer sets, and
 * only a trigger name of this route is reported, so the metric's labels stay within the config.
 */
export function reportCreated(
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
