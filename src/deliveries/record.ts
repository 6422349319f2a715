// One answered webhook → what the deliveries page keeps of it. Built from the same observation the answer
// and the log line come from (src/http/deps.ts WebhookObservation), so the three always agree.
import type { WebhookObservation } from '../http/deps.js';
import type { DeliveryBounds, HeaderMap, JsonObject, JsonValue, Route } from '../model.js';
import { eventType } from '../pipeline/provider.js';
import { redactHeaders, redactQuery } from './redact.js';
import type { StoredDelivery } from './store.js';

export interface RecordContext {
  readonly replica: string;
  readonly bounds: DeliveryBounds;
  readonly now: number;
  /** The routes of the config serving, whose secret headers are redacted on every request. */
  readonly routes?: readonly Route[];
  /** Set for a replay: the delivery replayed. */
  readonly replayOf?: string | undefined;
}

export function deliveryRecord(o: WebhookObservation, context: RecordContext): StoredDelivery {
  const { result, answer, delivery } = o;
  const route = result.route;
  // Past the signature check: processed, or refused only for the body's content (§3 step 5).
  const verified =
    result.kind === 'processed' || (result.kind === 'rejected' && result.rejection.kind === 'body');
  const method = o.request?.method ?? delivery?.method ?? 'POST';
  const url = o.request?.url ?? delivery?.requestURL ?? result.route?.path ?? '';
  const rawHeaders: HeaderMap = o.request?.headers ?? delivery?.headers ?? {};
  const headers = redactHeaders(rawHeaders, route, context.routes);
  const bodyBytes = delivery?.body.length ?? 0;
  const quarter = Math.floor(context.bounds.maxBytes / 4);
  let body: Buffer | undefined;
  let bodyOmitted: string | undefined;
  if (!delivery) bodyOmitted = 'the body was not read';
  else if (!verified) bodyOmitted = 'not stored: the request did not pass verification';
  else if (bodyBytes > quarter) {
    bodyOmitted = `not stored: ${bodyBytes} bytes is over gateway.deliveries.maxBytes/4 (${quarter})`;
  } else body = copy(delivery.body);

  const responseBody = boundedAnswer(answer.body, quarter);
  const triggers = Array.isArray(responseBody['triggers'])
    ? (responseBody['triggers'] as JsonValue[]).filter(isObject)
    : [];
  const error =
    result.kind === 'processed'
      ? undefined
      : result.kind === 'rejected'
        ? result.rejection.message
        : result.message;
  const event = result.kind === 'processed' ? result.event : route ? eventType(route, rawHeaders) : undefined;
  return {
    eventId: result.eventId,
    timeMs: context.now,
    route: route?.path ?? '',
    provider: route?.provider ?? '',
    event,
    status: answer.status,
    durationMs: Math.round(o.seconds * 1000),
    replica: context.replica,
    verified,
    triggers,
    error,
    replayOf: context.replayOf,
    dedupeKey: result.kind === 'processed' ? result.dedupeKey : undefined,
    request: { method, path: redactQuery(url), headers, body, bodyBytes, bodyOmitted },
    response: { status: answer.status, body: responseBody },
    updatedMs: undefined,
    bytes: (body?.length ?? 0) + jsonBytes(responseBody) + headerBytes(headers),
  };
}

/**
 * The answer as sent, unless its rendered objects alone would take over a quarter of the budget (a dry run of
 * a large template): then the objects are left out and the entry says so.
 */
function boundedAnswer(body: JsonObject, quarter: number): JsonObject {
  if (jsonBytes(body) <= quarter || !Array.isArray(body['triggers'])) return body;
  return {
    ...body,
    triggers: (body['triggers'] as JsonValue[]).map((t) =>
      isObject(t) && 'objects' in t
        ? { ...t, objects: [], objectsOmitted: 'not stored: over gateway.deliveries.maxBytes/4' }
        : t,
    ),
  };
}

function isObject(v: JsonValue): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const jsonBytes = (v: JsonValue): number => Buffer.byteLength(JSON.stringify(v));

function headerBytes(headers: HeaderMap): number {
  let n = 0;
  for (const [name, values] of Object.entries(headers))
    for (const v of values) n += name.length + v.length + 4;
  return n;
}

/** An own copy: the received buffer may be a slice of a larger one that would stay alive with it. */
function copy(body: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(body.length);
  body.copy(out);
  return out;
}
