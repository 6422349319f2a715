// The plain, readonly data every layer shares. This file imports nothing: types that two layers need
// move down here, never sideways (docs/architecture.md).

// ---------------------------------------------------------------------------------------------------
// JSON

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ---------------------------------------------------------------------------------------------------
// A request as received, before anything is trusted.

/** Header names are lower-case (as Node delivers them); each name maps to its values in arrival order. */
export type HeaderMap = Readonly<Record<string, readonly string[]>>;

export interface Delivery {
  readonly method: string;
  /** Path without the query string; used for route matching. */
  readonly path: string;
  /** Path and query as received; CEL's `requestURL`. */
  readonly requestURL: string;
  readonly headers: HeaderMap;
  /** The exact bytes received. Signatures are computed over these, before any parsing. */
  readonly body: Buffer;
}

// ---------------------------------------------------------------------------------------------------
// Secrets

/** Tekton's shape: a Kubernetes Secret name and a key in it. */
export interface SecretRef {
  readonly secretName: string;
  readonly secretKey: string;
}

/** Returns the current value of a secret (one trailing newline removed), or undefined when it is absent. */
export type SecretLookup = (ref: SecretRef) => Buffer | undefined;

// ---------------------------------------------------------------------------------------------------
// CEL (the engine lives behind src/pipeline/cel.ts)

export interface CelInput {
  readonly body: JsonValue;
  /** Canonical header names (Go's http.Header form, e.g. `X-Gitlab-Event`) → values. */
  readonly header: Readonly<Record<string, readonly string[]>>;
  readonly requestURL: string;
  readonly extensions: Readonly<Record<string, JsonValue>>;
  /** Used by `compareSecret(key, secretName)`. */
  readonly secrets: SecretLookup;
  /** gateway.maxValueBytes: a larger result fails the evaluation (strings counted by length, unflattened). */
  readonly maxValueBytes?: number;
}

/** A CEL result converted to JSON the way Tekton renders overlays (bytes → base64, numbers as numbers). */
export type CelResult =
  { readonly ok: true; readonly value: JsonValue } | { readonly ok: false; readonly error: string };

export interface CelProgram {
  /** The expression text as written in routes.yaml. */
  readonly source: string;
  evaluate(input: CelInput): CelResult;
}

// ---------------------------------------------------------------------------------------------------
// Bindings: `$(…)` expressions, compiled once at load.

/** One step of a relaxed Kubernetes JSONPath (`body.a[0].b`, `[-1:]`, `[?(@.a == 'b')]`). */
export type PathStep =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'index'; readonly index: number }
  | {
      readonly kind: 'slice';
      readonly start: number | undefined;
      readonly end: number | undefined;
      readonly step: number | undefined;
    }
  | { readonly kind: 'union'; readonly indexes: readonly number[] }
  | { readonly kind: 'filter'; readonly filter: PathFilter }
  | { readonly kind: 'recursive'; readonly name: string | undefined };

export type FilterOperand =
  | { readonly kind: 'path'; readonly steps: readonly PathStep[] }
  | { readonly kind: 'literal'; readonly value: JsonPrimitive };

export type PathFilter =
  | { readonly kind: 'exists'; readonly operand: FilterOperand }
  | {
      readonly kind: 'compare';
      readonly op: '==' | '!=' | '<' | '<=' | '>' | '>=';
      readonly left: FilterOperand;
      readonly right: FilterOperand;
    }
  | { readonly kind: 'and' | 'or'; readonly left: PathFilter; readonly right: PathFilter };

export type BindingRoot = 'body' | 'header' | 'extensions' | 'context';

/** A `$(…)` reference: where it starts and which steps it follows. */
export interface PathRef {
  /** The text between `$(` and `)`, as written. */
  readonly source: string;
  readonly root: BindingRoot;
  readonly steps: readonly PathStep[];
}

/** A binding value split into literal text and `$(…)` references; text around references is kept. */
export interface BindingExpression {
  readonly text: string;
  readonly parts: readonly (string | PathRef)[];
}

export interface Binding {
  readonly name: string;
  readonly value: BindingExpression;
}

// ---------------------------------------------------------------------------------------------------
// Templates

