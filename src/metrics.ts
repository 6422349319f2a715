// Prometheus metrics (contract §9), served on the admin port. The only prom-client import.
//
// Each gateway owns its Registry: no package globals (the anti-pattern tektoncd/triggers' metrics show),
// so tests can run several gateways in one process and every series belongs to exactly one of them.
// Label values are always taken from the config (route path, trigger name, a template's kind), never
// from a request, so the number of series is bounded by the config, whatever senders do.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS_PREFIX = 'tekton_gateway_';

/** One answered webhook, as the metrics see it. */
export interface WebhookSample {
  /** The matched route's path, '' when no route matched. */
  readonly route: string;
  /** The matched route's provider, '' when no route matched. */
  readonly provider: string;
  readonly status: number;
  readonly seconds: number;
  /** Each trigger that ran (none when the request was turned away before the triggers). */
  readonly triggers: readonly { readonly name: string; readonly outcome: string }[];
}

export interface KubeRequestSample {
  /** Lower-case Kubernetes verb. */
  readonly verb: string;
  /** The HTTP status, or 'error' when no answer came (connection refused, reset, timeout). */
  readonly code: number | 'error';
  readonly seconds: number;
}

export type ReloadResult = 'success' | 'failure';

/** Why a webhook got 503 before its pipeline ran: no in-flight slot, or no room in the byte budget. */
export type RejectReason = 'capacity' | 'memory';

/** What the in-flight gauges read when scraped. */
export interface InFlightReading {
  /** Webhooks holding an in-flight slot. */
  readonly requests: number;
  /** Request body bytes reserved in the byte budget. */
  readonly bytes: number;
}

// Webhooks answer within gateway.requestTimeoutMs (9 s by default): the buckets reach just past it.
const WEBHOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const KUBE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * prom-client hashes the label set on every inc/observe; on the webhook path that was a measurable share of
 * the gateway's own work (BENCHMARKS.md). The child for a label set is looked up once and kept: label values
 * come from the config, so the number of children stays bounded.
 */
class Children<T> {
  private readonly children = new Map<string, T>();
  constructor(private readonly make: (values: readonly string[]) => T) {}

