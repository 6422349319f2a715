// The whole flow for one webhook, top to bottom (contract §3–§6):
//   size → content type → verify → parse → for each trigger: intercept → bind → render → create → outcome.
// Pure except for what it is handed in `io` (the create call, the clock, ids, secrets), so `serve`,
// `serve --dry-run` and `render` run the same code.
import type {
  Config,
  CreateResult,
  Delivery,
  FailureKind,
  JsonObject,
  PipelineIO,
  Rejection,
  ResourceRef,
  Route,
  Trigger,
  TriggerOutcome,
  TriggerTracer,
  WebhookResult,
} from '../model.js';
import { resolveParams } from './bind.js';
import { canonicalHeaders } from './canonical-header.js';
import { intercept } from './intercept.js';
import { deterministicUid, eventIdLabel } from './names.js';
import { checkContentType, parseBody } from './parse.js';
import { dedupeKey, deliveryId, eventType } from './provider.js';
import { redrawName, renderResources, resourceRef, type RenderedResource } from './render.js';
import { followStamp } from './follow-stamp.js';
import { instanceLabel } from './run-stamp.js';
import { withSpanContext } from './span-context.js';
import { verifySignature } from './verify/index.js';

export async function handleWebhook(
  config: Config,
  route: Route,
  delivery: Delivery,
  io: PipelineIO,
): Promise<WebhookResult> {
  const receivedAt = io.receivedAt ?? io.now();
  let eventId = io.replay?.eventId ?? deliveryId(route, delivery.headers) ?? io.randomUUID();
  const reject = (kind: Rejection['kind'], message: string): WebhookResult => ({
    kind: 'rejected',
    route,
    eventId,
    rejection: { kind, message },
  });
  if (delivery.body.length > config.gateway.maxBodyBytes) {
    return reject(
      'too-large',
      `the body is larger than gateway.maxBodyBytes (${config.gateway.maxBodyBytes} bytes)`,
    );
  }
  const contentType = checkContentType(delivery.headers, delivery.body);
  if (!contentType.ok) return reject('content-type', contentType.message);
  let signedId: string | undefined;
  if (!io.skipVerify) {
    const verifyEnded = io.tracer?.verifying();
    const secrets = route.secretRefs.map(io.secrets).filter((s): s is Buffer => s !== undefined);
    const verified = verifySignature(route, delivery, secrets, io.now());
    verifyEnded?.(verified.ok);
    if (!verified.ok)
      return reject(verified.unavailable ? 'secrets-unavailable' : 'signature', verified.message);
    signedId = verified.signedId;
    if (signedId !== undefined) eventId = signedId;
  }
  const parsed = parseBody(delivery.body, config.gateway.maxBodyValues);
  if (!parsed.ok) return reject('tooManyValues' in parsed ? 'too-large' : 'body', parsed.message);

  const event = eventType(route, delivery.headers);
  const flow: Flow = {
    config,
    route,
    io,
    body: parsed.value,
    event,
    eventId,
    // A replay keeps the original delivery's key; a delivery id covered by the signature wins over any
    // unsigned one (contract §12.0 item 15).
    key: io.replay
      ? io.replay.dedupeKey
      : route.dedupe === 'off'
        ? undefined
        : signedId !== undefined
          ? `delivery:${signedId}`
          : dedupeKey(route, delivery.headers, delivery.body),
    header: canonicalHeaders(delivery.headers),
    requestURL: delivery.requestURL,
    receivedAt,
  };
  // Triggers run concurrently; the answer waits for all of them, but never past the request deadline.
  // Each trigger records the resources that exist so far, so a deadline answer can still list them.
  // Until it calls the cluster a trigger is plain computation that returns at once, so only the calls to
  // the cluster race the deadline timer: a skipped trigger costs no timer.
  const triggers = await Promise.all(
    route.triggers.map((t) => {
      const progress: ResourceRef[] = [];
      const span = io.tracer?.trigger(t.name);
      const outcome = runTrigger(flow, t, progress, span);
      const answer = outcome instanceof Promise ? withDeadline(t, outcome, io, progress) : outcome;
      return span ? endSpan(span, answer) : answer;
    }),
  );
  return { kind: 'processed', eventId: flow.eventId, route, event, triggers, dedupeKey: flow.key };
}

