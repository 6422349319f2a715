// The lean Kubernetes client over real HTTP: against the fake API (auth from a real kubeconfig, keep-alive,
// impersonation, Status answers) and against small loopback servers of our own for what the fake does not
// serve (watch streams cut at awkward places, slow and oversized answers, query strings, headers).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '../../src/kube/client-node.js';
import {
  KubeAbortError,
  KubeNetworkError,
  KubeProtocolError,
  KubeStatusError,
  jsonLines,
  kubeClientFromConfig,
  type LeanKubeClient,
} from '../../src/kube/client.js';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function clientFor(kubeconfigPath: string): LeanKubeClient {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const client = kubeClientFromConfig(kubeConfig);
  cleanup.push(() => client.close());
  return client;
}

async function fake(options: Parameters<typeof startFakeKube>[0] = {}): Promise<FakeKube> {
  const server = await startFakeKube({ namespaces: ['ci'], ...options });
  cleanup.push(() => server.close());
  return server;
}

/** A loopback server answering with `handler`; returns a client pointed at it through a kubeconfig. */
async function loopback(
  handler: http.RequestListener,
  user: Record<string, unknown> = { token: 'loop-token' },
): Promise<{ client: LeanKubeClient; requests: http.IncomingMessage[]; bodies: string[] }> {
  const requests: http.IncomingMessage[] = [];
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: 'loop',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'loop', ...user }],
    contexts: [{ name: 'loop', cluster: 'loop', user: 'loop' }],
    currentContext: 'loop',
  });
  const client = kubeClientFromConfig(kubeConfig);
  cleanup.push(() => client.close());
  return { client, requests, bodies };
}

const RUN = {
  apiVersion: 'tekton.dev/v1',
  kind: 'PipelineRun',
  metadata: { generateName: 'build-' },
  spec: { pipelineRef: { name: 'build' } },
};
const RUNS = '/apis/tekton.dev/v1/namespaces/ci/pipelineruns';

