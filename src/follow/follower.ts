// The loop that follows created runs (contract §12): watches → a de-duplicated queue of run keys → when
// this replica leads, reconcile(run) → perform the actions and record them on the run. Every decision is
// made from the cached objects as they are now (level-triggered); a new leader enqueues every run it lists.
import type { KubeClient, KubeResponse } from '../kube/client.js';
import type { Config, JsonObject, Trigger } from '../model.js';
import { TEKTON_KINDS } from '../config/tekton-kinds.js';
import {
  EVENTLISTENER_LABEL,
  INSTANCE_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  hasValidSignature,
} from '../pipeline/run-stamp.js';
import { groupActions, orphanAction, pruneActions, reportAction, type Action } from './reconcile.js';
import {
  STATUS_FAILED,
  STATUS_REPORTED,
  isFinal,
  viewOf,
  type ReportState,
  type RunView,
} from './run-state.js';
import { STATUS_COMMIT } from '../pipeline/follow-stamp.js';
import { hasStatusTarget } from './report/target.js';
import { RunWatch, type WatchTimings } from './watch.js';

type Json = Record<string, unknown>;

/**
 * What a status post came to: recorded, refused for good, or to be tried again after a delay; and the full
 * commit when a short Bitbucket Cloud hash was expanded on the way (recorded on the run, so once).
 */
export type ReportResult = (
  | { readonly kind: 'success' }
  | { readonly kind: 'failure'; readonly message: string }
  | { readonly kind: 'retry'; readonly afterMs: number; readonly message: string }
) & { readonly commit?: string };

export type Reporter = (
  run: RunView,
  state: ReportState,
  trigger: Trigger,
  description?: string,
) => Promise<ReportResult>;

export interface FollowerHooks {
  readonly info: (message: string, fields?: Record<string, unknown>) => void;
  readonly warn: (message: string, fields?: Record<string, unknown>) => void;
  /** `trigger` is undefined for an orphaned run whose trigger is known to no snapshot of this process. */
  readonly statusReport?: (run: RunView, trigger: Trigger | undefined, result: string) => void;
  readonly runAction?: (action: 'pruned' | 'cancelled' | 'started', run: RunView) => void;
  readonly runIgnored?: (reason: string) => void;
}

export interface FollowerOptions {
  readonly client: KubeClient;
  readonly config: () => Config;
  readonly instance: string;
  readonly stateKey: Buffer;
  readonly isLeader: () => boolean;
  /** `log`: decide and log, change nothing (§12.0 item 10). */
  readonly mode: 'on' | 'log';
  readonly reporter: Reporter | undefined;
  readonly hooks: FollowerHooks;
  readonly now?: () => number;
  readonly watchTimings?: WatchTimings;
  readonly retryWindowMs: () => number;
}

const PLURAL: Record<string, string> = { PipelineRun: 'pipelineruns', TaskRun: 'taskruns' };

/**
 * Tekton's webhook refusing a spec change because the run is done: it finished meanwhile, which is what a
 * cancel wanted and makes a start moot. Not an error (§12.0 item 7; Tekton itself treats it as benign).
 */
function finishedMeanwhile(answer: KubeResponse): boolean {
  return answer.status === 400 && JSON.stringify(answer.body).includes('no updates are allowed');
}

export class Follower {
  private readonly cache = new Map<string, Json>();
  private readonly queue = new Set<string>();
  private readonly watches = new Map<string, RunWatch>();
  private readonly ignoredOnce = new Set<string>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private working = false;
  private stopped = false;
  private readonly now: () => number;
  /** The config snapshot last looked at; a different one means a reload happened (see current()). */
  private snapshot: Config;
  /**
   * Triggers with `status` from earlier snapshots, by route and name: the credentials with which a run whose
   * trigger a reload removed gets its check completed (§12.0 item 8). Only in memory: after a restart they
   * are gone, and such a run is logged and counted instead.
   */
  private readonly earlier = new Map<string, Trigger>();

  constructor(private readonly options: FollowerOptions) {
    this.now = options.now ?? Date.now;
    this.snapshot = options.config();
  }

  /** The current config; a new snapshot's predecessor is remembered first. */
  private current(): Config {
    const config = this.options.config();
    if (config !== this.snapshot) {
      const before = this.snapshot;
      for (const route of [...before.routes, ...before.schedules.map((s) => s.route)]) {
        for (const t of route.triggers) if (t.status) this.earlier.set(`${route.path}\n${t.name}`, t);
      }
      this.snapshot = config;
    }
    return config;
  }