  get(...values: string[]): T {
    const key = values.join('\0');
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.make(values);
      this.children.set(key, child);
    }
    return child;
  }
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'provider' | 'code'>;
  private readonly duration: Histogram<'route'>;
  private readonly outcomes: Counter<'route' | 'trigger' | 'outcome'>;
  private readonly created: Counter<'route' | 'trigger' | 'kind'>;
  private readonly kubeRequests: Counter<'verb' | 'code'>;
  private readonly kubeDuration: Histogram;
  private readonly reloads: Counter<'result'>;
  private readonly configInfo: Gauge<'sha256'>;
  private readonly requestsBy = new Children((v) => this.requests.labels(...v));
  private readonly durationBy = new Children((v) => this.duration.labels(...v));
  private readonly outcomesBy = new Children((v) => this.outcomes.labels(...v));
  private readonly rejected: Counter<'reason'>;
  private inFlightReading: () => InFlightReading = () => ({ requests: 0, bytes: 0 });
  private readonly scheduleRuns: Counter<'schedule' | 'outcome'>;
  private readonly scheduleNext: Gauge<'schedule'>;

  constructor() {
    const registers = [this.registry];
    const p = METRICS_PREFIX;
    this.requests = new Counter({
      name: `${p}requests_total`,
      help: 'Webhooks answered, by matched route (empty: none), provider and HTTP status.',
      labelNames: ['route', 'provider', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'Time from receiving a webhook to answering it, by matched route (empty: none).',
      labelNames: ['route'],
      buckets: WEBHOOK_BUCKETS,
      registers,
    });
    this.outcomes = new Counter({
      name: `${p}trigger_outcomes_total`,
      help: 'Trigger outcomes: created, duplicate, skipped, rendered, failed.',
      labelNames: ['route', 'trigger', 'outcome'],
      registers,
    });
    this.created = new Counter({
      name: `${p}resources_created_total`,
      help: 'Objects the Kubernetes API created (dry runs excluded), by route, trigger and template kind.',
      labelNames: ['route', 'trigger', 'kind'],
      registers,
    });
    this.kubeRequests = new Counter({
      name: `${p}kube_requests_total`,
      help: "Kubernetes API requests (each retry counts), by verb and HTTP status ('error': no answer).",
      labelNames: ['verb', 'code'],
      registers,
    });
    this.kubeDuration = new Histogram({
      name: `${p}kube_request_duration_seconds`,
      help: 'Duration of each Kubernetes API request.',
      buckets: KUBE_BUCKETS,
      registers,
    });
    this.reloads = new Counter({
      name: `${p}config_reloads_total`,
      help: 'Reloads of the routes file: success (now serving) or failure (invalid; the old config serves).',
      labelNames: ['result'],
      registers,
    });
    this.configInfo = new Gauge({
      name: `${p}config_info`,
      help: "Always 1, labelled with the SHA-256 of the routes file's bytes now serving.",
      labelNames: ['sha256'],
      registers,
    });
    this.rejected = new Counter({
      name: `${p}requests_rejected_total`,
      help: 'Webhooks answered 503 before their pipeline ran: capacity (no in-flight slot) or memory (gateway.maxBytesInFlight).',
      labelNames: ['reason'],
      registers,
    });
    this.rejected.inc({ reason: 'capacity' }, 0);
    this.rejected.inc({ reason: 'memory' }, 0);
    // Read at scrape time from the limiter and the byte budget, which own the numbers.
    const reading = () => this.inFlightReading();
    new Gauge({
      name: `${p}in_flight_requests`,
      help: 'Webhooks holding an in-flight slot (body received, not answered yet).',
      registers,
      collect() {
        this.set(reading().requests);
      },
    });
    new Gauge({
      name: `${p}in_flight_bytes`,
      help: 'Request body bytes held now (reserved in gateway.maxBytesInFlight).',
      registers,
      collect() {
        this.set(reading().bytes);
      },
    });
    this.scheduleRuns = new Counter({
      name: `${p}schedule_runs_total`,
      help: 'Schedule slots by outcome: created, duplicate, failed, skipped (missed past startingDeadlineSeconds), rendered (dry run).',
      labelNames: ['schedule', 'outcome'],
      registers,
    });
    this.scheduleNext = new Gauge({
      name: `${p}schedule_next_run_timestamp_seconds`,
      help: 'Unix time of the next slot of each schedule.',
      labelNames: ['schedule'],
      registers,
    });
    // Both series exist from the start, so `increase(...{result="failure"}[1h]) > 0` works on a fresh pod.
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  webhook(sample: WebhookSample): void {
    const { route } = sample;
    this.requestsBy.get(route, sample.provider, String(sample.status)).inc();
    this.durationBy.get(route).observe(sample.seconds);
    for (const t of sample.triggers) this.outcomesBy.get(route, t.name, t.outcome).inc();
  }

  /** A 503 before the pipeline (counted in requests_total too). */
  rejectedRequest(reason: RejectReason): void {
    this.rejected.inc({ reason });
  }

  /** Where the in-flight gauges read from. */
  readInFlight(read: () => InFlightReading): void {
    this.inFlightReading = read;
  }

  resourceCreated(route: string, trigger: string, kind: string): void {
    this.created.inc({ route, trigger, kind });
  }

  kubeRequest(sample: KubeRequestSample): void {
    this.kubeRequests.inc({ verb: sample.verb, code: String(sample.code) });
    this.kubeDuration.observe(sample.seconds);
  }

  /** The config now serving: only its sha256 is present. */
  configLoaded(sha256: string): void {
    this.configInfo.reset();
    this.configInfo.set({ sha256 }, 1);
  }

  reload(result: ReloadResult): void {
    this.reloads.inc({ result });
  }

  // --- v2, background completion (contract §3, §9) ---------------------------------------------------

  private readonly backgroundRetries = new Counter({
    name: `${METRICS_PREFIX}background_retries_total`,
    help: 'Background completions after a 503, by how they ended: created, duplicate, gave_up, abandoned.',
    labelNames: ['route', 'trigger', 'result'],
    registers: [this.registry],
  });
  private readonly backgroundRefused = new Counter({
    name: `${METRICS_PREFIX}background_retries_refused_total`,
    help: '503s that got no background retry because a bound was reached (count: pending jobs; bytes: memory).',
    labelNames: ['route', 'trigger', 'bound'],
    registers: [this.registry],
  });
  private readonly backgroundPending = new Gauge({
    name: `${METRICS_PREFIX}background_retries_pending`,
    help: 'Background completions still retrying.',
    registers: [this.registry],
  });

  backgroundFinal(route: string, trigger: string, result: string): void {
    this.backgroundRetries.inc({ route, trigger, result });
  }

  backgroundRefusedJob(route: string, trigger: string, bound: 'count' | 'bytes'): void {
    this.backgroundRefused.inc({ route, trigger, bound });
  }

  setBackgroundPending(count: number): void {
    this.backgroundPending.set(count);
  }

  /** Deliveries the deliveries page (§14) holds now, both rings. Present from the start, at 0. */
  private readonly deliveries = new Gauge({
    name: `${METRICS_PREFIX}deliveries_stored`,
    help: 'Deliveries this replica keeps in memory for the deliveries page (verified and unverified).',
    registers: [this.registry],
  });

  deliveriesStored(count: number): void {
    this.deliveries.set(count);
  }

  /** A schedule slot's outcome; its trigger outcome and created objects count under route `schedules/<name>`. */
  scheduleRun(
    schedule: string,
    outcome: string,
    trigger?: { readonly route: string; readonly name: string; readonly kinds: readonly string[] },
  ): void {
    this.scheduleRuns.inc({ schedule, outcome });
    if (!trigger) return;
    this.outcomesBy.get(trigger.route, trigger.name, outcome).inc();
    for (const kind of trigger.kinds) this.created.inc({ route: trigger.route, trigger: trigger.name, kind });
  }

  /** The next slot (epoch ms) of a schedule; undefined removes the series (a schedule removed by a reload). */
  scheduleNextRun(schedule: string, nextMs: number | undefined): void {
    if (nextMs === undefined) {
      this.scheduleNext.remove({ schedule });
      return;
    }
    this.scheduleNext.set({ schedule }, nextMs / 1000);
    // Every outcome exists from the first plan, so alerts on `increase(...{outcome="failed"}[1d])` work at once.
    for (const outcome of ['created', 'duplicate', 'failed', 'skipped'])
      this.scheduleRuns.inc({ schedule, outcome }, 0);
  }

  // --- v2 §12: following runs. Counters are created with the class so each gateway's registry has them.
  private readonly leaderGauge = new Gauge({
    name: `${METRICS_PREFIX}leader`,
    help: '1 on the replica that leads (follows runs), 0 elsewhere',
    registers: [this.registry],
  });
  private readonly statusReports = new Counter({
    name: `${METRICS_PREFIX}status_reports_total`,
    help: 'Commit statuses posted to Git hosts, by result (success, retry, failure, orphaned, dry_run)',
    labelNames: ['route', 'trigger', 'provider', 'result'] as const,
    registers: [this.registry],
  });
  private readonly runActions = {
    pruned: new Counter({
      name: `${METRICS_PREFIX}runs_pruned_total`,
      help: 'Finished runs deleted by keep',
      labelNames: ['route', 'trigger'] as const,
      registers: [this.registry],
    }),
    cancelled: new Counter({
      name: `${METRICS_PREFIX}runs_cancelled_total`,
      help: 'Runs cancelled by concurrency.cancelInProgress',
      labelNames: ['route', 'trigger'] as const,
      registers: [this.registry],
    }),
    started: new Counter({
      name: `${METRICS_PREFIX}runs_started_total`,
      help: 'Pending runs started by concurrency.limit',
      labelNames: ['route', 'trigger'] as const,
      registers: [this.registry],
    }),
  };
  private readonly runsIgnored = new Counter({
    name: `${METRICS_PREFIX}runs_ignored_total`,
    help: 'Runs with the gateway labels that it will not act on (signature missing or wrong)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  leader(leading: boolean): void {
    this.leaderGauge.set(leading ? 1 : 0);
  }

  statusReport(route: string, trigger: string, provider: string, result: string): void {
    this.statusReports.inc({ route, trigger, provider, result });
  }

  runAction(action: 'pruned' | 'cancelled' | 'started', route: string, trigger: string): void {
    this.runActions[action].inc({ route, trigger });
  }

  runIgnored(reason: string): void {
    this.runsIgnored.inc({ reason });
  }

  /** The Prometheus text exposition and its content type. */
  async exposition(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
