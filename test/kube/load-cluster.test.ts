// loadCluster: which configuration wins, and the start-up messages when none works. The in-cluster case is
// run end to end against the https fake with a service-account directory laid out as the kubelet does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCluster, makeCreate, type ClusterConfigResult } from '../../src/kube/create.js';
import { writeKubeconfig } from '../fake-kube/kubeconfig.js';
import { startFakeKube } from '../fake-kube/server.js';

const TLS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fake-kube', 'tls');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'load-cluster-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A service-account directory as mounted into a pod. */
function serviceAccountDir(token = 'test-token'): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'token'), token);
  fs.copyFileSync(path.join(TLS_DIR, 'cert.pem'), path.join(dir, 'ca.crt'));
  fs.writeFileSync(path.join(dir, 'namespace'), 'tekton-gateway');
  return dir;
}

function kubeconfig(dir: string, name: string, server: string): string {
  return writeKubeconfig(path.join(dir, name), { server, token: 't' });
}

function ok(result: ClusterConfigResult) {
  if (!result.ok) throw new Error(`expected a cluster, got: ${result.message}`);
  return result.cluster;
}

const noHome = () => tempDir();

describe('which configuration wins', () => {
  it('KUBECONFIG', () => {
    const dir = tempDir();
    const cluster = ok(loadCluster({ KUBECONFIG: kubeconfig(dir, 'a', 'http://127.0.0.1:1') }, noHome()));
    expect(cluster).toMatchObject({ source: 'kubeconfig', server: 'http://127.0.0.1:1' });
  });

  it('KUBECONFIG with several files: merged, the first current-context wins', () => {
    const dir = tempDir();
    const first = kubeconfig(dir, 'a', 'http://127.0.0.1:1');
    const second = path.join(dir, 'b');
    // Distinct names, so the merge has nothing to refuse; its current-context must not take over.
    const other = JSON.parse(fs.readFileSync(kubeconfig(dir, 'tmp', 'http://127.0.0.1:2'), 'utf8'));
    other.clusters[0].name = other.users[0].name = other.contexts[0].name = 'other';
    other.contexts[0].context = { cluster: 'other', user: 'other' };
    other['current-context'] = 'other';
    fs.writeFileSync(second, JSON.stringify(other));
    const cluster = ok(loadCluster({ KUBECONFIG: [first, second].join(path.delimiter) }, noHome()));
    expect(cluster.server).toBe('http://127.0.0.1:1');
    expect(cluster.kubeConfig.getContexts().map((c) => c.name)).toEqual(['fake', 'other']);
  });

  it('KUBECONFIG wins over the pod service account', () => {
    const dir = tempDir();
    const env = {
      KUBECONFIG: kubeconfig(dir, 'a', 'http://127.0.0.1:1'),
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    };
    expect(ok(loadCluster(env, noHome(), serviceAccountDir())).source).toBe('kubeconfig');
  });

  it('the service account wins over ~/.kube/config', () => {
    const home = tempDir();
    kubeconfig(path.join(home, '.kube'), 'config', 'http://127.0.0.1:1');
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(ok(loadCluster(env, home, serviceAccountDir()))).toMatchObject({
      source: 'in-cluster',
      server: 'https://10.0.0.1:443',
    });
  });

  it('~/.kube/config when nothing else is there', () => {
    const home = tempDir();
    kubeconfig(path.join(home, '.kube'), 'config', 'http://127.0.0.1:3');
    expect(ok(loadCluster({}, home, tempDir()))).toMatchObject({
      source: 'kubeconfig',
      server: 'http://127.0.0.1:3',
    });
  });

  it('an empty KUBECONFIG counts as unset', () => {
    const home = tempDir();
    kubeconfig(path.join(home, '.kube'), 'config', 'http://127.0.0.1:3');
    expect(ok(loadCluster({ KUBECONFIG: '' }, home, tempDir())).server).toBe('http://127.0.0.1:3');
  });

  it.each([
    { name: 'an IPv6 host is bracketed', host: 'fd00::1', port: '443', server: 'https://[fd00::1]:443' },
    { name: 'port 8080 is plain http', host: '10.0.0.1', port: '8080', server: 'http://10.0.0.1:8080' },
  ])('in-cluster: $name', ({ host, port, server }) => {
    const env = { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port };
    expect(ok(loadCluster(env, noHome(), serviceAccountDir())).server).toBe(server);
  });

  it('a token file without KUBERNETES_SERVICE_HOST is not a cluster', () => {
    expect(loadCluster({}, noHome(), serviceAccountDir()).ok).toBe(false);
  });
});