export interface TemplateParam {
  readonly name: string;
  readonly description?: string;
  readonly default?: string;
}

export interface Template {
  /** The key under `templates:`, or `routes[i].triggers[j].template` for an inline one. */
  readonly name: string;
  readonly params: readonly TemplateParam[];
  readonly resourcetemplates: readonly JsonObject[];
}

/** A kind a template may create, with the REST coordinates the API needs. */
export interface KindRule {
  readonly group: string;
  /** API versions accepted in a template's `apiVersion`; undefined means any version of the group. */
  readonly versions: readonly string[] | undefined;
  readonly kind: string;
  readonly plural: string;
}

// ---------------------------------------------------------------------------------------------------
// The compiled, frozen configuration

export const PROVIDERS = [
  'github',
  'gitlab',
  'bitbucket',
  'gitea',
  'forgejo',
  'gogs',
  'generic',
  'none',
] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface GenericSignature {
  readonly header: string;
  readonly algorithm: 'sha1' | 'sha256' | 'sha512';
  readonly encoding: 'hex' | 'base64';
  readonly prefix: string;
}

export interface Overlay {
  readonly key: string;
  readonly expression: CelProgram;
}

export interface Trigger {
  readonly name: string;
  /** Effective event allow-list: the trigger's own, else the route's; undefined means any event. */
  readonly events: readonly string[] | undefined;
  readonly filters: readonly CelProgram[];
  readonly overlays: readonly Overlay[];
  readonly bindings: readonly Binding[];
  readonly template: Template;
  readonly namespace: string | undefined;
  readonly serviceAccountName: string | undefined;
  /** v2 §12.2: finished runs kept, after precedence (trigger, route, gateway.keep); undefined: none pruned. */
  readonly keep?: Keep | undefined;
  /** v2 §12.3. */
  readonly concurrency?: Concurrency | undefined;
  /** v2 §12.1: the trigger's status, else the route's; undefined: no status reported. */
  readonly status?: StatusConfig | undefined;
}

/** `keep: N` or `{successful, failed}` (an absent side never deletes). */
export type Keep =
  | { readonly total: number }
  | { readonly successful: number | undefined; readonly failed: number | undefined };

export interface Concurrency {
  readonly key: BindingExpression;
  readonly cancelInProgress: boolean;
  readonly limit: number | undefined;
}

export type StatusHost = 'github' | 'gitlab' | 'gitea' | 'bitbucket-cloud' | 'bitbucket-datacenter';

export interface StatusConfig {
  readonly host: StatusHost;
  readonly tokenRef: SecretRef | undefined;
  readonly app: { readonly id: number; readonly privateKeyRef: SecretRef } | undefined;
  readonly basicAuthRef: { readonly usernameRef: SecretRef; readonly passwordRef: SecretRef } | undefined;
  /** The API root, without a trailing slash. */
  readonly apiURL: string;
  /** May use $(run.namespace), $(run.name), $(run.kind), $(trigger.name), $(route.path). */
  readonly context: string | undefined;
  readonly targetURL: string | undefined;
  readonly repository: BindingExpression | undefined;
  readonly commit: BindingExpression | undefined;
}

export interface Route {
  readonly path: string;
  readonly provider: ProviderName;
  readonly secretRefs: readonly SecretRef[];
  readonly namespace: string | undefined;
  readonly serviceAccountName: string | undefined;
  readonly dedupe: 'auto' | 'off';
  readonly events: readonly string[] | undefined;
  readonly signature: GenericSignature | undefined;
  readonly eventHeader: string | undefined;
  readonly deliveryHeader: string | undefined;
  readonly triggers: readonly Trigger[];
  /** `tracing:` (contract §15, §12.0 item 16); absent means the defaults (trustParent false). */
  readonly tracing?: RouteTracing;
}

export interface RouteTracing {
  /** A verified delivery's incoming `traceparent` becomes its span's parent; otherwise it is only a link. */
  readonly trustParent: boolean;
}

