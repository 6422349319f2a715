// `tekton-gateway serve` (contract §7, §8): load and watch the config and secrets, find the cluster (unless
// --dry-run), serve webhooks and the admin port, reload on change or SIGHUP, drain and stop on SIGTERM.
import { randomUUID } from 'node:crypto';
import { BackgroundRetries } from '../background-retries.js';
import { UsageError, intFlag, type ParsedArgs } from '../cli/args.js';
import { loadConfigBytes, loadConfigFile } from '../config/load.js';
import { createAdminApp } from '../http/admin.js';
import type { GatewayDeps } from '../http/deps.js';
import { createWebhookHandler } from '../http/webhook.js';
import { ByteBudget } from '../http/byte-budget.js';
import { hidingClusterAddress } from '../http/hide-cluster-address.js';
import { adminTokenCheck } from '../http/admin-token.js';
import { DEFAULT_MAX_WAIT_MS, InFlightLimiter, defaultPerRoute, type LimitSettings } from '../http/limits.js';
import { GatewayServer, SERVER_TIMEOUTS, type ServerTimeouts } from '../http/server.js';
import { setupDeliveries } from '../deliveries/setup.js';
import { createLogger, isLevel, LEVELS, type Level } from '../log.js';
import { GatewayMetrics } from '../metrics.js';
import type { BackgroundJob, Config, CreateFn, TriggerOutcome } from '../model.js';
import { resolveIdentity } from '../follow/identity.js';
import type { Following } from '../follow/start.js';
import type { KubeConfig } from '../kube/client-node.js';
import { readStateKey } from '../follow/state-key.js';
import { instanceLabel } from '../pipeline/run-stamp.js';
import { ConfigWatcher } from '../reload.js';
import { startSchedules } from '../schedule/start.js';
import { SecretStore } from '../secrets.js';
import { logWebhook } from '../webhook-log.js';
import type { Tracing } from '../tracing/otel.js';
import { tracingSettings } from '../tracing/settings.js';
import type { CommandIO } from './io.js';

export interface ServeHandle {
  /** Resolves with the exit code once the gateway has stopped. */
  readonly done: Promise<number>;
  /** Starts the SIGTERM sequence (a second call is the second SIGTERM: exit 1 at once). */
  shutdown(): void;
  /** What SIGHUP does: re-read the routes file; true when a valid config was swapped in. */
  reload(): boolean;
  readonly ports: { readonly webhook: number; readonly admin: number };
  /** Webhooks holding an in-flight slot, and webhooks waiting for one. */
  load(): { readonly inFlight: number; readonly waiting: number };
}

/** Knobs for tests; production uses the defaults. */
export interface ServeOptions {
  /** Install SIGTERM/SIGINT/SIGHUP handlers (the CLI does; in-process tests drive the handle instead). */
  readonly signals: boolean;
  readonly log?: (line: string) => void;
  readonly reload?: {
    readonly debounceMs?: number;
    readonly pollIntervalMs?: number;
    readonly fsWatch?: boolean;
    readonly stableMs?: number;
  };
  readonly maxWaitMs?: number;
  readonly serverTimeouts?: ServerTimeouts;
}

export async function runServe(args: ParsedArgs, io: CommandIO): Promise<number> {
  const handle = await startServe(args, io, { signals: true });
  return typeof handle === 'number' ? handle : handle.done;
}