/** What one trigger run reads; a schedule's slot builds one too (src/pipeline/slot.ts). */
export interface Flow {
  readonly config: Config;
  readonly route: Route;
  readonly io: PipelineIO;
  readonly body: JsonObject;
  readonly event: string | undefined;
  readonly eventId: string;
  readonly key: string | undefined;
  readonly header: Readonly<Record<string, readonly string[]>>;
  readonly requestURL: string;
  /** Epoch ms when the webhook (or a schedule's slot) arrived: the `received-at` annotation. */
  readonly receivedAt: number;
  /** A schedule's slot time, RFC 3339 UTC: `$(context.scheduledTime)` (§13). */
  readonly scheduledTime?: string;
}

export function runTrigger(
  flow: Flow,
  trigger: Trigger,
  progress: ResourceRef[],
  span: TriggerTracer | undefined,
): TriggerOutcome | Promise<TriggerOutcome> {
  const { io, route } = flow;
  const name = trigger.name;
  const trace = io.trace;
  const intercepted = intercept(
    trigger,
    flow.event,
    {
      body: flow.body,
      header: flow.header,
      requestURL: flow.requestURL,
      extensions: {},
      secrets: io.secrets,
      maxValueBytes: flow.config.gateway.maxValueBytes,
    },
    trace,
  );
  if (intercepted.kind === 'skip') return { name, outcome: 'skipped', reason: intercepted.reason };
  if (intercepted.kind === 'error') return failed(name, 'cel', intercepted.reason);

  const joinedHeader = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(flow.header)) joinedHeader[k] = v.join(',');
  const stamp = followStamp(trigger, route.path, flow.config.gateway.name, flow.event, {
    body: flow.body,
    header: joinedHeader,
    extensions: intercepted.extensions,
    eventId: flow.eventId,
    maxValueBytes: flow.config.gateway.maxValueBytes,
  });
  const namespace = trigger.namespace ?? route.namespace ?? flow.config.gateway.namespace;
  // §12.1a: a refused trigger with status tells the developer on the PR why there is no run.
  const reported = (outcome: TriggerOutcome): TriggerOutcome => {
    if (
      outcome.outcome === 'failed' &&
      (outcome.failure === 'binding' ||
        outcome.failure === 'param' ||
        outcome.failure === 'cluster-refused') &&
      trigger.status &&
      stamp.ok &&
      stamp.statusSkipped === undefined &&
      io.statusError
    ) {
      io.statusError({
        routePath: route.path,
        trigger,
        namespace,
        eventId: flow.eventId,
        annotations: stamp.annotations,
        reason: outcome.reason,
      });
    }
    return outcome;
  };
  const bound = resolveParams(
    trigger.bindings,
    trigger.template,
    {
      body: flow.body,
      header: joinedHeader,
      extensions: intercepted.extensions,
      eventId: flow.eventId,
      maxValueBytes: flow.config.gateway.maxValueBytes,
      ...(flow.scheduledTime !== undefined ? { scheduledTime: flow.scheduledTime } : {}),
    },
    trace,
    name,
  );
  if (!bound.ok) return reported(failed(name, bound.kind, bound.reason));
  if (!stamp.ok) return failed(name, 'binding', stamp.reason);
  const rendered = renderResources(trigger.template, bound.params, {
    follow: stamp,
    gatewayName: flow.config.gateway.name,
    routePath: route.path,
    triggerName: name,
    namespace,
    eventId: flow.eventId,
    dedupeKey: flow.key,
    uid: flow.key === undefined ? io.randomUUID() : deterministicUid(flow.key, route.path, name),
    kinds: flow.config.gateway.kinds,
    instance: io.instance ?? instanceLabel(flow.config.gateway.namespace, flow.config.gateway.name),
    receivedAt: flow.receivedAt,
    stateKey: io.stateKey,
  });
  // Only a sampled span is worth naming: Tekton would continue a trace nobody keeps (contract §12.0 item 16).
  const traceparent = span?.traceparent;
  const resources = traceparent
    ? rendered.map((r) => ({ ...r, object: withSpanContext(r.object, traceparent) }))
    : rendered;
  if (io.create === undefined) return { name, outcome: 'rendered', objects: resources.map((r) => r.object) };
  const skipped = stamp.statusSkipped;
  return createAll(flow, trigger, resources, io.create, progress, span)
    .then(reported)
    .then((outcome) =>
      skipped !== undefined && (outcome.outcome === 'created' || outcome.outcome === 'duplicate')
        ? { ...outcome, statusSkipped: skipped }
        : outcome,
    );
}

