// Starting the servers under test, each pinned to the server core: the gateway (the built binary, exactly
// as the container runs it), adnanh/webhook, the Node ceiling, and the fake Kubernetes API (load core).
import path from 'node:path';
import { benchDir, freePort, pinned, type Tools } from './env.js';
import { start, waitUntilServing, type Started } from './processes.js';

export interface RunningServer {
  readonly server: Started;
  /** Base URL; the payload's path (or /hooks/<id> for adnanh/webhook) is appended. */
  readonly url: string;
  /** From spawn to the first answer. */
  readonly startupMs: number;
  readonly adminUrl?: string;
}

/** Only what the processes need: a stray KUBECONFIG or ROUTES_FILE from the shell must not leak in. */
function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...extra };
}

export async function startGateway(
  tools: Tools,
  options: {
    readonly name: string;
    readonly main: string;
    readonly routesFile: string;
    readonly secretsDir: string;
    readonly dryRun: boolean;
    readonly kubeconfig?: string;
    readonly logLevel?: string;
    /** Directory for node --cpu-prof profiles (written when the gateway stops). */
    readonly cpuProfDir?: string | undefined;
    /** More environment, e.g. the OTEL_* variables of the tracing bench. */
    readonly env?: NodeJS.ProcessEnv;
  },
): Promise<RunningServer> {
  const port = await freePort();
  const adminPort = await freePort();
  const args = [
    ...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []),
    options.main,
    'serve',
    ...(options.dryRun ? ['--dry-run'] : []),
    '--routes',
    options.routesFile,
    '--secrets-dir',
    options.secretsDir,
    '--port',
    String(port),
    '--admin-port',
    String(adminPort),
    '--log-level',
    options.logLevel ?? 'warn',
    '--drain-delay',
    '0',
  ];
  const [command, argv] = pinned(tools, 0, process.execPath, args);
  const env = baseEnv({ ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}), ...options.env });
  const server = start(options.name, command, argv, { env });
  const url = `http://127.0.0.1:${port}`;
  const startupMs = await waitUntilServing(server, `${url}/healthz`);
  return { server, url, startupMs, adminUrl: `http://127.0.0.1:${adminPort}` };
}

export async function startWebhook(tools: Tools, hooksFile: string): Promise<RunningServer> {
  const port = await freePort();
  // Not -verbose: like the gateway at warn, it logs nothing per request.
  const [command, argv] = pinned(tools, 0, tools.webhook, [
    '-hooks',
    hooksFile,
    '-ip',
    '127.0.0.1',
    '-port',
    String(port),
  ]);
  const server = start('adnanh/webhook', command, argv, { env: baseEnv() });
  const url = `http://127.0.0.1:${port}/hooks`;
  const startupMs = await waitUntilServing(server, `http://127.0.0.1:${port}/`);
  return { server, url, startupMs };
}

export async function startCeiling(tools: Tools): Promise<RunningServer> {
  const port = await freePort();
  const [command, argv] = pinned(tools, 0, process.execPath, [
    path.join(benchDir, 'ceiling-server.js'),
    String(port),
  ]);
  const server = start('node:http ceiling', command, argv, { env: baseEnv() });
  const url = `http://127.0.0.1:${port}`;
  const startupMs = await waitUntilServing(server, `${url}/`);
  return { server, url, startupMs };
}

/** The experiment of pipeline-server.ts: the gateway's pipeline without Express around it. */
export async function startPipelineServer(
  tools: Tools,
  dist: string,
  routesFile: string,
  secretsDir: string,
): Promise<RunningServer> {
  const port = await freePort();
  const [command, argv] = pinned(tools, 0, process.execPath, [
    path.join(benchDir, 'pipeline-server.js'),
    dist,
    routesFile,
    secretsDir,
    String(port),
  ]);
  const server = start('pipeline on node:http', command, argv, { env: baseEnv() });
  const url = `http://127.0.0.1:${port}`;
  const startupMs = await waitUntilServing(server, `${url}/`);
  return { server, url, startupMs };
}

export async function startFakeKube(
  tools: Tools,
  latencyMs: number,
  namespace: string,
): Promise<{ server: Started; url: string; kubeconfigPath: string }> {
  const [command, argv] = pinned(tools, 1, process.execPath, [
    path.join(benchDir, 'fake-kube-server.js'),
    String(latencyMs),
    namespace,
  ]);
  const server = start('fake Kubernetes API', command, argv, { env: baseEnv() });
  const deadline = performance.now() + 20_000;
  let line: string | undefined;
  while (
    (line = server
      .output()
      .split('\n')
      .find((l) => l.startsWith('{'))) === undefined
  ) {
    if (server.child.exitCode !== null || performance.now() > deadline) {
      throw new Error(`the fake Kubernetes API did not start:\n${server.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { url, kubeconfigPath } = JSON.parse(line) as { url: string; kubeconfigPath: string };
  return { server, url, kubeconfigPath };
}
