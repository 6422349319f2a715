// OpenTelemetry tracing (contract §15): the only file that imports @opentelemetry/*. `serve` imports it only
// when ./settings.ts says tracing is on, so a gateway without the OTEL_* variables never loads the SDK.
//
// No global provider, context manager or propagator is registered: every span gets its parent context
// explicitly, so nothing rides on AsyncLocalStorage and no other code in the process is instrumented by
// surprise. A delivery is the span `webhook <route path>`, with children `verify`, `trigger <name>`, and
// under each trigger `kube create <kind>` per Kubernetes request.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { TraceState, parseTraceParent, setGlobalErrorHandler } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { DeliverySpan, ObservedResult, WebhookTracing } from '../http/deps.js';
import type {
  CreateResult,
  HeaderMap,
  KubeRequestTracer,
  Route,
  TriggerOutcome,
  TriggerTracer,
} from '../model.js';
import type { SamplerSetting, TracingOn } from './settings.js';

/** Attribute values from request headers (event type, delivery id) are cut to this many characters. */
export const MAX_ATTRIBUTE_LENGTH = 256;
const SCOPE = 'tekton-gateway';
/** Export failures are logged at most this often (a collector that is down fails every batch). */
const ERROR_LOG_INTERVAL_MS = 60_000;

export interface Tracing extends WebhookTracing {
  /**
   * A span outside any webhook that links to a delivery's trace (background retries, status reports:
   * contract §15). `traceparent` is the delivery's, e.g. read back from a run's span-context annotation.
   */
  linked(name: string, traceparent: string | undefined, attributes?: Attributes): LinkedSpan;
  /** Exports what is queued and stops; bounded by `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<void>;
}

export interface LinkedSpan {
  /** For an outgoing request's `traceparent` header. */
  readonly traceparent: string | undefined;
  end(error?: string): void;
}

export interface TracingHooks {
  /** An export or SDK failure (already rate-limited); the message never holds header values. */
  readonly onError: (message: string, suppressed: number) => void;
}

export async function startTracing(settings: TracingOn, hooks: TracingHooks): Promise<Tracing> {
  const exporter = await makeExporter(settings);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...settings.resourceAttributes,
      'service.name': settings.serviceName,
    }),
    sampler: makeSampler(settings.sampler),
    spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_LENGTH },
    // The batch processor, so OTEL_BSP_SCHEDULE_DELAY and friends apply (contract §15).
    spanProcessors: [new BatchSpanProcessor({ exporter, ...settings.batch })],
  });
  let lastLogged = 0;
  let suppressed = 0;
  setGlobalErrorHandler((error) => {
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    lastLogged = now;
    hooks.onError(error instanceof Error ? error.message : String(error), suppressed);
    suppressed = 0;
  });
  const tracer = provider.getTracer(SCOPE);
  return {
    delivery: (route, headers, startedAt) => new DeliverySpans(tracer, route, headers, startedAt),
    linked: (name, traceparent, attributes) => {
      const remote = traceparent === undefined ? undefined : parseParent(traceparent, undefined);
      const span = tracer.startSpan(
        name,
        { kind: SpanKind.INTERNAL, attributes, links: remote ? [{ context: remote }] : [] },
        ROOT_CONTEXT,
      );
      return {
        traceparent: traceparentOf(span),
        end: (error) => {
          if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
          span.end();
        },
      };
    },
    shutdown: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        provider.shutdown().catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    },
  };
}

async function makeExporter(settings: TracingOn): Promise<SpanExporter> {
  // Only the exporter the protocol needs is loaded. Endpoint and headers are passed explicitly; the exporter
  // still reads OTEL_EXPORTER_OTLP_{TIMEOUT,COMPRESSION,CERTIFICATE,CLIENT_KEY,CLIENT_CERTIFICATE} itself.
  const config = { url: settings.url, headers: { ...settings.headers } };
  if (settings.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(config);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(config);
}

function makeSampler(setting: SamplerSetting): Sampler {
  switch (setting.kind) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(setting.ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(setting.ratio) });
  }
}

/**
 * The sender's trace context when its `traceparent` is one valid W3C value: not repeated, not all zeros
 * (contract §15), not the forbidden version ff. Anything else is ignored, as the W3C specification says.
 */
function incomingParent(headers: HeaderMap): SpanContext | undefined {
  const values = headers['traceparent'];
  if (values === undefined || values.length !== 1) return undefined;
  const state = headers['tracestate'];
  return parseParent(values[0]!, state === undefined ? undefined : state.join(','));
}

function parseParent(traceparent: string, tracestate: string | undefined): SpanContext | undefined {
  const value = traceparent.trim();
  if (value.startsWith('ff')) return undefined;
  const parsed = parseTraceParent(value);
  if (!parsed) return undefined;
  const context: SpanContext = {
    ...parsed,
    isRemote: true,
    ...(tracestate !== undefined && tracestate.length <= 512 && { traceState: new TraceState(tracestate) }),
  };
  return isSpanContextValid(context) ? context : undefined;
}

