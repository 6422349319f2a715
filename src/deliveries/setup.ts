// Wires the deliveries record (contract §14) into `serve`: the admin token, the store, the recorder that the
// webhook observer calls, and the admin-port API. One call from src/commands/serve.ts.
import { hostname } from 'node:os';
import type { AdminTokenCheck } from '../http/admin-token.js';
import type { AdminRequest, AdminResponse, WebhookObservation } from '../http/deps.js';
import type { Logger } from '../log.js';
import type { Config, CreateFn, DeliveryBounds, Route, SecretLookup, TriggerOutcome } from '../model.js';
import { createDeliveriesApi } from './api.js';
import { deliveryRecord } from './record.js';
import { DeliveryStore } from './store.js';

export interface DeliveriesSetup {
  readonly config: () => Config | undefined;
  /** The admin token check (--admin-token-file); `token.file` is undefined without the flag. */
  readonly token: AdminTokenCheck;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly secrets: SecretLookup;
  readonly create: CreateFn | undefined;
  readonly serverDryRun: boolean;
  /** The instance label and state key created runs carry (run following). */
  readonly instance?: string;
  readonly stateKey?: Buffer;
  readonly onCount: (count: number) => void;
  /** resources_created_total for objects a replay created. */
  readonly onCreated?: (created: {
    readonly route: Route;
    readonly trigger: string;
    readonly kind: string;
  }) => void;
  readonly now?: () => number;
}

export interface Deliveries {
  /** Records one answered webhook (call it where logs and metrics are fed). */
  observe(o: WebhookObservation): void;
  /** The admin-port handler. */
  readonly api: (req: AdminRequest) => Promise<AdminResponse>;
  /**
   * Background completion (contract §3) finished for `eventId`: the stored delivery shows the final trigger
   * outcomes. Returns false when the delivery is no longer stored.
   */
  updateOutcome(eventId: string, triggers: readonly TriggerOutcome[]): boolean;
  readonly store: DeliveryStore;
}

const DEFAULT_BOUNDS: DeliveryBounds = { max: 500, maxBytes: 16 * 1024 * 1024 };

export function setupDeliveries(s: DeliveriesSetup): Deliveries {
  const now = s.now ?? Date.now;
  const bounds = () => s.config()?.gateway.deliveries ?? DEFAULT_BOUNDS;
  const replica = s.env['POD_NAME'] || hostname();
  const store = new DeliveryStore(bounds, s.onCount);
  const token = s.token;
  const record = (o: WebhookObservation, replayOf?: string) =>
    store.add(
      deliveryRecord(o, { replica, bounds: bounds(), now: now(), routes: s.config()?.routes, replayOf }),
    );
  const api = createDeliveriesApi({
    store,
    token,
    config: s.config,
    replay: {
      secrets: s.secrets,
      create: s.create,
      serverDryRun: s.serverDryRun,
      now,
      onCreated: s.onCreated,
      instance: s.instance,
      stateKey: s.stateKey,
    },
    replica,
    record,
    log: s.log,
  });
  return {
    // Without --admin-token-file nobody can read them: nothing is kept.
    observe: (o) => {
      if (s.token.file !== undefined) record(o);
    },
    api,
    updateOutcome: (eventId, triggers) => store.updateOutcome(eventId, triggers, now()),
    store,
  };
}
