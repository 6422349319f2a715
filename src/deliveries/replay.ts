// Replaying a stored delivery (contract §14, §12.0 item 12): the stored request runs again through the
// current config, without its signature check (it was checked on arrival, and its signature headers were
// never stored). It is recorded as a new delivery `<eventId>-replay-<n>` with `replayOf`, while names and
// $(uid) keep the original dedupe key: a replay of a delivery that created its runs answers `duplicate`.
import { randomUUID } from 'node:crypto';
import type { GatewayDeps, WebhookObservation } from '../http/deps.js';
import { reportCreated } from '../http/webhook.js';
import { answer, type HttpAnswer } from '../http/respond.js';
import type { Config, CreateFn, Delivery, PipelineIO, SecretLookup, WebhookResult } from '../model.js';
import { handleWebhook } from '../pipeline/handle.js';
import { checkRoute } from '../pipeline/match.js';
import type { StoredDelivery } from './store.js';

export interface ReplayDeps {
  readonly config: Config;
  readonly secrets: SecretLookup;
  /** Undefined under --dry-run: the replay renders. */
  readonly create: CreateFn | undefined;
  readonly serverDryRun: boolean;
  readonly now: () => number;
  /** resources_created_total, as for webhooks. */
  readonly onCreated?: GatewayDeps['onCreated'];
  /** The instance label and state key, so a replayed run is followed like any other (status, keep, …). */
  readonly instance?: string;
  readonly stateKey?: Buffer;
}

export type ReplayResult =
  | { readonly kind: 'conflict'; readonly message: string }
  | {
      readonly kind: 'replayed';
      readonly eventId: string;
      readonly answer: HttpAnswer;
      /** For the recorder and the log line, as for a webhook. */
      readonly observation: WebhookObservation;
    };

export async function replayDelivery(
  stored: StoredDelivery,
  replayNumber: number,
  dryRun: boolean,
  deps: ReplayDeps,
): Promise<ReplayResult> {
  const body = stored.request.body;
  if (body === undefined) {
    return {
      kind: 'conflict',
      message: `delivery ${stored.eventId} has no stored body (${stored.request.bodyOmitted ?? 'not kept'}), so it cannot be replayed`,
    };
  }
  const q = stored.request.path.indexOf('?');
  const path = q < 0 ? stored.request.path : stored.request.path.slice(0, q);
  const matched = checkRoute(deps.config.routes, 'POST', path);
  const route = matched.ok ? matched.route : undefined;
  if (!route || route.path !== stored.route || route.provider !== stored.provider) {
    const now = route ? `route ${route.path} (provider ${route.provider})` : 'no route';
    return {
      kind: 'conflict',
      message: `${path} arrived on route ${stored.route} (provider ${stored.provider}) and now matches ${now}; the current config cannot replay it`,
    };
  }
  const started = deps.now();
  // A replay of a replay counts among the original's replays.
  const eventId = `${stored.replayOf ?? stored.eventId}-replay-${replayNumber}`;
  const delivery: Delivery = {
    method: 'POST',
    path,
    requestURL: stored.request.path,
    headers: stored.request.headers,
    body,
  };
  const io: PipelineIO = {
    now: deps.now,
    randomUUID,
    secrets: deps.secrets,
    create:
      dryRun || deps.create === undefined
        ? undefined
        : deps.onCreated
          ? reportCreated(deps.create, route, deps.onCreated)
          : deps.create,
    serverDryRun: deps.serverDryRun,
    skipVerify: true,
    deadline: started + deps.config.gateway.requestTimeoutMs,
    trace: undefined,
    replay: { eventId, dedupeKey: route.dedupe === 'off' ? undefined : stored.dedupeKey },
    instance: deps.instance,
    stateKey: deps.stateKey,
    // A replay keeps the original arrival time: concurrency orders group members by it.
    receivedAt: stored.timeMs,
  };
  const result: WebhookResult = await handleWebhook(deps.config, route, delivery, io);
  const a = answer(result);
  return {
    kind: 'replayed',
    eventId,
    answer: a,
    observation: {
      result,
      answer: a,
      delivery,
      seconds: (deps.now() - started) / 1000,
      trace: [],
      request: { method: 'POST', url: stored.request.path, headers: stored.request.headers },
    },
  };
}
