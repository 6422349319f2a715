// What the HTTP edge is handed by `serve`: the config snapshot, readiness, the pipeline's I/O, and the hooks
// that logs and metrics hang on. Shared by the webhook handler (./webhook.ts) and the admin app (./admin.ts).
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
import type { InFlightLimiter } from './limits.js';
import type { HttpAnswer } from './respond.js';

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
  /** §12.0 item 2: the instance label every created object carries. */
  readonly instance?: string;
  /** §12.0 item 3: the key that signs created runs, when configured. */
  readonly stateKey?: Buffer;
  /** §12.1a: posts `error` for a trigger with status that failed to create. */
  readonly statusError?: PipelineIO['statusError'];
}
