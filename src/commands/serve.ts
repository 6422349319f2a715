// `tekton-gateway serve` (contract §7, §8): load and watch the config and secrets, find the cluster (unless
// --dry-run), serve webhooks and the admin port, reload on change or SIGHUP, drain and stop on SIGTERM.
import { UsageError, intFlag, type ParsedArgs } from '../cli/args.js';
import { loadConfigBytes, loadConfigFile } from '../config/load.js';
import { createAdminApp } from '../http/admin.js';
import type { GatewayDeps } from '../http/deps.js';
import { createWebhookHandler } from '../http/webhook.js';
import { DEFAULT_MAX_WAIT_MS, InFlightLimiter, defaultPerRoute, type LimitSettings } from '../http/limits.js';
import { GatewayServer, SERVER_TIMEOUTS, type ServerTimeouts } from '../http/server.js';
import { createLogger, isLevel, LEVELS, type Level } from '../log.js';
import { GatewayMetrics } from '../metrics.js';
import type { Config, CreateFn } from '../model.js';
import { resolveIdentity } from '../follow/identity.js';
import type { Following } from '../follow/start.js';
import type { KubeConfig } from '../kube/client-node.js';
import { readStateKey } from '../follow/state-key.js';
import { instanceLabel } from '../pipeline/run-stamp.js';
import { ConfigWatcher } from '../reload.js';
import { SecretStore } from '../secrets.js';
import { logWebhook } from '../webhook-log.js';
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
    create = makeCreate(cluster.cluster, { onRequest: (e) => metrics.kubeRequest(e) });
    kubeConfig = cluster.cluster.kubeConfig;
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
    observe: (o) => {
      logWebhook(log, o);
      const { result } = o;
      metrics.webhook({
        route: result.route?.path ?? '',
        provider: result.route?.provider ?? '',
        status: o.answer.status,
        seconds: o.seconds,
        triggers: result.kind === 'processed' ? result.triggers : [],
      });
    },
    onCreated: (c) => metrics.resourceCreated(c.route.path, c.trigger, c.kind),
    onError: (e) => log.error('unexpected error', { error: e instanceof Error ? e.stack : String(e) }),
    onAborted: (route) =>
      log.debug('the client closed the connection before sending the whole body', { route: route.path }),
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
    },
  };

  const timeouts = options.serverTimeouts ?? SERVER_TIMEOUTS;
  const webhook = await GatewayServer.listen(createWebhookHandler(deps), intFlag(args, 'port'), timeouts);
  const admin = await GatewayServer.listen(createAdminApp(deps), intFlag(args, 'admin-port'), timeouts).catch(
    async (error: unknown) => {
      await webhook.close();
      throw error;
    },
  );
  const ports = { webhook: webhook.port, admin: admin.port };

  const watcher = new ConfigWatcher({
    file: routesFile,
    serving: config.sha256,
    load: (bytes) => loadConfigBytes(bytes, routesFile, { secretsDir, statusOrigins }),
    onLoaded: ({ config: next, warnings, cause }) => {
      const previous = config.sha256;
      config = next;
      metrics.configLoaded(next.sha256);
      metrics.reload('success');
      secrets.watch(next.secretRefs);
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
    secrets.close();
    create?.close();
    log.info('stopped', { exitCode: code, shutdownMs: shutdownStarted ? Date.now() - shutdownStarted : 0 });
    resolveDone(code);
  };

  // Contract §8 and ../shared/reference/kubernetes.md §6: readiness off at once; keep serving for the drain
  // delay so endpoints and ingress controllers stop sending here; then stop accepting and let what is in
  // flight finish; exit 1 at the deadline or on a second signal.
  let shutdownStarted = 0;
  const shutdown = () => {
    if (shuttingDown) {
      log.warn('second stop signal: exiting now');
      finish(1);
      return;
    }
    shuttingDown = true;
    shutdownStarted = Date.now();
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
    const deadline = setTimeout(() => {
      log.error('shutdown timeout: in-flight requests did not finish', { inFlight: deps.limiter!.inFlight });
      finish(1);
    }, shutdownMs);
    deadline.unref();
    setTimeout(() => {
      log.info('drain delay over: no new connections', { inFlight: deps.limiter!.inFlight });
      void Promise.all([webhook.close(), admin.close()]).then(() => {
        clearTimeout(deadline);
        finish(0);
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
