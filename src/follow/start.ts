// Starts following runs for `serve` (contract §12): the leader election and the follower on one client,
// the `leader` gauge, and the order of shutdown (release the Lease before draining, §12.0 item 9).
import { kubeClientFromConfig } from '../kube/client.js';
import type { KubeConfig } from '../kube/client-node.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Config, StatusErrorReport } from '../model.js';
import { viewOf } from './run-state.js';
import { Follower, type Reporter } from './follower.js';
import type { Identity } from './identity.js';
import { DEFAULT_TIMINGS, LeaderElector, type LeaderTimings } from './leader.js';
import { DEFAULT_WATCH_TIMINGS, type WatchTimings } from './watch.js';

export interface Following {
  isLeader(): boolean;
  /** After a reload: watch the namespaces the new config creates in too. */
  sync(): void;
  /** Releases the Lease (when leading) and stops watching. */
  stop(): Promise<void>;
  /** §12.1a: posts `error` for a trigger that failed to create, from the replica that answered. */
  statusError(report: StatusErrorReport): void;
  /**
   * Resolves when the `error` posts under way have been answered, or after `ms`: at exit, so a retry
   * abandoned at shutdown still tells the commit why there is no run (retries of those posts end at stop()).
   */
  settle(ms: number): Promise<void>;
}

export interface FollowingOptions {
  readonly kubeConfig: KubeConfig;
  readonly config: () => Config;
  readonly identity: Identity;
  readonly instance: string;
  readonly stateKey: Buffer;
  readonly mode: 'on' | 'log';
  readonly reporter: Reporter | undefined;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Test-only timings (documented in docs/follow.md): TEKTON_GATEWAY_TEST_LEASE_MS="lease,renew,retry" and
 * TEKTON_GATEWAY_TEST_WATCH_MS="timeoutSeconds,inactivityMs" and TEKTON_GATEWAY_TEST_RETRY_WINDOW_MS (the
 * keep guard of §12.0 item 6), so end-to-end tests need not wait out client-go's 15 s lease or a 10-minute
 * window. Production never sets them.
 */
export function testTimings(env: Readonly<Record<string, string | undefined>>): {
  leader: LeaderTimings;
  watch: WatchTimings;
  retryWindowMs: number | undefined;
} {
  const window = Number(env['TEKTON_GATEWAY_TEST_RETRY_WINDOW_MS'] ?? '');
  const lease = env['TEKTON_GATEWAY_TEST_LEASE_MS']?.split(',').map(Number);
  const watch = env['TEKTON_GATEWAY_TEST_WATCH_MS']?.split(',').map(Number);
  return {
    leader:
      lease && lease.length === 3 && lease.every((n) => n > 0)
        ? { leaseDurationMs: lease[0]!, renewDeadlineMs: lease[1]!, retryPeriodMs: lease[2]! }
        : DEFAULT_TIMINGS,
    watch:
      watch && watch.length === 2 && watch.every((n) => n > 0)
        ? { ...DEFAULT_WATCH_TIMINGS, timeoutSeconds: watch[0]!, inactivityMs: watch[1]! }
        : DEFAULT_WATCH_TIMINGS,
    retryWindowMs:
      env['TEKTON_GATEWAY_TEST_RETRY_WINDOW_MS'] !== undefined && window >= 0 ? window : undefined,
  };
}

export function startFollowing(options: FollowingOptions): Following {
  const { log, metrics } = options;
  const client = kubeClientFromConfig(options.kubeConfig);
  const timings = testTimings(options.env);
  // The leader's callback reaches the follower, which is built after it (it needs isLeader()).
  const holder: { follower?: Follower } = {};
  const leaseName = `tekton-gateway-${options.config().gateway.name}`;
  const leader = new LeaderElector({
    client,
    namespace: options.identity.podNamespace,
    name: leaseName,
    identity: options.identity.podName,
    timings: timings.leader,
    onChange: (leading) => {
      metrics.leader(leading);
      log.info(leading ? 'leading: following runs' : 'no longer leading', {
        lease: `${options.identity.podNamespace}/${leaseName}`,
        identity: options.identity.podName,
      });
      holder.follower?.leadershipChanged(leading);
    },
    onError: (message) => log.error('leader election problem', { error: message }),
  });
  const follower = new Follower({
    client,
    config: options.config,
    instance: options.instance,
    stateKey: options.stateKey,
    isLeader: () => leader.isLeader(),
    mode: options.mode,
    reporter: options.reporter,
    watchTimings: timings.watch,
    // gateway.retryWindowSeconds comes with background retries (#15); 600 s is its contract default.
    retryWindowMs: () =>
      timings.retryWindowMs ??
      ((options.config().gateway as { retryWindowSeconds?: number }).retryWindowSeconds ?? 600) * 1000,
    hooks: {
      info: (message, fields) => log.info(message, fields),
      warn: (message, fields) => log.warn(message, fields),
      statusReport: (run, trigger, result) =>
        metrics.statusReport(run.route ?? '', run.trigger, trigger?.status?.host ?? '', result),
      runAction: (action, run) => metrics.runAction(action, run.route ?? '', run.trigger),
      runIgnored: (reason) => metrics.runIgnored(reason),
    },
  });
  holder.follower = follower;
  const pendingErrors = new Set<NodeJS.Timeout>();
  // Posts being sent now (not those waiting out a backoff): settle() waits for these.
  const sending = new Set<Promise<void>>();
  let stopping = false;
  const statusError = (report: StatusErrorReport): void => {
    const reporter = options.reporter;
    if (!reporter || options.mode === 'log') return;
    // A stand-in for the run that was never created: the status target written for it, no name.
    const view = viewOf({
      apiVersion: 'tekton.dev/v1',
      kind: 'PipelineRun',
      metadata: {
        name: '',
        namespace: report.namespace,
        uid: `${report.eventId}/${report.routePath}/${report.trigger.name}`,
        labels: { 'triggers.tekton.dev/trigger': report.trigger.name },
        annotations: { ...report.annotations, 'tekton-gateway.dev/route': report.routePath },
      },
    });
    const attempt = async (): Promise<void> => {
      const result = await reporter(view, 'error', report.trigger, report.reason);
      metrics.statusReport(
        report.routePath,
        report.trigger.name,
        report.trigger.status?.host ?? '',
        result.kind,
      );
      if (result.kind === 'retry' && !stopping) {
        const timer = setTimeout(() => {
          pendingErrors.delete(timer);
          send();
        }, result.afterMs);
        timer.unref();
        pendingErrors.add(timer);
      } else if (result.kind === 'failure') {
        log.warn('the Git host refused an error status', {
          route: report.routePath,
          trigger: report.trigger.name,
          error: result.message,
        });
      }
    };
    const send = (): void => {
      const sent = attempt()
        .catch((e: unknown) => log.warn('posting an error status failed', { error: String(e) }))
        .finally(() => sending.delete(sent));
      sending.add(sent);
    };
    send();
  };
  const settle = async (ms: number): Promise<void> => {
    if (sending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([Promise.all([...sending]), timeUp]);
    clearTimeout(timer);
  };
  follower.sync();
  leader.start();
  return {
    isLeader: () => leader.isLeader(),
    sync: () => follower.sync(),
    statusError,
    settle,
    stop: async () => {
      stopping = true;
      for (const timer of pendingErrors) clearTimeout(timer);
      await leader.stop();
      await follower.stop();
      client.close();
    },
  };
}