  /** The label selector of every list and watch: our labels and instance, and no child TaskRuns. */
  selector(): string {
    const name = this.options.config().gateway.name;
    return [
      `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
      `${EVENTLISTENER_LABEL}=${name}`,
      `${INSTANCE_LABEL}=${this.options.instance}`,
      '!tekton.dev/pipelineRun',
    ].join(',');
  }

  /**
   * Watches every run kind in every namespace the config creates in; call again after a reload. Earlier
   * namespaces stay watched (their runs are still followed), and every known run is looked at again under
   * the new config (a removed trigger or status, §12.0 item 8).
   */
  sync(): void {
    const config = this.current();
    const namespaces = new Set<string>([config.gateway.namespace]);
    // A schedule's runs are followed too (its keep, §13): its route stands in for a webhook route.
    for (const route of [...config.routes, ...config.schedules.map((s) => s.route)]) {
      if (route.namespace) namespaces.add(route.namespace);
      for (const t of route.triggers) {
        if (t.namespace) namespaces.add(t.namespace);
        for (const rt of t.template.resourcetemplates) {
          const ns = (rt['metadata'] as JsonObject | undefined)?.['namespace'];
          if (typeof ns === 'string') namespaces.add(ns);
        }
      }
    }
    const kinds = config.gateway.kinds.filter((k) => k.group === 'tekton.dev' && PLURAL[k.kind]);
    for (const ns of namespaces) {
      for (const kind of kinds) {
        const path = `/apis/tekton.dev/v1/namespaces/${encodeURIComponent(ns)}/${TEKTON_KINDS[kind.kind] ?? kind.plural}`;
        if (this.watches.has(path)) continue;
        const watch = new RunWatch({
          client: this.options.client,
          path,
          labelSelector: this.selector(),
          timings: this.options.watchTimings,
          onList: (objects) => this.replaceAll(ns, kind.kind, objects),
          onEvent: (type, object) => this.observe(type, object),
          onError: (message) => this.options.hooks.warn('run watch problem', { error: message }),
        });
        this.watches.set(path, watch);
        watch.start();
      }
    }
    for (const key of this.cache.keys()) this.queue.add(key);
    void this.drain();
  }

  /** Leadership gained: every run is looked at again (a new leader trusts only what is on the runs). */
  leadershipChanged(leading: boolean): void {
    if (!leading) return;
    for (const key of this.cache.keys()) this.queue.add(key);
    void this.drain();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    await Promise.all([...this.watches.values()].map((w) => w.stop()));
  }

  private keyOf(object: Json): string {
    const m = (object['metadata'] ?? {}) as Json;
    return `${String(m['namespace'])}/${String(object['kind'])}/${String(m['name'])}`;
  }

  private replaceAll(namespace: string, kind: string, objects: readonly Json[]): void {
    const fresh = new Set(objects.map((o) => this.keyOf({ kind, ...o })));
    for (const key of [...this.cache.keys()]) {
      if (key.startsWith(`${namespace}/${kind}/`) && !fresh.has(key)) this.cache.delete(key);
    }
    for (const o of objects) this.store({ kind, ...o });
  }

  private observe(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Json): void {
    if (type === 'DELETED') {
      const key = this.keyOf(object);
      this.cache.delete(key);
      this.deleted(object);
      // A deleted member may have held a slot (someone deleted a running run, or a pending one we were
      // about to start): its group is looked at again, or the next pending run waits for an unrelated event.
      if (this.follows(object)) {
        for (const other of this.related(viewOf(object))) this.queue.add(other.key);
        void this.drain();
      }
      return;
    }
    this.store(object);
  }

  private store(object: Json): void {
    const key = this.keyOf(object);
    this.cache.set(key, object);
    this.queue.add(key);
    // Siblings and group members may now be due something too (a slot freed, a new newest member).
    const view = this.follows(object) ? viewOf(object) : undefined;
    if (view) for (const other of this.related(view)) this.queue.add(other.key);
    void this.drain();
  }

  /** §12.0 item 1 and 3: only signed runs with no owner are acted on. */
  private follows(object: Json): boolean {
    const metadata = (object['metadata'] ?? {}) as Json;
    const owners = metadata['ownerReferences'];
    if (Array.isArray(owners) && owners.length > 0) return false;
    const signature = hasValidSignature(object as JsonObject, this.options.stateKey);
    if (signature === 'valid') return true;
    const key = this.keyOf(object);
    if (!this.ignoredOnce.has(key)) {
      this.ignoredOnce.add(key);
      this.options.hooks.runIgnored?.(signature === 'missing' ? 'signature_missing' : 'signature_wrong');
      this.options.hooks.warn('ignoring a run whose signature is ' + signature, { run: key });
    }
    return false;
  }

  private related(view: RunView): RunView[] {
    const out: RunView[] = [];
    for (const [key, object] of this.cache) {
      if (!key.startsWith(`${view.namespace}/`) || key === view.key) continue;
      const other = viewOf(object);
      const sameTrigger = other.trigger === view.trigger && other.route === view.route;
      const sameGroup = view.group !== undefined && other.group === view.group;
      if (sameTrigger || sameGroup) out.push(other);
    }
    return out;
  }

  private triggerOf(view: RunView): Trigger | undefined {
    const config = this.current();
    // A schedule's runs carry route `schedules/<name>`; its one trigger has the schedule's name.
    const route =
      config.routes.find((r) => r.path === view.route) ??
      config.schedules.find((s) => s.route.path === view.route)?.route;
    return route?.triggers.find((t) => t.name === view.trigger);
  }

  private async drain(): Promise<void> {
    if (this.working || this.stopped) return;
    this.working = true;
    try {
      while (this.queue.size > 0 && this.options.isLeader() && !this.stopped) {
        const key = this.queue.values().next().value as string;
        this.queue.delete(key);
        const object = this.cache.get(key);
        if (!object || !this.follows(object)) continue;
        try {
          await this.reconcile(viewOf(object));
        } catch (error) {
          this.options.hooks.warn('following a run failed', { run: key, error: (error as Error).message });
        }
      }
    } finally {
      this.working = false;
    }
  }

  private async reconcile(view: RunView): Promise<void> {
    const trigger = this.triggerOf(view);
    const actions: Action[] = [];
    const reports =
      trigger?.status !== undefined && this.options.reporter !== undefined && hasStatusTarget(view);
    const report = reportAction(view, reports);
    if (report) actions.push(report);
    const orphan = hasStatusTarget(view) ? orphanAction(view, trigger?.status !== undefined) : undefined;
    if (orphan) actions.push(orphan);
    const related = this.related(view).filter((r) => this.follows(this.cache.get(r.key)!));
    if (trigger?.keep && isFinal(view.state)) {
      const siblings = [view, ...related.filter((r) => r.trigger === view.trigger && r.route === view.route)];
      actions.push(
        ...pruneActions(
          siblings,
          trigger.keep,
          this.now(),
          this.options.retryWindowMs(),
          trigger.status !== undefined,
        ),
      );
    }
    if (view.group !== undefined) {
      actions.push(...groupActions([view, ...related.filter((r) => r.group === view.group)]));
    }
    for (const action of actions) await this.perform(action, trigger);
  }

  private runPath(run: RunView): string {
    const [group, version] = run.apiVersion.split('/');
    return `/apis/${group}/${version}/namespaces/${encodeURIComponent(run.namespace)}/${PLURAL[run.kind]}/${encodeURIComponent(run.name)}`;
  }

  private async perform(action: Action, trigger: Trigger | undefined): Promise<void> {
    const run = action.run;
    if (this.options.mode === 'log') {
      this.options.hooks.info(`would ${action.type}`, {
        run: run.key,
        ...('state' in action ? { state: action.state } : {}),
      });
      if (action.type === 'report' && trigger) this.options.hooks.statusReport?.(run, trigger, 'dry_run');
      return;
    }
    switch (action.type) {
      case 'prune': {
        const answer = await this.options.client.request({
          method: 'DELETE',
          path: this.runPath(run),
          body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
        });
        // Gone from the cache at once, so a decision before the watch's DELETED does not delete it again.
        if (answer.status === 200 || answer.status === 202 || answer.status === 404)
          this.cache.delete(run.key);
        if (answer.status === 200 || answer.status === 202) this.options.hooks.runAction?.('pruned', run);
        else if (answer.status !== 404) this.refused('delete', run, answer);
        return;
      }
      case 'cancel': {
        const value = run.kind === 'TaskRun' ? 'TaskRunCancelled' : 'Cancelled';
        const answer = await this.patch(run, { spec: { status: value } });
        if (answer.status === 200) this.options.hooks.runAction?.('cancelled', run);
        else if (!finishedMeanwhile(answer) && answer.status !== 404) this.refused('cancel', run, answer);
        return;
      }
      case 'start': {
        // The resourceVersion the decision saw is a precondition: a user's cancel that landed since must
        // not be undone by `status: null` (a cancelled pending run is never started, §12.3). A 409 is
        // decided again when the watch brings the change; 404 and a run finished meanwhile need nothing.
        const precondition = run.resourceVersion === '' ? {} : { resourceVersion: run.resourceVersion };
        const answer = await this.patch(run, { metadata: precondition, spec: { status: null } });
        if (answer.status === 200) this.options.hooks.runAction?.('started', run);
        else if (!finishedMeanwhile(answer) && answer.status !== 404 && answer.status !== 409)
          this.refused('start', run, answer);
        return;
      }
      case 'report':
        if (trigger) await this.report(run, action.state, trigger);
        return;
      case 'orphan':
        await this.orphan(run);
        return;
    }
  }

  /** §12.0 item 8: completes the check of a run whose trigger or status is gone, see orphanAction. */
  private async orphan(run: RunView): Promise<void> {
    const earlier = this.earlier.get(`${run.route ?? ''}\n${run.trigger}`);
    if (earlier && this.options.reporter) {
      await this.report(run, 'error', earlier, 'removed from configuration');
      return;
    }
    // After a restart the removed trigger's credentials left with the old config: nothing can be posted.
    // Recorded as failed so the next leader does not log it again.
    this.options.hooks.warn('the trigger or status of a run was removed from the configuration', {
      run: run.key,
      route: run.route,
      trigger: run.trigger,
      left: run.reported,
    });
    this.options.hooks.statusReport?.(run, undefined, 'orphaned');
    await this.patch(run, { metadata: { annotations: { [STATUS_FAILED]: 'error' } } });
  }

  private async report(
    run: RunView,
    state: ReportState,
    trigger: Trigger,
    description?: string,
  ): Promise<void> {
    const result = await this.options.reporter!(run, state, trigger, description);
    this.options.hooks.statusReport?.(run, trigger, result.kind);
    // A short Bitbucket Cloud hash expanded on the way is recorded whatever the post came to (expanded once).
    const commit = result.commit !== undefined ? { [STATUS_COMMIT]: result.commit } : {};
    if (result.kind === 'retry') {
      if (result.commit !== undefined) await this.patch(run, { metadata: { annotations: commit } });
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.queue.add(run.key);
        void this.drain();
      }, result.afterMs);
      this.retryTimers.add(timer);
      return;
    }
    if (result.kind === 'failure') {
      this.options.hooks.warn('the Git host refused a status', {
        run: run.key,
        state,
        error: result.message,
      });
    }
    const annotation = result.kind === 'success' ? STATUS_REPORTED : STATUS_FAILED;
    await this.patch(run, { metadata: { annotations: { [annotation]: state, ...commit } } });
  }

  /** DELETED of a run last reported pending or running: the host is told it was cancelled (§12.0 item 6). */
  private deleted(object: Json): void {
    if (!this.options.isLeader() || !this.follows(object)) return;
    const view = viewOf(object);
    if (view.reported !== 'pending' && view.reported !== 'running') return;
    const trigger = this.triggerOf(view);
    if (!trigger?.status || !this.options.reporter || this.options.mode === 'log') return;
    void this.options
      .reporter(view, 'cancelled', trigger, 'deleted')
      .then((result) => this.options.hooks.statusReport?.(view, trigger, result.kind));
  }

  private async patch(run: RunView, body: unknown): Promise<KubeResponse> {
    const answer = await this.options.client.request({
      method: 'PATCH',
      path: this.runPath(run),
      body,
      contentType: 'application/merge-patch+json',
    });
    // The patched object is the truth now: a second decision before the watch catches up must see it.
    if (answer.status === 200 && typeof answer.body === 'object' && answer.body !== null) {
      const updated = answer.body as Json;
      if (this.cache.has(run.key)) this.cache.set(run.key, { kind: run.kind, ...updated });
    }
    return answer;
  }

  private refused(what: string, run: RunView, answer: KubeResponse): void {
    const message = (answer.body as { message?: unknown } | undefined)?.message;
    this.options.hooks.warn(`could not ${what} a run`, {
      run: run.key,
      status: answer.status,
      error: typeof message === 'string' ? message : undefined,
    });
  }
}
