// Starts the real `serve` in-process on loopback (ephemeral ports) and signs deliveries the way each Git
// host does, for end-to-end tests over real HTTP.
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../src/cli/args.js';
import { SERVE } from '../../src/cli/spec.js';
import { startServe, type ServeHandle, type ServeOptions } from '../../src/commands/serve.js';
import { repoRoot } from './shared.js';

export const demoSecretsDir = join(repoRoot, 'test/fixtures/secrets');

export function demoSecret(name: string, key: string): string {
  return readFileSync(join(demoSecretsDir, name, key), 'utf8').replace(/\r?\n$/, '');
}

export interface RunningGateway {
  readonly url: string;
  readonly adminUrl: string;
  readonly handle: ServeHandle;
  readonly logs: string[];
  readonly stderr: string[];
  stop(): Promise<number>;
}

/**
 * A temporary secrets directory in the Secret volume layout: `<dir>/<secretName>/<key>` for each
 * `[secretName, value]` (key `token`), values written with the trailing newline files made by hand carry.
 */
export function secretsDirWith(entries: readonly (readonly [string, string])[], newline = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
  for (const [name, value] of entries) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'token'), newline ? `${value}\n` : value);
  }
  return dir;
}

/** Writes YAML to a temp file and returns its path. */
export function routesFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'routes-'));
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, yaml);
  return file;
}

export async function startGateway(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
  /** Test knobs of `serve` (reload intervals, slot wait); signals are never installed in-process. */
  options: Omit<ServeOptions, 'signals' | 'log'> = {},
): Promise<RunningGateway> {
  const logs: string[] = [];
  const stderr: string[] = [];
  // A short shutdown timeout: background retries of a cluster a test left down wait for it on stop (contract
  // §3), and the default 25 s per gateway would dominate the suites. A test may still pass its own.
  const args = parseArgs(
    SERVE,
    ['--port', '0', '--admin-port', '0', '--drain-delay', '0', '--shutdown-timeout', '2', ...argv],
    env,
  );
  const handle = await startServe(
    args,
    {
      stdout: (t) => logs.push(t),
      stderr: (t) => stderr.push(t),
      env,
      readStdin: async () => Buffer.alloc(0),
    },
    { ...options, signals: false },
  );
  if (typeof handle === 'number') throw new Error(`serve exited with ${handle}: ${stderr.join('')}`);
  return {
    url: `http://127.0.0.1:${handle.ports.webhook}`,
    adminUrl: `http://127.0.0.1:${handle.ports.admin}`,
    handle,
    logs,
    stderr,
    stop: () => {
      handle.shutdown();
      return handle.done;
    },
  };
}

const hex = (algorithm: string, secret: string, body: Buffer) =>
  createHmac(algorithm, secret).update(body).digest('hex');

/** Headers a Git host would send for this body, signed with the given secret. */
export const signed = {
  github: (body: Buffer, secret: string, event: string, delivery: string) => ({
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': delivery,
    'x-hub-signature-256': `sha256=${hex('sha256', secret, body)}`,
  }),
  gitlab: (_body: Buffer, token: string, event: string, idempotencyKey: string) => ({
    'content-type': 'application/json',
    'x-gitlab-event': event,
    'x-gitlab-token': token,
    'idempotency-key': idempotencyKey,
  }),
  gitea: (body: Buffer, secret: string, event: string, delivery: string) => ({
    'content-type': 'application/json',
    'x-gitea-event': event,
    'x-gitea-delivery': delivery,
    'x-gitea-signature': hex('sha256', secret, body),
  }),
  forgejo: (body: Buffer, secret: string, event: string, delivery: string) => ({
    'content-type': 'application/json',
    'x-forgejo-event': event,
    'x-forgejo-delivery': delivery,
    'x-forgejo-signature': hex('sha256', secret, body),
  }),
  /**
   * Bitbucket Cloud and Data Center sign alike; `X-Event-Key` tells them apart (`repo:push`,
   * `repo:refs_changed`). Cloud names its delivery `X-Request-UUID`, Data Center `X-Request-Id`.
   */
  bitbucket: (
    body: Buffer,
    secret: string,
    eventKey: string,
    delivery: string,
    flavor: 'cloud' | 'datacenter' = 'cloud',
  ) => ({
    'content-type': 'application/json',
    'x-event-key': eventKey,
    [flavor === 'cloud' ? 'x-request-uuid' : 'x-request-id']: delivery,
    'x-hub-signature': `sha256=${hex('sha256', secret, body)}`,
  }),
};

export async function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