/** Ends the trigger's span with its outcome, when the outcome is known. */
function endSpan(
  span: TriggerTracer,
  outcome: TriggerOutcome | Promise<TriggerOutcome>,
): TriggerOutcome | Promise<TriggerOutcome> {
  if (!(outcome instanceof Promise)) {
    span.end(outcome);
    return outcome;
  }
  return outcome.then((o) => {
    span.end(o);
    return o;
  });
}

/**
 * Creates the trigger's objects in template order and stops at the first failure, as Tekton does. Objects
 * with deterministic names that already exist count as done, so a redelivery completes what a failed
 * delivery left missing without duplicating what exists. `done` is the caller's, so that what exists is
 * known even when the deadline answers before this returns.
 */
async function createAll(
  flow: Flow,
  trigger: Trigger,
  resources: readonly RenderedResource[],
  create: NonNullable<PipelineIO['create']>,
  done: ResourceRef[],
  span: TriggerTracer | undefined,
): Promise<TriggerOutcome> {
  const { io, route } = flow;
  const name = trigger.name;
  const returned: JsonObject[] = [];
  let createdAny = false;
  const serviceAccount = trigger.serviceAccountName ?? route.serviceAccountName;
  const requestOf = (resource: RenderedResource) => ({
    object: resource.object,
    group: resource.group,
    version: resource.version,
    plural: resource.plural,
    namespace: resource.namespace,
    impersonate: serviceAccount ? `system:serviceaccount:${resource.namespace}:${serviceAccount}` : undefined,
    dryRun: io.serverDryRun,
  });
  const createOne = async (resource: RenderedResource): Promise<CreateResult> => {
    const kind = resource.object['kind'];
    const requestSpan = span?.request({
      kind: typeof kind === 'string' ? kind : '',
      namespace: resource.namespace,
    });
    const result: CreateResult = await create({
      ...requestOf(resource),
      deadline: io.deadline,
      ...(requestSpan?.traceparent !== undefined && { traceparent: requestSpan.traceparent }),
    });
    requestSpan?.end(result);
    return result;
  };
  for (const [index, rendered] of resources.entries()) {
    let resource = rendered;
    let result = await createOne(resource);
    // A random name that is taken gets a new draw (§12.0 item 3); one found after a lost attempt is this
    // call's own object (a collision of 10 random characters is not a realistic explanation).
    for (let draw = 1; draw < 5 && result.kind === 'exists' && resource.naming === 'random'; draw++) {
      if (result.afterLostAttempt) break;
      resource = redrawName(resource, io.stateKey);
      result = await createOne(resource);
    }
    const ref = resourceRef(resource.object);
    switch (result.kind) {
      case 'created':
        createdAny = true;
        returned.push(result.object);
        done.push(resourceRef({ ...resource.object, ...result.object }));
        break;
      case 'exists':
        if (
          resource.naming === 'deterministic' ||
          (resource.naming === 'random' && result.afterLostAttempt)
        ) {
          if (resource.naming === 'random') createdAny = true;
          done.push(ref);
          break;
        }
        return failed(
          name,
          'cluster-refused',
          fixedNameTaken(ref, flow.eventId, result.afterLostAttempt),
          done,
        );
      case 'refused':
        return failed(
          name,
          'cluster-refused',
          `the cluster refused ${describe(ref)} (HTTP ${result.code}): ${result.message}${pendingHint(resource.object, result.code)}`,
          done,
        );
      case 'unavailable': {
        const outcome = failed(
          name,
          'cluster-unavailable',
          `the cluster could not create ${describe(ref)}: ${result.message}`,
          done,
          result.retryAfterSeconds,
        );
        const rest = resources.slice(index);
        const ticket = backgroundEligible(flow, rest)
          ? io.retryInBackground?.({
              eventId: flow.eventId,
              route: route.path,
              trigger: name,
              creates: rest.map(requestOf),
              done: [...done],
              windowSeconds: flow.config.gateway.retryWindowSeconds,
            })
          : undefined;
        return ticket ? { ...outcome, retryUntil: ticket.retryUntil } : outcome;
      }
    }
  }
  // A server-side dry run of a delivery that was already turned into its objects answers what serve would
  // (duplicate), rather than `rendered` with nothing in it; otherwise it shows what the API would store.
  if (io.serverDryRun && createdAny) return { name, outcome: 'rendered', objects: returned };
  return { name, outcome: createdAny ? 'created' : 'duplicate', resources: done };
}