export interface GatewaySettings {
  readonly name: string;
  readonly namespace: string;
  readonly maxBodyBytes: number;
  readonly kinds: readonly KindRule[];
  readonly requestTimeoutMs: number;
  /** v2 §12.2: every trigger's keep unless its route or itself says otherwise. */
  readonly keep?: Keep | undefined;
  /** v2 (§3): request body bytes held at once, across all requests. */
  readonly maxBytesInFlight: number;
  /** v2 (§3): the whole body must arrive within this of the request's headers, else 408. */
  readonly bodyTimeoutMs: number;
  /** v2 (§3): JSON values in one body; more → 413. */
  readonly maxBodyValues: number;
  /** v2 (§3): the largest CEL result or bound param value; more fails the trigger (422). */
  readonly maxValueBytes: number;
  /** v2: how long transient create failures are retried in the background after a 503 (contract §3). */
  readonly retryWindowSeconds: number;
  /** Tekton Dashboard base URL, without a trailing slash (§12.1, §14 links). */
  readonly dashboardURL?: string | undefined;
  /** The deliveries page's memory bounds per replica (§14). */
  readonly deliveries?: DeliveryBounds;
}

export interface DeliveryBounds {
  readonly max: number;
  readonly maxBytes: number;
}

export interface Config {
  /** The file as named on the command line. */
  readonly file: string;
  /** SHA-256 (hex) of the file's bytes; exported as `config_info{sha256}`. */
  readonly sha256: string;
  readonly gateway: GatewaySettings;
  /** Longest path first, so the first prefix match is the longest. */
  readonly routes: readonly Route[];
  readonly templates: ReadonlyMap<string, Template>;
  readonly bindings: ReadonlyMap<string, readonly Binding[]>;
  /** Every secret any route names (for watching and the start-up check). */
  readonly secretRefs: readonly SecretRef[];
  /** Cron-driven triggers (contract §13), in file order. */
  readonly schedules: readonly Schedule[];
}

// ---------------------------------------------------------------------------------------------------
// Schedules (contract §13): triggers whose delivery comes from the clock

/** A compiled cron expression in its time zone (the library lives behind src/schedule/cron.ts). */
export interface CronTimes {
  /** The expression as written (trimmed). */
  readonly source: string;
  readonly timeZone: string;
  /** The first slot strictly after `afterMs` (epoch milliseconds), with the contract's DST rule. */
  next(afterMs: number): number | undefined;
  /** The last slot at or before `atMs`, with the same rule. */
  previous(atMs: number): number | undefined;
}

export interface Schedule {
  readonly name: string;
  readonly cron: CronTimes;
  readonly timeZone: string;
  /** What `$(body.x)` reads: the JSON a CronJob used to curl. */
  readonly body: JsonObject;
  readonly startingDeadlineSeconds: number;
  readonly keep: Keep | undefined;
  /**
   * The route the pipeline sees: path `schedules/<name>` (the §6 name hash, the `tekton-gateway.dev/route`
   * annotation and metrics' `route` label), provider none, and the one trigger below.
   */
  readonly route: Route;
  /** Named after the schedule (the triggers.tekton.dev/trigger label); no events, filters or overlays. */
  readonly trigger: Trigger;
}

// ---------------------------------------------------------------------------------------------------
// Talking to the cluster (the implementation lives in src/kube/; the pipeline receives it as a function)

export interface CreateRequest {
  readonly object: JsonObject;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespace: string;
  /** `system:serviceaccount:<ns>:<sa>` when the route/trigger sets serviceAccountName. */
  readonly impersonate: string | undefined;
  /** Server-side dry run (`dryRun=All`). */
  readonly dryRun: boolean;
  /** Epoch milliseconds by which the call (including retries) must have finished. */
  readonly deadline: number;
  /** W3C `traceparent` header for the request, when tracing is on (contract §15). */
  readonly traceparent?: string;
}

/**
 * What the cluster said. A refusal or an outage is a value, not an exception: the pipeline turns it into
 * an outcome and the HTTP status is read from it in one place (src/http/respond.ts).
 */