describe('start-up messages', () => {
  it('nothing found: says what was looked for and offers --dry-run', () => {
    const home = tempDir();
    const result = loadCluster({}, home, path.join(home, 'no-service-account'));
    expect(result.ok).toBe(false);
    const message = (result as { message: string }).message;
    expect(message).toContain('no Kubernetes cluster configuration found');
    expect(message).toContain(path.join(home, '.kube', 'config'));
    expect(message).toContain('Run inside a cluster, set KUBECONFIG, or use --dry-run.');
  });

  it('a KUBECONFIG file that does not exist is named', () => {
    const missing = path.join(tempDir(), 'missing');
    const result = loadCluster({ KUBECONFIG: missing }, noHome());
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining(`KUBECONFIG=${missing}`) });
    expect((result as { message: string }).message).toMatch(/ENOENT/);
  });

  it('a current-context that names no context', () => {
    const file = kubeconfig(tempDir(), 'a', 'http://127.0.0.1:1');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    config['current-context'] = 'gone';
    fs.writeFileSync(file, JSON.stringify(config));
    expect(loadCluster({ KUBECONFIG: file }, noHome())).toEqual({
      ok: false,
      message: `${file}: current-context gone names no cluster`,
    });
  });

  it('plain http without insecure-skip-tls-verify (client-node would throw on every request)', () => {
    const file = kubeconfig(tempDir(), 'a', 'http://127.0.0.1:1');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete config.clusters[0].cluster['insecure-skip-tls-verify'];
    fs.writeFileSync(file, JSON.stringify(config));
    expect(loadCluster({ KUBECONFIG: file }, noHome())).toMatchObject({
      ok: false,
      message: expect.stringContaining('plain HTTP'),
    });
  });

  it('an unreadable certificate-authority file', () => {
    const dir = tempDir();
    const file = kubeconfig(dir, 'a', 'https://127.0.0.1:1');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    config.clusters[0].cluster = {
      server: 'https://127.0.0.1:1',
      'certificate-authority': path.join(dir, 'nope.crt'),
    };
    fs.writeFileSync(file, JSON.stringify(config));
    expect(loadCluster({ KUBECONFIG: file }, noHome())).toMatchObject({
      ok: false,
      message: expect.stringContaining(`cannot read certificate-authority ${path.join(dir, 'nope.crt')}`),
    });
  });
});

describe('in-cluster end to end', () => {
  it('creates over https with the mounted CA and the token from the token file', async () => {
    const tls = {
      key: fs.readFileSync(path.join(TLS_DIR, 'key.pem')),
      cert: fs.readFileSync(path.join(TLS_DIR, 'cert.pem')),
    };
    const fake = await startFakeKube({
      namespaces: ['ci'],
      tls,
      tokens: { 'pod-token': 'system:serviceaccount:gw:gw' },
    });
    cleanups.push(() => fake.close());
    const port = new URL(fake.url).port;
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port };
    const cluster = ok(loadCluster(env, noHome(), serviceAccountDir('pod-token')));
    const create = makeCreate(cluster);
    cleanups.push(() => create.close());
    const result = await create({
      object: {
        apiVersion: 'tekton.dev/v1',
        kind: 'TaskRun',
        metadata: { generateName: 't-' },
        spec: { taskRef: { name: 'x' } },
      },
      group: 'tekton.dev',
      version: 'v1',
      plural: 'taskruns',
      namespace: 'ci',
      impersonate: undefined,
      dryRun: false,
      deadline: Date.now() + 5_000,
    });
    expect(result.kind).toBe('created');
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer pod-token');
  });
});
