// WebhookResult → HTTP status, headers and JSON body: the one table of contract §3. `serve` answers with it
// and `render -o json` prints it, so both always agree on what a request would get.
import type { FailureKind, JsonObject, RejectionKind, TriggerOutcome, WebhookResult } from '../model.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: JsonObject;
}

const REJECTION_STATUS: Record<RejectionKind, number> = {
  'no-route': 404,
  method: 405,
  'too-large': 413,
  'content-type': 415,
  signature: 401,
  body: 400,
  'secrets-unavailable': 503,
};

/** Failures a redelivery can fix; they answer 503 so the sender retries. */
const RETRYABLE: ReadonlySet<FailureKind> = new Set(['cluster-unavailable', 'timeout']);

/** 503 beats 502 beats 422 (contract §3). */
const FAILURE_STATUS: Record<FailureKind, number> = {
  'cluster-unavailable': 503,
  timeout: 503,
  'cluster-refused': 502,
  binding: 422,
  param: 422,
  cel: 422,
};

/** When the cluster gave no Retry-After of its own. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

export function answer(result: WebhookResult): HttpAnswer {
  if (result.kind === 'rejected') {
    const status = REJECTION_STATUS[result.rejection.kind];
    return {
      status,
      headers:
        status === 405
          ? { Allow: 'POST' }
          : status === 503
            ? { 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS) }
            : {},
      body: { error: result.rejection.message, eventId: result.eventId },
    };
  }
  const status = statusOf(result.triggers);
  const headers: Record<string, string> = {};
  if (status === 503) headers['Retry-After'] = String(retryAfter(result.triggers));
  return {
    status,
    headers,
    body: { eventId: result.eventId, route: result.route.path, triggers: result.triggers.map(triggerJson) },
  };
}

export function statusOf(triggers: readonly TriggerOutcome[]): number {
  let worst = 0;
  let createdOrDuplicate = false;
  for (const t of triggers) {
    if (t.outcome === 'failed') worst = Math.max(worst, FAILURE_STATUS[t.failure]);
    else if (t.outcome === 'created' || t.outcome === 'duplicate') createdOrDuplicate = true;
  }
  if (worst > 0) return worst;
  return createdOrDuplicate ? 201 : 200;
}

/** The largest Retry-After any retryable failure carries, else the default. */
function retryAfter(triggers: readonly TriggerOutcome[]): number {
  let seconds = 0;
  for (const t of triggers) {
    if (t.outcome === 'failed' && RETRYABLE.has(t.failure)) {
      seconds = Math.max(seconds, t.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
    }
  }
  return seconds || DEFAULT_RETRY_AFTER_SECONDS;
}

/** One trigger's entry in the §3 JSON (also what the deliveries page stores, src/deliveries/). */
export function triggerJson(t: TriggerOutcome): JsonObject {
  switch (t.outcome) {
    case 'created':
    case 'duplicate':
      return {
        name: t.name,
        outcome: t.outcome,
        resources: t.resources.map((r) => ({ ...r })),
        ...(t.statusSkipped === undefined ? {} : { statusSkipped: t.statusSkipped }),
      };
    case 'skipped':
      return { name: t.name, outcome: t.outcome, reason: t.reason };
    case 'rendered':
      return { name: t.name, outcome: t.outcome, objects: [...t.objects] };
    case 'failed':
      return {
        name: t.name,
        outcome: t.outcome,
        reason: t.reason,
        retryable: RETRYABLE.has(t.failure),
        ...(t.resources.length > 0 ? { resources: t.resources.map((r) => ({ ...r })) } : {}),
        // v2 background completion (contract §3): the gateway itself keeps trying until then.
        ...(t.retryUntil !== undefined
          ? { retrying: true, retryUntil: new Date(t.retryUntil).toISOString() }
          : {}),
      };
  }
}
