// Shared set-up for the end-to-end suites: the real `serve` (in-process or as child processes of the built
// binary) pointed at the fake Kubernetes API through a real kubeconfig file, so every byte between a
// webhook and a stored PipelineRun goes through production code.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeKube, type FakeKube, type FakeKubeOptions } from '../fake-kube/server.js';
import { demoSecretsDir, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { repoRoot } from '../helpers/shared.js';

export const EVENTID = 'triggers.tekton.dev/triggers-eventid';
export const TRIGGER = 'triggers.tekton.dev/trigger';
export const LISTENER = 'triggers.tekton.dev/eventlistener';
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
/** The fake's default token belongs to this user (the gateway's own service account). */
export const GATEWAY_USER = 'system:serviceaccount:tekton-gateway:tekton-gateway';

export type Obj = Record<string, any>;

export interface Ref {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface TriggerJson {
  name: string;
  outcome: string;
  reason?: string;
  retryable?: boolean;
  resources?: Ref[];
  objects?: Obj[];
}

/** Stops what a test started, last first, even when the test failed half-way. */
export class Cleanup {
  private readonly steps: (() => unknown)[] = [];
  add(step: () => unknown): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step();
  }
}

export async function fakeKube(cleanup: Cleanup, options: FakeKubeOptions = {}): Promise<FakeKube> {
  const fake = await startFakeKube({ namespaces: ['default', 'flask-app', 'ci'], ...options });
  cleanup.add(() => fake.close());
  return fake;
}

/** `serve` in-process, creating through the fake (no --dry-run), secrets from test/fixtures/secrets. */
export async function gatewayOn(
  cleanup: Cleanup,
  fake: FakeKube,
  routes: string,
  extraArgs: readonly string[] = [],
): Promise<RunningGateway> {
  const gw = await startGateway(['--routes', routes, '--secrets-dir', demoSecretsDir, ...extraArgs], {
    KUBECONFIG: fake.kubeconfigPath,
  });
  cleanup.add(() => gw.stop());
  return gw;
}

export const exampleRoutes = join(repoRoot, 'routes.yaml');

export function refOf(object: Obj): Ref {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
  };
}

/** Create calls the fake received (POSTs), each with its parsed body. */
export function creates(fake: FakeKube): { headers: Obj; query: URLSearchParams; body: Obj }[] {
  return fake.requests
    .filter((r) => r.method === 'POST')
    .map((r) => ({ headers: r.headers, query: r.query, body: JSON.parse(r.body) as Obj }));
}

// ---------------------------------------------------------------------------------------------------
// Gateways as separate processes (replicas): the built binary, as the container runs it.

export interface ChildGateway {
  readonly url: string;
  readonly process: ChildProcess;
  /** JSON log lines seen so far. */
  readonly logs: Obj[];
  /** SIGTERM: a graceful shutdown (a leader releases its Lease). */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash; nothing is released. */
  kill(): Promise<number | null>;
}

export interface ChildOptions {
  /** Added to the minimal environment, e.g. POD_NAME, STATE_KEY_FILE and the test-only timing knobs. */
  readonly env?: Readonly<Record<string, string>>;
  /** `--secrets-dir`; default test/fixtures/secrets. */
  readonly secretsDir?: string;
}

/** `node dist/main.js serve` on ephemeral ports; resolves once its `listening` line names the port. */
export async function childGateway(
  routes: string,
  kubeconfig: string,
  extraArgs: readonly string[] = [],
  options: ChildOptions = {},
): Promise<ChildGateway> {
  const args = [
    join(repoRoot, 'dist/main.js'),
    'serve',
    '--routes',
    routes,
    '--port',
    '0',
    '--admin-port',
    '0',
    '--drain-delay',
    '0',
    '--secrets-dir',
    options.secretsDir ?? demoSecretsDir,
    ...extraArgs,
  ];
  // Only what serve needs: a stray KUBERNETES_SERVICE_HOST or ROUTES_FILE from the machine must not leak in.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    KUBECONFIG: kubeconfig,
    ...options.env,
  };
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Obj[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Obj;
      try {
        entry = JSON.parse(line) as Obj;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'listening') resolve(entry.port as number);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    url: `http://127.0.0.1:${await port}`,
    process: child,
    logs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}