export type CreateResult =
  | { readonly kind: 'created'; readonly object: JsonObject }
  /**
   * 409 AlreadyExists for the object's fixed name. `afterLostAttempt`: an earlier attempt of this same call
   * may have stored the object before its answer was lost (connection reset, timeout, 5xx), so the object
   * found may be this call's own.
   */
  | { readonly kind: 'exists'; readonly afterLostAttempt: boolean }
  /** A 4xx the cluster will keep answering (400, 401, 403, 404, 409 on generateName exhaustion, 422…). */
  | { readonly kind: 'refused'; readonly code: number; readonly message: string }
  /** Unreachable, timed out, or 429/5xx after retries. */
  | {
      readonly kind: 'unavailable';
      readonly message: string;
      readonly retryAfterSeconds: number | undefined;
    };

export type CreateFn = (request: CreateRequest) => Promise<CreateResult>;

// ---------------------------------------------------------------------------------------------------
// Outcomes

export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** Why a trigger failed; the HTTP status and the retryable flag are read from it (src/http/respond.ts). */
export type FailureKind =
  | 'binding' // a `$(…)` found nothing and the param has no default
  | 'param' // a declared param ended with no value
  | 'cel' // a filter or overlay failed to evaluate
  | 'cluster-refused' // the API answered a 4xx a retry will not fix
  | 'cluster-unavailable' // unreachable or 429/5xx after retries
  | 'timeout'; // the request deadline passed first

export type TriggerOutcome =
  | {
      readonly name: string;
      readonly outcome: 'created' | 'duplicate';
      readonly resources: readonly ResourceRef[];
      /** v2 §12.1: the trigger has status, but this delivery lacks what it needs (the runs report none). */
      readonly statusSkipped?: string;
    }
  | { readonly name: string; readonly outcome: 'skipped'; readonly reason: string }
  | {
      readonly name: string;
      readonly outcome: 'rendered';
      readonly objects: readonly JsonObject[];
    }
  | {
      readonly name: string;
      readonly outcome: 'failed';
      readonly failure: FailureKind;
      readonly reason: string;
      /** Resources that do exist (created now or by an earlier delivery) before the failure. */
      readonly resources: readonly ResourceRef[];
      readonly retryAfterSeconds: number | undefined;
      /** v2: epoch ms until which the missing creates are retried in the background (contract §3). */
      readonly retryUntil?: number;
    };

/** Why a request was turned away before any trigger ran. */
export type RejectionKind =
  | 'no-route'
  | 'method'
  | 'too-large'
  | 'content-type'
  | 'signature'
  | 'body'
  /** v2: none of the route's secret files can be read (503 + Retry-After: the gateway's fault). */
  | 'secrets-unavailable';

export interface Rejection {
  readonly kind: RejectionKind;
  readonly message: string;
}

export interface Processed {
  readonly eventId: string;
  readonly route: Route;
  /** The provider's event type, when it sent one. */
  readonly event: string | undefined;
  readonly triggers: readonly TriggerOutcome[];
  /** The §6 dedupe key the names were derived from, if any; a replay (§14) reuses it. */
  readonly dedupeKey?: string | undefined;
}

export type WebhookResult =
  | {
      readonly kind: 'rejected';
      readonly rejection: Rejection;
      readonly route: Route | undefined;
      /** The delivery id when the sender gave one, else a new UUID: every answer carries an id to search logs by. */
      readonly eventId: string;
    }
  | ({ readonly kind: 'processed' } & Processed);

// ---------------------------------------------------------------------------------------------------
// What the pipeline is handed from outside

/** One observation for `render --explain` and debug logs. */
export type TraceEvent =
  | {
      readonly trigger: string;
      readonly kind: 'filter' | 'overlay';
      readonly source: string;
      readonly result: CelResult;
    }
  | {
      readonly trigger: string;
      readonly kind: 'param';
      readonly name: string;
      readonly value: string | undefined;
      readonly from: 'binding' | 'default' | 'missing';
    };