/** `00-<trace>-<span>-<flags>` of a span, or undefined for an invalid (no-op) one. */
function traceparentOf(span: Span): string | undefined {
  const c = span.spanContext();
  if (!isSpanContextValid(c)) return undefined;
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

function isSampled(span: Span): boolean {
  return (span.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

/** The spans of one delivery. The root opens lazily: its parent can be decided only after verification. */
class DeliverySpans implements DeliverySpan {
  private root: Span | undefined;
  private context: Context = ROOT_CONTEXT;
  private readonly incoming: SpanContext | undefined;

  constructor(
    private readonly tracer: Tracer,
    private readonly route: Route,
    headers: HeaderMap,
    private readonly startedAt: number,
  ) {
    this.incoming = incomingParent(headers);
  }

  verifying(): (verified: boolean) => void {
    const start = Date.now();
    return (verified) => {
      this.open(verified);
      const span = this.tracer.startSpan(
        'verify',
        {
          kind: SpanKind.INTERNAL,
          startTime: start,
          attributes: { 'tekton_gateway.provider': this.route.provider, 'tekton_gateway.verified': verified },
        },
        this.context,
      );
      if (!verified) span.setStatus({ code: SpanStatusCode.ERROR, message: 'signature' });
      span.end();
    };
  }

  trigger(name: string): TriggerTracer {
    this.open(false);
    const span = this.tracer.startSpan(
      `trigger ${name}`,
      { kind: SpanKind.INTERNAL, attributes: { 'tekton_gateway.trigger': name } },
      this.context,
    );
    return new TriggerSpan(this.tracer, span);
  }

  end(result: ObservedResult | 'aborted', status: number | undefined): void {
    const root = this.open(false);
    const attributes: Attributes = { 'tekton_gateway.outcome': outcomeOf(result) };
    if (status !== undefined) attributes['http.response.status_code'] = status;
    if (result !== 'aborted') {
      attributes['tekton_gateway.event_id'] = result.eventId;
      if (result.kind === 'processed' && result.event !== undefined) {
        attributes['tekton_gateway.event'] = result.event;
      }
    }
    root.setAttributes(attributes);
    // As for HTTP servers in general: a 4xx is the sender's problem, a 5xx (or no answer) ours.
    if (status === undefined || status >= 500) {
      root.setStatus({ code: SpanStatusCode.ERROR, message: outcomeOf(result) });
    }
    root.end();
  }

  /**
   * Starts the root span once. The sender's `traceparent` is its parent only when verification succeeded on
   * a route with `tracing: {trustParent: true}`; otherwise it is a link (contract §12.0 item 16), so an
   * unverified sender can neither join nor steer (sample) our traces.
   */
  private open(verified: boolean): Span {
    if (this.root) return this.root;
    const trusted = verified && this.route.tracing?.trustParent === true && this.incoming !== undefined;
    const parent = trusted ? trace.setSpanContext(ROOT_CONTEXT, this.incoming!) : ROOT_CONTEXT;
    const links: Link[] = !trusted && this.incoming ? [{ context: this.incoming }] : [];
    const root = this.tracer.startSpan(
      `webhook ${this.route.path}`,
      {
        kind: SpanKind.SERVER,
        startTime: this.startedAt,
        links,
        attributes: {
          'http.request.method': 'POST',
          'http.route': this.route.path,
          'tekton_gateway.route': this.route.path,
          'tekton_gateway.provider': this.route.provider,
        },
      },
      parent,
    );
    this.root = root;
    this.context = trace.setSpan(ROOT_CONTEXT, root);
    return root;
  }
}

class TriggerSpan implements TriggerTracer {
  readonly traceparent: string | undefined;
  private readonly context: Context;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
  ) {
    this.traceparent = isSampled(span) ? traceparentOf(span) : undefined;
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  request(target: { readonly kind: string; readonly namespace: string }): KubeRequestTracer {
    const span = this.tracer.startSpan(
      `kube create ${target.kind}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'POST',
          'k8s.namespace.name': target.namespace,
          'tekton_gateway.kind': target.kind,
        },
      },
      this.context,
    );
    return {
      // Sent whether sampled or not: the flags tell the API server.
      traceparent: traceparentOf(span),
      end: (result: CreateResult) => {
        span.setAttribute('tekton_gateway.result', result.kind);
        if (result.kind === 'refused') span.setAttribute('http.response.status_code', result.code);
        if (result.kind === 'refused' || result.kind === 'unavailable') {
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.kind });
        }
        span.end();
      },
    };
  }

  end(outcome: TriggerOutcome): void {
    this.span.setAttribute('tekton_gateway.outcome', outcome.outcome);
    if (outcome.outcome === 'failed') {
      // The failure kind, not the reason: reasons can quote param values taken from the payload.
      this.span.setAttribute('tekton_gateway.failure', outcome.failure);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.failure });
    }
    this.span.end();
  }
}

/** One word for what became of a delivery: `processed`, the rejection's kind, or the edge's own answer. */
function outcomeOf(result: ObservedResult | 'aborted'): string {
  if (result === 'aborted') return 'aborted';
  return result.kind === 'rejected' ? result.rejection.kind : result.kind;
}