export async function startServe(
  args: ParsedArgs,
  io: CommandIO,
  options: ServeOptions,
): Promise<ServeHandle | number> {
  const log = createLogger(args.values['log-level'] as Level, options.log ?? io.stdout);
  const routesFile = args.values.routes as string;
  const secretsDir = args.values['secrets-dir'] as string;
  const dryRun = args.values['dry-run'] === true;
  const serverDryRun = args.values['server-dry-run'] === true;
  const drainMs = intFlag(args, 'drain-delay') * 1000;
  const shutdownMs = intFlag(args, 'shutdown-timeout') * 1000;
  const limits = limitSettings(args, options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);

  const statusOrigins = ((args.values['status-api-origins'] as string | undefined) ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  const loaded = loadConfigFile(routesFile, { secretsDir, statusOrigins });
  if (!loaded.ok) {
    io.stderr(`${loaded.problems.join('\n')}\n`);
    return 1;
  }
  let config: Config = loaded.config;
  for (const w of loaded.warnings) log.warn(w);
  const metrics = new GatewayMetrics();
  metrics.configLoaded(config.sha256);

  // Contract §15: the SDK is imported only when the OTEL_* variables turn tracing on.
  const traced = tracingSettings(io.env);
  if (!traced.ok) {
    io.stderr(`${traced.message}\n`);
    return 1;
  }
  let create: (CreateFn & { close(): void }) | undefined;
  let kubeConfig: KubeConfig | undefined;
  if (!dryRun) {
    // Loaded only when a cluster is used: @kubernetes/client-node alone adds about 73 MiB of RSS and half a
    // second of start-up, which --dry-run never needs (BENCHMARKS.md).
    const { loadCluster, makeCreate } = await import('../kube/create.js');
    const cluster = loadCluster(io.env);
    if (!cluster.ok) {
      io.stderr(`${cluster.message}\n`);
      return 1;
    }
    log.info('cluster', {
      source: cluster.cluster.source,
      location: cluster.cluster.location,
      server: cluster.cluster.server,
    });
    const kube = makeCreate(cluster.cluster, { onRequest: (e) => metrics.kubeRequest(e) });
    // Answers go to the internet: they never say where the API server lives (src/http/hide-cluster-address.ts).
    create = Object.assign(hidingClusterAddress(kube, cluster.cluster.server), { close: () => kube.close() });
    kubeConfig = cluster.cluster.kubeConfig;
  }

  // Sized once at start-up: a reload that changes gateway.maxBytesInFlight applies after a restart (logged).
  // One budget for request bodies and the rendered objects background retries hold (contract §12.0 item 13).
  const budget = new ByteBudget(config.gateway.maxBytesInFlight);
  const retrier = create ? startBackground(create, config, log, metrics, budget) : undefined;
  const background = retrier?.background;
  let tracing: Tracing | undefined;
  if (traced.settings.enabled) {
    const settings = traced.settings;
    const { startTracing } = await import('../tracing/otel.js');
    tracing = await startTracing(settings, {
      onError: (error, suppressed) => log.warn('trace export failed', { error, suppressedSince: suppressed }),
    });
    const url = new URL(settings.url);
    log.info('tracing', {
      // Without user-info or query: either may hold a credential.
      endpoint: `${url.origin}${url.pathname}`,
      protocol: settings.protocol,
      serviceName: settings.serviceName,
      sampler: settings.sampler.kind,
      scheduleDelayMs: settings.batch.scheduledDelayMillis,
    });
  } else {
    log.debug('tracing off', { reason: traced.settings.reason });
  }

  const secrets = new SecretStore(secretsDir, {
    onChange: (c) => log.info('secret file changed', { file: c.file, present: c.present }),
    onError: (e) => log.warn('secret file problem', { error: e.message }),
  });
  secrets.watch(config.secretRefs);

  const identity = resolveIdentity(io.env, config.gateway.namespace);
  const instance = instanceLabel(identity.podNamespace, config.gateway.name);
  const stateKey = readStateKey(args.values['state-key-file'] as string | undefined);
  if (!stateKey.ok) {
    // Given but unusable is an operator's mistake (error); not given at all is a choice (info).
    const level = args.values['state-key-file'] ? 'error' : 'info';
    log[level]('following runs is off (status, keep, concurrency)', { why: stateKey.why });
  }

  const tokenFile = args.values['admin-token-file'] as string | undefined;
  // One check for everything the admin token guards (PUT /loglevel, the deliveries page); a missing or empty
  // file disables what needs it and is logged at error, never stops `serve` (contract §12.0 item 17).
  const adminToken = adminTokenCheck(tokenFile, {
    onChange: ({ file, problem }) =>
      problem === undefined
        ? log.info('admin token loaded', { file })
        : log.error('admin token unusable: PUT /loglevel is refused and the deliveries page answers 404', {
            file,
            problem,
          }),
  });
  adminToken.enabled();
  const deliveries = setupDeliveries({
    config: () => config,
    token: adminToken,
    env: io.env,
    log,
    secrets: secrets.lookup,
    create,
    serverDryRun,
    onCount: (n) => metrics.deliveriesStored(n),
    onCreated: (c) => metrics.resourceCreated(c.route.path, c.trigger, c.kind),
    instance,
    stateKey: stateKey.ok ? stateKey.key : undefined,
  });
  // §12: following runs, with a cluster, a state key, and not in any dry-run mode (§12.0 item 10).
  const followMode = args.values['follow'] as 'on' | 'log' | 'off';
  let following: Following | undefined;
  if (kubeConfig && !serverDryRun && stateKey.ok && followMode !== 'off') {
    const { startFollowing } = await import('../follow/start.js');
    const { makeReporter } = await import('../follow/report/reporter.js');
    following = startFollowing({
      kubeConfig,
      config: () => config,
      identity,
      instance,
      stateKey: stateKey.key,
      mode: followMode,
      reporter: makeReporter({ secrets: secrets.lookup, dashboardURL: () => config.gateway.dashboardURL }),
      log,
      metrics,
      env: io.env,
    });
  }

  // A background retry's end (contract §3) reaches the deliveries page, and one that never created its run
  // reports `error` on the commit like a refused create (§12.1a): the developer sees why there is no run.
  const retryInBackground = retrier && followBackground(retrier, () => config, deliveries, following);

  let shuttingDown = false;
  const deps: GatewayDeps = {
    instance,
    stateKey: stateKey.ok ? stateKey.key : undefined,
    statusError: following ? (report) => following!.statusError(report) : undefined,
    config: () => config,
    ready: () => !shuttingDown,
    secrets: secrets.lookup,
    create,
    serverDryRun,
    limiter: new InFlightLimiter(limits),
    budget,
    adminToken: tokenFile === undefined ? undefined : adminToken,
    observe: (o) => {
      logWebhook(log, o);
      const { result } = o;
      if (result.kind === 'overloaded') metrics.rejectedRequest(result.reason);
      metrics.webhook({
        route: result.route?.path ?? '',
        provider: result.route?.provider ?? '',
        status: o.answer.status,
        seconds: o.seconds,
        triggers: result.kind === 'processed' ? result.triggers : [],
      });
      deliveries.observe(o);
    },
    onCreated: (c) => metrics.resourceCreated(c.route.path, c.trigger, c.kind),
    onError: (e) => log.error('unexpected error', { error: e instanceof Error ? e.stack : String(e) }),
    onAborted: (route) =>
      log.debug('the client closed the connection before sending the whole body', { route: route.path }),
    ...(tracing && { tracing }),
    admin: {
      metrics: () => metrics.exposition(),
      logLevel: () => log.level,
      setLogLevel: (level) => {
        if (!isLevel(level)) return `send one of: ${LEVELS.join(', ')}`;
        const from = log.level;
        log.setLevel(level);
        // At the new level (info at most), so the change itself always shows.
        log[level === 'debug' ? 'info' : level]('log level changed', { from, to: level });
        return undefined;
      },
      deliveries: deliveries.api,
    },
    retryInBackground,
  };

  metrics.readInFlight(() => ({ requests: deps.limiter!.inFlight, bytes: budget.inFlight }));

  const timeouts = options.serverTimeouts ?? SERVER_TIMEOUTS;
  const webhook = await GatewayServer.listen(createWebhookHandler(deps), intFlag(args, 'port'), timeouts);
  const admin = await GatewayServer.listen(createAdminApp(deps), intFlag(args, 'admin-port'), timeouts).catch(
    async (error: unknown) => {
      await webhook.close();
      throw error;
    },
  );
  const ports = { webhook: webhook.port, admin: admin.port };

  // Schedules (§13).
  const scheduler = startSchedules(config, {
    log,
    metrics,
    create,
    serverDryRun,
    secrets: secrets.lookup,
    // Only the leader fires slots; without run following (no state key) there is no Lease, so every replica
    // fires and the deterministic names keep one run per slot.
    isLeader: () => following?.isLeader() ?? true,
    randomUUID,
    // Signed and labelled like a webhook's runs, or the follower ignores them and a schedule's keep does nothing.
    instance,
    stateKey: stateKey.ok ? stateKey.key : undefined,
  });

  const watcher = new ConfigWatcher({
    file: routesFile,
    serving: config.sha256,
    load: (bytes) => loadConfigBytes(bytes, routesFile, { secretsDir, statusOrigins }),
    onLoaded: ({ config: next, warnings, cause }) => {
      const previous = config.sha256;
      if (next.gateway.maxBytesInFlight !== budget.max) {
        log.warn('gateway.maxBytesInFlight changed; the new value applies after a restart', {
          serving: budget.max,
          configured: next.gateway.maxBytesInFlight,
        });
      }
      config = next;
      metrics.configLoaded(next.sha256);
      metrics.reload('success');
      secrets.watch(next.secretRefs);
      scheduler.apply(next, 'reload');
      following?.sync();
      for (const w of warnings) log.warn(w);
      log.info('config reloaded', {
        file: routesFile,
        cause,
        sha256: next.sha256,
        previousSha256: previous,
        routes: next.routes.map((r) => r.path),
      });
    },
    onFailed: ({ problems, sha256, cause }) => {
      metrics.reload('failure');
      log.error('config reload failed; keeping the previous config', {
        file: routesFile,
        cause,
        sha256,
        servingSha256: config.sha256,
        problems,
      });
    },
    onWatchError: (e) => log.warn('routes file watch problem', { error: e.message }),
    ...options.reload,
  });
  watcher.start();

  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let finished = false;
  const started = Date.now();
  const finish = (code: number) => {
    if (finished) return;
    finished = true;
    webhook.destroy();
    admin.destroy();
    watcher.close();
    scheduler.stop();
    secrets.close();
    create?.close();
    log.info('stopped', { exitCode: code, shutdownMs: shutdownStarted ? Date.now() - shutdownStarted : 0 });
    // Queued spans go out before the process exits, within a bound a dead collector cannot stretch.
    if (tracing) void tracing.shutdown(TRACING_FLUSH_MS).then(() => resolveDone(code));
    else resolveDone(code);
  };

  // Contract §8 and Kubernetes' pod termination sequence: readiness off at once; keep serving for the drain
  // delay so endpoints and ingress controllers stop sending here; then stop accepting and let what is in
  // flight finish; exit 1 at the deadline or on a second signal.
  let shutdownStarted = 0;
  // An abandoned retry (or a refused trigger answered just before) has its `error` status on the way to the
  // Git host: the process must not exit under it, or the commit never learns why there is no run (§12.1a).
  const settleStatuses = () => following?.settle(STATUS_FLUSH_MS) ?? Promise.resolve();
  const shutdown = () => {
    if (shuttingDown) {
      log.warn('second stop signal: exiting now');
      background?.abandonAll();
      finish(1);
      return;
    }
    shuttingDown = true;
    shutdownStarted = Date.now();
    // No new slots once stopping: the replicas that stay (or the next pod) catch up within the deadline.
    scheduler.stop();
    log.info('shutting down', {
      drainDelaySeconds: drainMs / 1000,
      shutdownTimeoutSeconds: shutdownMs / 1000,
      inFlight: deps.limiter!.inFlight,
      uptimeSeconds: Math.round((shutdownStarted - started) / 1000),
    });
    webhook.drain();
    admin.drain();
    // The leader gives its Lease up first, so another replica leads while this one drains (§12.0 item 9).
    void following?.stop().catch((e: unknown) => log.warn('stopping run following', { error: String(e) }));
    // Background retries (contract §3) go on until the shutdown timeout; each one still pending then is
    // abandoned (logged at error by the subscriber) and the exit code is 1.
    let waitingForBackground = false;
    const deadline = setTimeout(() => {
      if (waitingForBackground) return; // background.drain ends at this same deadline and finishes
      log.error('shutdown timeout: in-flight requests did not finish', { inFlight: deps.limiter!.inFlight });
      background?.abandonAll();
      void settleStatuses().then(() => finish(1));
    }, shutdownMs);
    deadline.unref();
    setTimeout(() => {
      log.info('drain delay over: no new connections', { inFlight: deps.limiter!.inFlight });
      void Promise.all([webhook.close(), admin.close()]).then(async () => {
        waitingForBackground = true;
        if (background && background.size > 0) {
          log.info('waiting for background retries', {
            pending: background.size,
            untilSeconds: Math.round((shutdownStarted + shutdownMs - Date.now()) / 1000),
          });
        }
        const abandoned = background ? await background.drain(shutdownStarted + shutdownMs) : [];
        clearTimeout(deadline);
        await settleStatuses();
        finish(abandoned.length > 0 ? 1 : 0);
      });
    }, drainMs).unref();
  };
  // Before announcing `listening`: whoever reads that line may signal at once.
  if (options.signals) {
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
    process.on('SIGHUP', () => void watcher.reload('SIGHUP'));
  }
  log.info('listening', {
    port: ports.webhook,
    adminPort: ports.admin,
    routes: routesFile,
    sha256: config.sha256,
    mode: dryRun ? 'dry-run' : serverDryRun ? 'server-dry-run' : 'create',
    maxInFlight: limits.max,
    maxInFlightPerRoute: limits.perRoute,
    maxBytesInFlight: budget.max,
  });
  const limiter = deps.limiter!;
  return {
    done,
    shutdown,
    reload: () => watcher.reload('reload'),
    ports,
    load: () => ({ inFlight: limiter.inFlight, waiting: limiter.waiting }),
  };
}

/** How long stopping waits for the last spans to be exported. */
const TRACING_FLUSH_MS = 2000;
/** Longest wait at exit for `error` statuses being posted; within the chart's 5 s grace margin. */
const STATUS_FLUSH_MS = 2000;

function limitSettings(args: ParsedArgs, maxWaitMs: number): LimitSettings {
  const max = intFlag(args, 'max-in-flight');
  const perRoute =
    args.values['max-in-flight-per-route'] === undefined
      ? defaultPerRoute(max)
      : intFlag(args, 'max-in-flight-per-route');
  if (max < 1) throw new UsageError('--max-in-flight must be at least 1');
  if (perRoute < 1) throw new UsageError('--max-in-flight-per-route must be at least 1');
  return { max, perRoute: Math.min(perRoute, max), maxWaitMs };
}

/** Longest round of create attempts of one background job. */
const BACKGROUND_ATTEMPT_MS = 3_000;
/** Pending background retries at most, whatever their size (each holds its rendered objects). */
const BACKGROUND_MAX_JOBS = 1000;

/**
 * Hands each background job's final outcome to the deliveries page and, when the runs were never created, to
 * the status reporter (`error`, posted by this replica as for a refused create). Returns what the pipeline
 * calls to hand a job over.
 */
function followBackground(
  retrier: { background: BackgroundRetries; accept: NonNullable<GatewayDeps['retryInBackground']> },
  config: () => Config,
  deliveries: { updateOutcome(eventId: string, triggers: readonly TriggerOutcome[]): boolean },
  following: Following | undefined,
): NonNullable<GatewayDeps['retryInBackground']> {
  // Pending jobs, as handed over (bounded by the retrier's own bounds: each ends in one final).
  const jobs = new Map<string, BackgroundJob>();
  const keyOf = (j: { eventId: string; route: string; trigger: string }) =>
    `${j.eventId}\n${j.route}\n${j.trigger}`;
  retrier.background.subscribe((final) => {
    const job = jobs.get(keyOf(final));
    jobs.delete(keyOf(final));
    const outcome: TriggerOutcome =
      final.result === 'created' || final.result === 'duplicate'
        ? { name: final.trigger, outcome: final.result, resources: final.resources }
        : {
            name: final.trigger,
            outcome: 'failed',
            failure: 'cluster-unavailable',
            reason: `background retries ${final.result === 'abandoned' ? 'abandoned at shutdown' : 'gave up'}: ${final.reason ?? 'unknown'}`,
            resources: final.resources,
            retryAfterSeconds: undefined,
          };
    deliveries.updateOutcome(final.eventId, [outcome]);
    const first = job?.creates[0];
    const trigger = config()
      .routes.find((r) => r.path === final.route)
      ?.triggers.find((t) => t.name === final.trigger);
    if (outcome.outcome !== 'failed' || !following || !first || !trigger?.status) return;
    const metadata = first.object['metadata'] as { annotations?: Record<string, string> } | undefined;
    following.statusError({
      routePath: final.route,
      trigger,
      namespace: first.namespace,
      eventId: final.eventId,
      annotations: metadata?.annotations ?? {},
      reason: outcome.reason,
    });
  });
  return (job) => {
    const ticket = retrier.accept(job);
    if (ticket) jobs.set(keyOf(job), job);
    return ticket;
  };
}

/** Background completion after a 503 (contract §3): the retrier, its metrics and its log lines. */
function startBackground(
  create: CreateFn,
  config: Config,
  log: ReturnType<typeof createLogger>,
  metrics: GatewayMetrics,
  bodies: ByteBudget,
): { background: BackgroundRetries; accept: NonNullable<GatewayDeps['retryInBackground']> } {
  const background = new BackgroundRetries({
    create,
    maxJobs: BACKGROUND_MAX_JOBS,
    budget: { take: (bytes) => bodies.reserve(bytes), give: (bytes) => bodies.release(bytes) },
    // Short rounds: create retries with its own backoff inside each round, and a round as long as a webhook's
    // deadline would keep a long outage's every job busy against the API; the backoff between rounds paces them.
    attemptMs: Math.min(config.gateway.requestTimeoutMs, BACKGROUND_ATTEMPT_MS),
    onRefused: (job, bound) => {
      metrics.backgroundRefusedJob(job.route, job.trigger, bound);
      log.warn('no background retry: the bound on pending retries is reached; the sender must redeliver', {
        eventId: job.eventId,
        route: job.route,
        trigger: job.trigger,
        bound:
          bound === 'count'
            ? `${BACKGROUND_MAX_JOBS} pending`
            : `${bodies.max} bytes (gateway.maxBytesInFlight, shared with request bodies)`,
      });
    },
    onCreated: (job, object) => metrics.resourceCreated(job.route, job.trigger, String(object['kind'])),
  });
  background.subscribe((final) => {
    metrics.backgroundFinal(final.route, final.trigger, final.result);
    metrics.setBackgroundPending(background.size);
    const fields = {
      eventId: final.eventId,
      route: final.route,
      trigger: final.trigger,
      result: final.result,
      attempts: final.attempts,
      resources: final.resources.map((r) => `${r.kind} ${r.namespace}/${r.name}`),
      ...(final.reason === undefined ? {} : { reason: final.reason }),
    };
    // gave_up and abandoned are a delivery whose runs may be missing: someone must look.
    if (final.result === 'created' || final.result === 'duplicate')
      log.info('background retry finished', fields);
    else log.error(`background retry ${final.result === 'abandoned' ? 'abandoned' : 'gave up'}`, fields);
  });
  // What the pipeline calls: accept, and say so (the 503's `retryUntil` is in the answer too).
  const accept = (job: BackgroundJob) => {
    const ticket = background.accept(job);
    metrics.setBackgroundPending(background.size);
    if (ticket) {
      log.warn('retrying in background after 503', {
        eventId: job.eventId,
        route: job.route,
        trigger: job.trigger,
        retryUntil: new Date(ticket.retryUntil).toISOString(),
      });
    }
    return ticket;
  };
  return { background, accept };
}