export interface PipelineIO {
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly randomUUID: () => string;
  readonly secrets: SecretLookup;
  /** Absent in `--dry-run` and `render`: every trigger that would create answers `rendered`. */
  readonly create: CreateFn | undefined;
  /** With `create`, marks a server-side dry run: the API's answers are reported as `rendered`. */
  readonly serverDryRun: boolean;
  /** Skip signature checks (`render` runs recorded requests without their secrets). */
  readonly skipVerify: boolean;
  /** Epoch milliseconds by which the answer must be sent. */
  readonly deadline: number;
  readonly trace: ((event: TraceEvent) => void) | undefined;
  /**
   * v2, background completion (contract §3): takes over the creates a trigger could not finish because the
   * cluster was unavailable. Undefined, or an undefined answer (bound reached), means no background retry.
   */
  readonly retryInBackground?: (job: BackgroundJob) => { readonly retryUntil: number } | undefined;
  /**
   * A replay from the deliveries page (§14): the eventId to record (`<eventId>-replay-<n>`) and the original
   * delivery's dedupe key, so names and $(uid) come out as on arrival.
   */
  readonly replay?: { readonly eventId: string; readonly dedupeKey: string | undefined };
  /** Spans of this delivery (contract §15); absent when tracing is off, so the pipeline pays nothing. */
  readonly tracer?: DeliveryTracer;
  /** §12.0 item 2: the `tekton-gateway.dev/instance` label value; default `<gateway.namespace>.<gateway.name>`. */
  readonly instance?: string;
  /** §12.0 item 3: the state key's bytes, when `--state-key-file` names a readable one. */
  readonly stateKey?: Buffer;
  /** Epoch milliseconds when the webhook arrived; a background retry or a replay passes the original. */
  readonly receivedAt?: number;
  /**
   * §12.1a: a trigger with `status` that failed to create (422/502) — the answering replica posts `error`
   * with the reason. Fire and forget: the answer never waits for the Git host.
   */
  readonly statusError?: (failure: StatusErrorReport) => void;
}

// ---------------------------------------------------------------------------------------------------
// Background completion (v2, contract §3; the retrier lives in src/background-retries.ts)

/** One create still to do, as the trigger would have sent it (its deadline is set per attempt). */
export type BackgroundCreate = Omit<CreateRequest, 'deadline'>;

/** A trigger's creates left undone at a 503, in template order (the first is the one that failed). */
export interface BackgroundJob {
  readonly eventId: string;
  readonly route: string;
  readonly trigger: string;
  readonly creates: readonly BackgroundCreate[];
  /** Resources that already exist for this trigger (created before the failure, or by an earlier delivery). */
  readonly done: readonly ResourceRef[];
  /** gateway.retryWindowSeconds of the snapshot the delivery was handled with. */
  readonly windowSeconds: number;
}

/** How a background retry ended: `abandoned` when the process stopped first (SIGTERM). */
export type BackgroundResult = 'created' | 'duplicate' | 'gave_up' | 'abandoned';

export interface BackgroundFinal {
  readonly eventId: string;
  readonly route: string;
  readonly trigger: string;
  readonly result: BackgroundResult;
  /** Everything of the trigger that exists at the end (earlier ones, then those created in the background). */
  readonly resources: readonly ResourceRef[];
  /** For gave_up and abandoned: what stood in the way. */
  readonly reason: string | undefined;
  readonly attempts: number;
}

// ---------------------------------------------------------------------------------------------------
// Tracing, as the pipeline sees it (the OpenTelemetry SDK stays behind src/tracing/otel.ts)

/** The spans of one delivery. The edge opens it; the pipeline marks verification and each trigger. */
export interface DeliveryTracer {
  /**
   * Verification starts; call the returned function with its verdict. Only after `true` may a trusted
   * incoming `traceparent` become the delivery's parent (contract §12.0 item 16).
   */
  verifying(): (verified: boolean) => void;
  /** One trigger's span: its filters, bindings, render and Kubernetes requests. */
  trigger(name: string): TriggerTracer;
}

export interface TriggerTracer {
  /** `traceparent` naming this span when it is sampled (for the runs' span-context annotation), else undefined. */
  readonly traceparent: string | undefined;
  /** A span around one Kubernetes request; its `traceparent` goes into the request's header. */
  request(target: { readonly kind: string; readonly namespace: string }): KubeRequestTracer;
  end(outcome: TriggerOutcome): void;
}

export interface KubeRequestTracer {
  readonly traceparent: string | undefined;
  end(result: CreateResult): void;
}

/** What `error` is posted with: where (the status annotations a run would have carried) and why. */
export interface StatusErrorReport {
  readonly routePath: string;
  readonly trigger: Trigger;
  readonly namespace: string;
  readonly eventId: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly reason: string;
}
