// `tekton-gateway serve` (contract §7, §8): load and watch the config and secrets, find the cluster (unless
// --dry-run), serve webhooks and the admin port, reload on SIGHUP, drain and stop on SIGTERM.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { intFlag, type ParsedArgs } from '../cli/args.js';
import { loadConfigFile } from '../config/load.js';
import { createAdminApp, createWebhookApp, type WebhookObservation } from '../http/app.js';
import { loadCluster, makeCreate } from '../kube/create.js';
import { createLogger, type Level, type Logger } from '../log.js';
import type { Config, CreateFn } from '../model.js';
import { SecretStore } from '../secrets.js';
import type { CommandIO } from './io.js';

export interface ServeHandle {
  /** Resolves with the exit code once the gateway has stopped. */
  readonly done: Promise<number>;
  /** Starts the SIGTERM sequence (tests call it instead of sending a signal). */
  shutdown(): void;
  reload(): boolean;
  readonly ports: { readonly webhook: number; readonly admin: number };
}

export async function runServe(args: ParsedArgs, io: CommandIO): Promise<number> {
  const handle = await startServe(args, io, { signals: true });
  return typeof handle === 'number' ? handle : handle.done;
}

export async function startServe(
  args: ParsedArgs,
  io: CommandIO,
  options: { signals: boolean; log?: (line: string) => void },
): Promise<ServeHandle | number> {
  const log = createLogger(args.values['log-level'] as Level, options.log ?? io.stdout);
  const routesFile = args.values.routes as string;
  const secretsDir = args.values['secrets-dir'] as string;
  const dryRun = args.values['dry-run'] === true;
  const serverDryRun = args.values['server-dry-run'] === true;
  const drainMs = intFlag(args, 'drain-delay') * 1000;
  const shutdownMs = intFlag(args, 'shutdown-timeout') * 1000;

  const loaded = loadConfigFile(routesFile, { secretsDir });
  if (!loaded.ok) {
    io.stderr(`${loaded.problems.join('\n')}\n`);
    return 1;
  }
  let config: Config = loaded.config;
  for (const w of loaded.warnings) log.warn(w);

  let create: (CreateFn & { close(): void }) | undefined;
  if (!dryRun) {
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
    create = makeCreate(cluster.cluster);
  }

  const secrets = new SecretStore(secretsDir, {
    onChange: (c) => log.info('secret file changed', { file: c.file, present: c.present }),
    onError: (e) => log.warn('secret file problem', { error: e.message }),
  });
  secrets.watch(config.secretRefs);

  let shuttingDown = false;
  const deps = {
    config: () => config,
    ready: () => !shuttingDown,
    secrets: secrets.lookup,
    create,
    serverDryRun,
    observe: (o: WebhookObservation) => logWebhook(log, o),
    onError: (e: unknown) =>
      log.error('unexpected error', { error: e instanceof Error ? e.stack : String(e) }),
  };
  const webhook = await listen(createWebhookApp(deps), intFlag(args, 'port'));
  const admin = await listen(createAdminApp(deps), intFlag(args, 'admin-port'));
  const ports = {
    webhook: (webhook.address() as AddressInfo).port,
    admin: (admin.address() as AddressInfo).port,
  };
  log.info('listening', {
    port: ports.webhook,
    adminPort: ports.admin,
    routes: routesFile,
    sha256: config.sha256,
    mode: dryRun ? 'dry-run' : serverDryRun ? 'server-dry-run' : 'create',
  });

  const reload = (): boolean => {
    const next = loadConfigFile(routesFile, { secretsDir });
    if (!next.ok) {
      log.error('config reload failed; keeping the previous config', {
        file: routesFile,
        problems: next.problems,
      });
      return false;
    }
    config = next.config;
    secrets.watch(config.secretRefs);
    log.info('config reloaded', { file: routesFile, sha256: config.sha256 });
    return true;
  };

  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const shutdown = () => {
    if (shuttingDown) {
      log.warn('second stop signal: exiting now');
      finish(1);
      return;
    }
    shuttingDown = true;
    log.info('shutting down', {
      drainDelaySeconds: drainMs / 1000,
      shutdownTimeoutSeconds: shutdownMs / 1000,
    });
    const deadline = setTimeout(() => {
      log.error('shutdown timeout: in-flight requests did not finish');
      finish(1);
    }, shutdownMs);
    deadline.unref();
    // Keep serving while endpoints and load balancers notice /readyz is 503, then stop accepting.
    setTimeout(() => {
      Promise.all([close(webhook), close(admin)]).then(() => finish(0));
    }, drainMs).unref();
  };
  let finished = false;
  const finish = (code: number) => {
    if (finished) return;
    finished = true;
    webhook.closeAllConnections();
    admin.closeAllConnections();
    secrets.close();
    create?.close();
    log.info('stopped', { exitCode: code });
    resolveDone(code);
  };
  if (options.signals) {
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
    process.on('SIGHUP', () => void reload());
  }
  return { done, shutdown, reload, ports };
}

function listen(app: ReturnType<typeof createWebhookApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, () => resolve(server));
    server.once('error', reject);
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function logWebhook(log: Logger, o: WebhookObservation): void {
  const { result, answer } = o;
  const fields: Record<string, unknown> = {
    eventId: result.eventId,
    route: result.route?.path ?? '',
    provider: result.route?.provider ?? '',
    status: answer.status,
    durationMs: Math.round(o.seconds * 1000),
  };
  if (result.kind === 'rejected') {
    fields.error = result.rejection.message;
  } else {
    fields.event = result.event ?? '';
    fields.triggers = result.triggers.map((t) => ({
      name: t.name,
      outcome: t.outcome,
      ...('reason' in t ? { reason: t.reason } : {}),
      ...('resources' in t && t.resources.length > 0
        ? { resources: t.resources.map((r) => `${r.kind}/${r.namespace}/${r.name}`) }
        : {}),
    }));
  }
  log.info('webhook', fields);
}