describe('request() against the fake API', () => {
  it('creates with the kubeconfig token, JSON body and query; parses the 201', async () => {
    const api = await fake();
    const client = clientFor(api.kubeconfigPath);
    const answer = await client.request({
      method: 'POST',
      path: RUNS,
      query: { fieldManager: 'lean', dryRun: undefined },
      body: RUN,
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      kind: 'PipelineRun',
      metadata: { name: expect.stringMatching(/^build-/) },
    });
    expect(api.objects()).toHaveLength(1);
    expect(api.requests[0]!.headers['authorization']).toMatch(/^Bearer /);
    expect(api.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('returns HTTP errors as their status and parsed Status body, without throwing', async () => {
    const api = await fake();
    const client = clientFor(api.writeKubeconfig('stale', { token: 'revoked' }));
    const answer = await client.request({ method: 'POST', path: RUNS, body: RUN });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ kind: 'Status', code: 401, message: 'Unauthorized' });
  });

  it('impersonates per request: the API authorizes the impersonated account', async () => {
    const runner = 'system:serviceaccount:ci:runner';
    const api = await fake({
      impersonation: { 'system:serviceaccount:tekton-gateway:tekton-gateway': [runner] },
      rbac: [{ user: runner, namespace: 'ci', resource: 'pipelineruns' }],
    });
    const client = clientFor(api.kubeconfigPath);
    expect(
      (await client.request({ method: 'POST', path: RUNS, body: RUN, impersonate: runner })).status,
    ).toBe(201);
    expect(api.requests[0]!.headers['impersonate-user']).toBe(runner);
    // The gateway's own account has no create right: the header really changed who asked.
    expect((await client.request({ method: 'POST', path: RUNS, body: RUN })).status).toBe(403);
  });

  it('reuses one keep-alive connection', async () => {
    const api = await fake();
    const client = clientFor(api.kubeconfigPath);
    for (let i = 0; i < 5; i++)
      expect((await client.request({ method: 'POST', path: RUNS, body: RUN })).status).toBe(201);
    expect(api.connections()).toBe(1);
  });
});

describe('request() on the wire', () => {
  it('appends the path to the server URL path, encodes the query, sends extra headers and the content type', async () => {
    const { client, requests, bodies } = await loopback((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const answer = await client.request({
      method: 'PATCH',
      path: '/apis/tekton.dev/v1/namespaces/ci/pipelineruns/a',
      query: { labelSelector: 'a=b,c in (d)', skipped: undefined },
      body: { metadata: { labels: { x: 'y' } } },
      contentType: 'application/merge-patch+json',
      headers: { traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01' },
    });
    expect(answer).toMatchObject({ status: 200, body: { ok: true } });
    const sent = requests[0]!;
    expect(sent.url).toBe(
      '/prefix/apis/tekton.dev/v1/namespaces/ci/pipelineruns/a?labelSelector=a%3Db%2Cc+in+%28d%29',
    );
    expect(sent.method).toBe('PATCH');
    expect(sent.headers['content-type']).toBe('application/merge-patch+json');
    expect(sent.headers['traceparent']).toMatch(/^00-/);
    expect(sent.headers['authorization']).toBe('Bearer loop-token');
    expect(JSON.parse(bodies[0]!)).toEqual({ metadata: { labels: { x: 'y' } } });
  });

  it('basic auth and the kubeconfig `as:` from the user', async () => {
    const { client, requests } = await loopback((_req, res) => res.end(), {
      username: 'alice',
      password: 's3cret',
      impersonateUser: 'bob',
    });
    await client.request({ method: 'GET', path: '/version' });
    expect(requests[0]!.headers['authorization']).toBe(
      `Basic ${Buffer.from('alice:s3cret').toString('base64')}`,
    );
    expect(requests[0]!.headers['impersonate-user']).toBe('bob');
  });

  it('a body that is not JSON comes back as text', async () => {
    const { client } = await loopback((_req, res) => res.writeHead(404).end('404 page not found\n'));
    expect(await client.request({ method: 'GET', path: '/nope' })).toMatchObject({
      status: 404,
      body: '404 page not found\n',
    });
  });

  it('timeoutMs → KubeAbortError that says it timed out', async () => {
    const { client } = await loopback(() => undefined);
    const error = await client
      .request({ method: 'GET', path: '/slow', timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeAbortError);
    expect(error).toMatchObject({ name: 'AbortError', timedOut: true });
  });

  it('a timeout in the middle of the body is still a timeout', async () => {
    const { client } = await loopback((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items":[');
    });
    const error = await client
      .request({ method: 'GET', path: '/half', timeoutMs: 150 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', timedOut: true });
  });

  it('an aborted signal → KubeAbortError, not timed out', async () => {
    const { client } = await loopback(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await client
      .request({ method: 'GET', path: '/x', signal: controller.signal })
      .catch((e) => e);
    expect(error).toMatchObject({ name: 'AbortError', timedOut: false });
  });

  it('a refused connection → KubeNetworkError with ECONNREFUSED', async () => {
    const api = await fake();
    const client = clientFor(api.kubeconfigPath);
    await api.close();
    const error = await client.request({ method: 'GET', path: '/version' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeNetworkError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a connection reset mid-body → KubeNetworkError', async () => {
    const { client } = await loopback((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items":[');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const error = await client.request({ method: 'GET', path: '/reset' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeNetworkError);
  });

  it('an answer over the size bound → KubeProtocolError', async () => {
    const { client } = await loopback((_req, res) => res.end('x'.repeat(10_000)));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: client.server, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const small = kubeClientFromConfig(kubeConfig, { maxResponseBytes: 1_000 });
    cleanup.push(() => small.close());
    await expect(small.request({ method: 'GET', path: '/big' })).rejects.toBeInstanceOf(KubeProtocolError);
  });

  it('close() ends a request in flight and refuses new ones', async () => {
    const { client } = await loopback(() => undefined);
    const pending = client.request({ method: 'GET', path: '/hang' }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.close();
    expect(await pending).toBeInstanceOf(KubeAbortError);
    await expect(client.request({ method: 'GET', path: '/x' })).rejects.toBeInstanceOf(KubeAbortError);
  });

  it('credentials that cannot be obtained → KubeAuthError, nothing sent', async () => {
    const { client, requests } = await loopback((_req, res) => res.end(), {
      authProvider: { name: 'tokenFile', config: { tokenFile: '/nonexistent/token' } },
    });
    const error = await client.request({ method: 'GET', path: '/version' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'KubeAuthError' });
    expect(String((error as Error).message)).toMatch(/^cannot obtain Kubernetes credentials: /);
    expect(requests).toHaveLength(0);
  });
});

describe('watch()', () => {
  const events = [
    { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '1' } } },
    { type: 'MODIFIED', object: { metadata: { name: 'ä-ü', resourceVersion: '2' } } },
    { type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } },
  ];

  it('yields each JSON line, however the chunks cut them (also inside a UTF-8 character)', async () => {
    const stream = Buffer.from(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const { client, requests } = await loopback(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // One byte at a time for the first 80 bytes (cuts "ä" in half), then the rest in 2 pieces.
      for (let i = 0; i < 80; i++) {
        res.write(stream.subarray(i, i + 1));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.write(stream.subarray(80, 120));
      res.end(stream.subarray(120));
    });
    const seen: unknown[] = [];
    for await (const event of client.watch({
      method: 'GET',
      path: RUNS,
      query: { labelSelector: 'x=y', resourceVersion: '0' },
    })) {
      seen.push(event);
    }
    expect(seen).toEqual(events);
    expect(requests[0]!.url).toBe(`/prefix${RUNS}?labelSelector=x%3Dy&resourceVersion=0&watch=1`);
  });

  it('a refused watch → KubeStatusError with the status and body', async () => {
    const { client } = await loopback((_req, res) =>
      res
        .writeHead(403, { 'content-type': 'application/json' })
        .end('{"kind":"Status","message":"forbidden!"}'),
    );
    const error = await (async () => {
      for await (const _ of client.watch({ method: 'GET', path: RUNS })) void _;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeStatusError);
    expect(error).toMatchObject({
      response: { status: 403 },
      message: 'the Kubernetes API answered 403: forbidden!',
    });
  });

  it('stopping early releases the stream; aborting throws', async () => {
    let closed = false;
    const { client } = await loopback((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify(events[0]) + '\n');
      req.socket.on('close', () => (closed = true));
    });
    for await (const event of client.watch({ method: 'GET', path: RUNS })) {
      expect(event).toEqual(events[0]);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toBe(true);

    const controller = new AbortController();
    const error = await (async () => {
      for await (const _ of client.watch({ method: 'GET', path: RUNS, signal: controller.signal })) {
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeAbortError);
  });

  it('a line that is not JSON, or too long, is a protocol error', async () => {
    const lines = async function* (parts: string[]) {
      for (const part of parts) yield Buffer.from(part);
    };
    const collect = async (parts: string[], max = 1_000) => {
      const out: unknown[] = [];
      for await (const e of jsonLines(lines(parts), max)) out.push(e);
      return out;
    };
    expect(await collect(['{"a":1}\n\n', '{"b"', ':2}'])).toEqual([{ a: 1 }, { b: 2 }]);
    await expect(collect(['{"a":1}\nnot json\n'])).rejects.toBeInstanceOf(KubeProtocolError);
    await expect(collect(['{"a":"' + 'x'.repeat(2_000)])).rejects.toBeInstanceOf(KubeProtocolError);
  });
});
