// What the HTTP edge is handed by `serve`: the config snapshot, readiness, the pipeline's I/O, and the hooks
// that logs and metrics hang on. Shared by the webhook handler (./webhook.ts) and the admin app (./admin.ts).
import type {
  Config,
  CreateFn,
  Delivery,
  DeliveryTracer,
  HeaderMap,
  PipelineIO,
  Route,
  SecretLookup,
  TraceEvent,
  WebhookResult,
} from '../model.js';
import type { AdminTokenCheck } from './admin-token.js';
import type { ByteBudget } from './byte-budget.js';
import type { InFlightLimiter } from './limits.js';
import type { HttpAnswer } from './respond.js';

/** What became of a webhook: the pipeline's result, or the gateway's own refusal or failure around it. */
export type ObservedResult =
  | WebhookResult
  | {
      /** overloaded: no in-flight slot, or no room in the byte budget (503). */
      readonly kind: 'overloaded';
      readonly reason: 'capacity' | 'memory';
      readonly route: Route | undefined;
      readonly eventId: string;
      readonly message: string;
    }
  | {
      /** internal: a bug (500); body-timeout: the body did not arrive within gateway.bodyTimeoutMs (408). */
      readonly kind: 'internal' | 'body-timeout';
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
  /** The request line and headers, also when no Delivery was built (early refusals), for §14. */
  readonly request?: { readonly method: string; readonly url: string; readonly headers: HeaderMap };
}

/** The admin port's operator endpoints, handed in so this file stays the only Express import. */
export interface AdminHooks {
  /** Prometheus text exposition. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>;
  readonly logLevel: () => string;
  /** Undefined when done, else what is wrong with `level`. */
  readonly setLogLevel: (level: string) => string | undefined;
  /** The deliveries page and API (§14), src/deliveries/api.ts; absent: those paths are 404. */
  readonly deliveries?: (req: AdminRequest) => Promise<AdminResponse>;
}

/** An admin-port request as the deliveries endpoints see it, free of Express. */
export interface AdminRequest {
  readonly method: string;
  /** The path as received (still percent-encoded), without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case names. */
  readonly header: (name: string) => string | undefined;
  /** POST bodies only, as text (bounded by the admin app). */
  readonly body: string | undefined;
}

export interface AdminResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
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
  /** Request body bytes held at once (gateway.maxBytesInFlight); none: unlimited. */
  readonly budget?: ByteBudget;
  readonly admin?: AdminHooks;
  /** The admin token check (--admin-token-file); none: the admin port's endpoints are open. */
  readonly adminToken?: AdminTokenCheck;
  /** v2 background completion after a 503 (src/background-retries.ts); absent: none. */
  readonly retryInBackground?: PipelineIO['retryInBackground'];
  /** OpenTelemetry spans; absent when tracing is off. */
  readonly tracing?: WebhookTracing;
  /** §12.0 item 2: the instance label every created object carries. */
  readonly instance?: string;
  /** §12.0 item 3: the key that signs created runs, when configured. */
  readonly stateKey?: Buffer;
  /** §12.1a: posts `error` for a trigger with status that failed to create. */
  readonly statusError?: PipelineIO['statusError'];
}

/** Tracing as the edge sees it; src/tracing/otel.ts implements it, loaded only when tracing is on. */
export interface WebhookTracing {
  /** Opens the spans of one delivery to a matched route; `startedAt` is when it arrived (epoch ms). */
  delivery(route: Route, headers: HeaderMap, startedAt: number): DeliverySpan;
}

export interface DeliverySpan extends DeliveryTracer {
  /** Ends the delivery's span with what became of it; 'aborted' when the client left before its body. */
  end(result: ObservedResult | 'aborted', status: number | undefined): void;
}