/**
 * Background completion needs names that make a retry safe (contract §3): only with a dedupe key, where every
 * generateName became a deterministic name, and never for a dry run or when the window is 0. A template's
 * own fixed metadata.name is left to the sender's redelivery, as its AlreadyExists cannot be told apart.
 */
function backgroundEligible(flow: Flow, rest: readonly RenderedResource[]): boolean {
  return (
    flow.key !== undefined &&
    !flow.io.serverDryRun &&
    flow.config.gateway.retryWindowSeconds > 0 &&
    rest.every((r) => r.naming === 'deterministic')
  );
}

/**
 * A template's fixed metadata.name that already exists is a failure (contract §6, 502). When an earlier
 * attempt of the same create lost its answer (reset, timeout, 5xx), the object found may be the one that
 * attempt stored. Telling the two apart needs a GET, and so `get` on every run kind in every target
 * namespace (and for every impersonated account) where the gateway now needs only `create`; we do not pay
 * that for a template shape Tekton users are told to avoid. The answer stays 502 (a false 201 would hide a
 * run that was never created; a false 502 costs a look) and says how to tell: the eventid label.
 */
function fixedNameTaken(ref: ResourceRef, eventId: string, afterLostAttempt: boolean): string {
  const fixed =
    'the template gives a fixed metadata.name, so every delivery names the same object (use metadata.generateName)';
  if (!afterLostAttempt) return `${describe(ref)} already exists: ${fixed}`;
  const label = `triggers.tekton.dev/triggers-eventid=${eventIdLabel(eventId)}`;
  return (
    `${describe(ref)} already exists, and an earlier attempt of this request lost its answer, so it may be ` +
    `the run this delivery created: it is if it carries ${label}; ${fixed}`
  );
}

function describe(ref: ResourceRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name || '(generateName)'}`;
}

function failed(
  name: string,
  failure: FailureKind,
  reason: string,
  resources: readonly ResourceRef[] = [],
  retryAfterSeconds?: number,
): Extract<TriggerOutcome, { outcome: 'failed' }> {
  return { name, outcome: 'failed', failure, reason, resources, retryAfterSeconds };
}

/**
 * Work not finished by the deadline counts as failed and retryable: the sender redelivers, and the
 * deterministic names make the redelivery safe even if the abandoned create lands later. The answer lists
 * the resources that existed by then (`progress`, copied: the abandoned work may still add to it), so
 * partial success is reported per resource on this path too.
 */
export function withDeadline(
  trigger: Trigger,
  work: Promise<TriggerOutcome>,
  io: PipelineIO,
  progress: readonly ResourceRef[],
): Promise<TriggerOutcome> {
  const left = io.deadline - io.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<TriggerOutcome>((resolve) => {
    timer = setTimeout(
      () =>
        resolve(
          failed(
            trigger.name,
            'timeout',
            'not finished within gateway.requestTimeoutMs; redeliver to retry',
            [...progress],
          ),
        ),
      Math.max(0, left),
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A TaskRun created pending (concurrency.limit) is refused by Tekton Pipelines older than v1.11, whose
 * webhook does not know `TaskRunPending` (contract §12.0 item 7): say which version the setting needs.
 */
function pendingHint(object: JsonObject, code: number): string {
  const spec = object['spec'];
  const pending =
    object['kind'] === 'TaskRun' &&
    spec !== null &&
    typeof spec === 'object' &&
    !Array.isArray(spec) &&
    spec['status'] === 'TaskRunPending';
  return pending && code === 400
    ? ' — concurrency.limit creates TaskRuns pending (TaskRunPending), which needs Tekton Pipelines v1.11 or later'
    : '';
}
