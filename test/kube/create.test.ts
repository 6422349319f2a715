// makeCreate against the fake API server over real HTTP, reached through a real kubeconfig file named by
// KUBECONFIG: every mapping from an API answer to a CreateResult, the retry policy, and the connection
// handling (keep-alive agent, impersonation header, deadline).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCluster, makeCreate, type CreateOptions } from '../../src/kube/create.js';
import type { CreateRequest, CreateResult, JsonObject } from '../../src/model.js';
import { startFakeKube, type FakeKube, type FakeKubeOptions } from '../fake-kube/server.js';

const TLS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fake-kube', 'tls');
const GATEWAY = 'system:serviceaccount:tekton-gateway:tekton-gateway';
const RUNNER = 'system:serviceaccount:ci:runner';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  readonly fake: FakeKube;
  readonly create: ReturnType<typeof makeCreate>;
  /** onRequest codes, one per HTTP attempt. */
  readonly codes: (number | 'error')[];
}

async function setup(
  options: FakeKubeOptions = {},
  createOptions: CreateOptions = {},
  kubeconfig?: (fake: FakeKube) => string,
): Promise<Setup> {
  const fake = await startFakeKube({ namespaces: ['ci'], ...options });
  cleanups.push(() => fake.close());
  const loaded = loadCluster({ KUBECONFIG: kubeconfig ? kubeconfig(fake) : fake.kubeconfigPath });
  if (!loaded.ok) throw new Error(loaded.message);
  const codes: (number | 'error')[] = [];
  const create = makeCreate(loaded.cluster, { ...createOptions, onRequest: (e) => codes.push(e.code) });
  cleanups.push(() => create.close());
  return { fake, create, codes };
}

function pipelineRun(metadata: JsonObject = { generateName: 'build-' }): JsonObject {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata,
    spec: { pipelineRef: { name: 'build' } },
  };
}

function request(overrides: Partial<CreateRequest> = {}): CreateRequest {
  return {
    object: pipelineRun(),
    group: 'tekton.dev',
    version: 'v1',
    plural: 'pipelineruns',
    namespace: 'ci',
    impersonate: undefined,
    dryRun: false,
    deadline: Date.now() + 5_000,
    ...overrides,
  };
}

function nameOf(result: CreateResult): string {
  if (result.kind !== 'created') throw new Error(`expected created, got ${JSON.stringify(result)}`);
  return (result.object['metadata'] as { name: string }).name;
}

describe('201 → created', () => {
  it('returns the object the API returned and stores it once', async () => {
    const { fake, create } = await setup();
    const result = await create(request());
    expect(nameOf(result)).toMatch(/^build-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(fake.objects()).toEqual([(result as { object: JsonObject }).object]);
  });

  it('sends POST with fieldManager=tekton-gateway, fieldValidation=Strict and the bearer token', async () => {
    const { fake, create } = await setup();
    const result = await create(request());
    const [sent] = fake.requests;
    expect(sent).toMatchObject({ method: 'POST', path: '/apis/tekton.dev/v1/namespaces/ci/pipelineruns' });
    expect(Object.fromEntries(sent!.query)).toEqual({
      fieldManager: 'tekton-gateway',
      fieldValidation: 'Strict',
    });
    expect(sent!.headers.authorization).toBe('Bearer test-token');
    expect(sent!.headers['impersonate-user']).toBeUndefined();
    expect(JSON.parse(sent!.body)).toEqual(pipelineRun());
    expect(result).toMatchObject({
      kind: 'created',
      object: { metadata: { managedFields: [{ manager: 'tekton-gateway' }] } },
    });
  });

  it('uses the fieldManager it is given', async () => {
    const { fake, create } = await setup({}, { fieldManager: 'gateway-test' });
    const result = await create(request());
    expect(fake.requests[0]!.query.get('fieldManager')).toBe('gateway-test');
    expect(result).toMatchObject({ object: { metadata: { managedFields: [{ manager: 'gateway-test' }] } } });
  });

  it('dryRun sends dryRun=All: the answer has a uid, nothing is stored', async () => {
    const { fake, create } = await setup();
    const result = await create(request({ dryRun: true }));
    expect(fake.requests[0]!.query.get('dryRun')).toBe('All');
    expect(result).toMatchObject({ kind: 'created', object: { metadata: { uid: expect.any(String) } } });
    expect(fake.objects()).toEqual([]);
  });
});

describe('409 AlreadyExists', () => {
  it('on a fixed metadata.name → exists', async () => {
    const { create } = await setup();
    const object = pipelineRun({ name: 'build-abc' });
    expect((await create(request({ object }))).kind).toBe('created');
    expect(await create(request({ object }))).toEqual({ kind: 'exists', afterLostAttempt: false });
  });

  it('on a fixed name in a dry run → exists too', async () => {
    const { create } = await setup();
    const object = pipelineRun({ name: 'build-abc' });
    await create(request({ object }));
    expect(await create(request({ object, dryRun: true }))).toEqual({
      kind: 'exists',
      afterLostAttempt: false,
    });
  });

  it('after generateName ran out of names → refused 409, not exists', async () => {
    const { create } = await setup({ random: () => 0 });
    await create(request());
    expect(await create(request())).toEqual({
      kind: 'refused',
      code: 409,
      message:
        'pipelineruns.tekton.dev "build-bbbbb" already exists, the server was not able to generate a unique name for the object',
    });
  });
});

describe('other 4xx → refused with the Status message', () => {
  it.each([
    {
      name: "400 from Tekton's webhook (name over 63)",
      object: pipelineRun({ name: 'n'.repeat(64) }),
      code: 400,
      message:
        'admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: validation failed: Invalid resource name: length must be no more than 63 characters: metadata.name',
    },
    {
      name: '400 for an unknown field (fieldValidation=Strict)',
      object: { ...pipelineRun(), spek: {} },
      code: 400,
      message:
        'PipelineRun in version "v1" cannot be handled as a PipelineRun: strict decoding error: unknown field "spek"',
    },
    {
      name: '400 for an apiVersion that does not match the URL',
      object: { ...pipelineRun(), apiVersion: 'tekton.dev/v1beta1' },
      code: 400,
      message:
        'the API version in the data (tekton.dev/v1beta1) does not match the expected API version (tekton.dev/v1)',
    },
    {
      name: '404 for an unknown namespace',
      namespace: 'nope',
      code: 404,
      message: 'namespaces "nope" not found',
    },
    {
      name: '404 in plain text for an unknown resource',
      plural: 'pipelinerunz',
      code: 404,
      message: '404 page not found',
    },
    {
      name: '422 for an invalid label',
      object: pipelineRun({ name: 'build-1', labels: { app: 'a b' } }),
      code: 422,
      message:
        "PipelineRun.tekton.dev \"build-1\" is invalid: metadata.labels: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    },
    {
      name: '422 for neither name nor generateName',
      object: pipelineRun({}),
      code: 422,
      message:
        'PipelineRun.tekton.dev "" is invalid: metadata.name: Required value: name or generateName is required',
    },
  ])('$name', async ({ object, namespace, plural, code, message }) => {
    const { fake, create, codes } = await setup();
    const result = await create(
      request({
        object: object ?? pipelineRun(),
        namespace: namespace ?? 'ci',
        plural: plural ?? 'pipelineruns',
      }),
    );
    expect(result).toEqual({ kind: 'refused', code, message });
    // A refusal is final: one request, never retried.
    expect([fake.requests.length, codes]).toEqual([1, [code]]);
  });

  it('401 without a token', async () => {
    const { create } = await setup({}, {}, (fake) => fake.writeKubeconfig('anonymous', { token: null }));
    expect(await create(request())).toEqual({ kind: 'refused', code: 401, message: 'Unauthorized' });
  });

  it('401 with a token the server does not know', async () => {
    const { create } = await setup({}, {}, (fake) => fake.writeKubeconfig('stale', { token: 'revoked' }));
    expect(await create(request())).toEqual({ kind: 'refused', code: 401, message: 'Unauthorized' });
  });

  it('403 from RBAC', async () => {
    const { create } = await setup({ rbac: [{ user: '*', namespace: 'elsewhere', resource: '*' }] });
    expect(await create(request())).toEqual({
      kind: 'refused',
      code: 403,
      message: `pipelineruns.tekton.dev is forbidden: User "${GATEWAY}" cannot create resource "pipelineruns" in API group "tekton.dev" in the namespace "ci"`,
    });
  });

  it('never carries the response headers that ApiException.message embeds', async () => {
    const { create } = await setup();
    const result = await create(request({ namespace: 'nope' }));
    expect(JSON.stringify(result)).not.toMatch(/content-type|Headers|HTTP-Code/i);
  });
});

describe('impersonation', () => {
  it('sends Impersonate-User, and the API authorizes the impersonated account', async () => {
    const { fake, create } = await setup({
      impersonation: { [GATEWAY]: [RUNNER] },
      rbac: [{ user: RUNNER, namespace: 'ci', resource: 'pipelineruns' }],
    });
    expect((await create(request({ impersonate: RUNNER }))).kind).toBe('created');
    expect(fake.requests[0]!.headers['impersonate-user']).toBe(RUNNER);
    // The gateway's own account has no create right here: the header really changed who created it.
    expect(await create(request())).toMatchObject({ kind: 'refused', code: 403 });
  });

  it('a service account the gateway may not impersonate → refused 403', async () => {
    const { create } = await setup({ impersonation: { [GATEWAY]: ['system:serviceaccount:ci:other'] } });
    expect(await create(request({ impersonate: RUNNER }))).toEqual({
      kind: 'refused',
      code: 403,
      message: `serviceaccounts "runner" is forbidden: User "${GATEWAY}" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ci"`,
    });
  });

  it('a kubeconfig `as:` applies when the request names nobody', async () => {
    const { fake, create } = await setup({ impersonation: { [GATEWAY]: ['*'] } }, {}, (f) =>
      f.writeKubeconfig('as', { token: 'test-token', as: RUNNER }),
    );
    await create(request());
    expect(fake.requests[0]!.headers['impersonate-user']).toBe(RUNNER);
  });
});

describe('transient failures are retried inside the deadline', () => {
  it('429 with Retry-After, then success: waits as told and creates once', async () => {
    const { fake, create, codes } = await setup({
      faults: { errorRate: 1, status: 429, retryAfter: 1, times: 1 },
    });
    const started = Date.now();
    const result = await create(request());
    expect(result.kind).toBe('created');
    expect(codes).toEqual([429, 201]);
    expect(fake.objects()).toHaveLength(1);
    // Timers never fire early, so this lower bound cannot flake.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('429 as a Status body (webhooks, eviction) is retried the same way', async () => {
    const { create, codes } = await setup({
      faults: { errorRate: 1, status: 429, retryAfter: 1, statusJson: true, times: 1 },
    });
    expect((await create(request())).kind).toBe('created');
    expect(codes).toEqual([429, 201]);
  });

  it.each([500, 502, 503, 504] as const)('%i twice, then success', async (status) => {
    const { create, codes } = await setup({ faults: { errorRate: 1, status, times: 2 } });
    expect((await create(request())).kind).toBe('created');
    expect(codes).toEqual([status, status, 201]);
  });

  it('503 forever → unavailable with the API Retry-After, answered before the deadline', async () => {
    // A wide margin keeps the deadline assertion safe from event-loop lag on a loaded machine.
    const { create, codes } = await setup(
      { faults: { errorRate: 1, status: 503, retryAfter: 1 } },
      { marginMs: 400 },
    );
    const deadline = Date.now() + 3_000;
    const result = await create(request({ deadline }));
    expect(result).toMatchObject({ kind: 'unavailable', retryAfterSeconds: 1 });
    expect((result as { message: string }).message).toMatch(
      /^the Kubernetes API answered 503: the server is currently unable to handle the request \(\d attempts\)$/,
    );
    expect(codes.length).toBeGreaterThanOrEqual(2);
    expect(codes.every((c) => c === 503)).toBe(true);
    expect(Date.now()).toBeLessThanOrEqual(deadline);
  });

  it('500 forever without Retry-After → several backed-off attempts, no retryAfterSeconds', async () => {
    const { create, codes } = await setup({ faults: { errorRate: 1, status: 500 } }, { marginMs: 400 });
    const deadline = Date.now() + 2_000;
    const result = await create(request({ deadline }));
    expect(result).toMatchObject({ kind: 'unavailable', retryAfterSeconds: undefined });
    expect(codes.length).toBeGreaterThanOrEqual(3);
    expect(Date.now()).toBeLessThanOrEqual(deadline);
  });

  it('a Retry-After longer than the time left ends the retries at once', async () => {
    const { fake, create } = await setup({ faults: { errorRate: 1, status: 429, retryAfter: 30 } });
    const deadline = Date.now() + 4_000;
    const result = await create(request({ deadline }));
    expect(result).toMatchObject({ kind: 'unavailable', retryAfterSeconds: 30 });
    expect(fake.requests).toHaveLength(1);
    // It did not sit out the time it had: generous bound, the answer came back long before the deadline.
    expect(Date.now()).toBeLessThan(deadline - 2_000);
  });

  it('a connection reset is retried', async () => {
    const { fake, create, codes } = await setup({ faults: { resetRate: 1, times: 1 } });
    expect((await create(request())).kind).toBe('created');
    expect(codes).toEqual(['error', 201]);
    expect(fake.objects()).toHaveLength(1);
  });

  it('a reset after the object was stored: the retry of a fixed name finds it → exists after a lost attempt', async () => {
    const { fake, create } = await setup({ faults: { resetRate: 1, resetAfterStore: true, times: 1 } });
    expect(await create(request({ object: pipelineRun({ name: 'build-abc' }) }))).toEqual({
      kind: 'exists',
      afterLostAttempt: true,
    });
    expect(fake.objects()).toHaveLength(1);
  });

  it.each([
    { name: 'a 500', fault: { status: 500 as const }, lost: true },
    { name: 'a 504', fault: { status: 504 as const }, lost: true },
    // Priority-and-fairness answers 429 before the request is handled: it stored nothing.
    { name: 'a 429', fault: { status: 429 as const, retryAfter: 1 }, lost: false },
  ])('exists after $name: afterLostAttempt is $lost', async ({ fault, lost }) => {
    const object = pipelineRun({ name: 'build-abc' });
    const { fake, create } = await setup();
    expect((await create(request({ object }))).kind).toBe('created');
    let calls = 0;
    fake.setFaults({ choose: () => (++calls === 1 ? fault : undefined) });
    expect(await create(request({ object }))).toEqual({ kind: 'exists', afterLostAttempt: lost });
    expect(calls).toBe(2);
  });

  it('an API that does not answer → unavailable when the deadline comes, not later', async () => {
    const { create, codes } = await setup({ faults: { latencyMs: 20_000 } }, { marginMs: 400 });
    const deadline = Date.now() + 1_000;
    const result = await create(request({ deadline }));
    expect(result).toEqual({
      kind: 'unavailable',
      message: 'the Kubernetes API did not answer in time (1 attempt)',
      retryAfterSeconds: undefined,
    });
    expect(codes).toEqual(['error']);
    expect(Date.now()).toBeLessThanOrEqual(deadline);
  });

  it('a server that is gone → unavailable after retrying the connection', async () => {
    const { fake, create, codes } = await setup();
    await fake.close();
    const deadline = Date.now() + 1_500;
    const result = await create(request({ deadline }));
    expect(result.kind).toBe('unavailable');
    expect((result as { message: string }).message).toMatch(
      /^cannot reach the Kubernetes API: .*ECONNREFUSED/,
    );
    expect(codes.length).toBeGreaterThanOrEqual(2);
    expect(codes.every((c) => c === 'error')).toBe(true);
  });

  it('a deadline already past sends nothing', async () => {
    const { fake, create } = await setup();
    const result = await create(request({ deadline: Date.now() - 1 }));
    expect(result).toEqual({
      kind: 'unavailable',
      message: 'no time left before the deadline',
      retryAfterSeconds: undefined,
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('jitter comes from the random source: with 0 the backoff waits are the floor of each step', async () => {
    // 100 ms base doubling, equal jitter: waits 50, 100, 200 ms with random() = 0.
    const { create, codes } = await setup(
      { faults: { errorRate: 1, status: 503, times: 3 } },
      { random: () => 0 },
    );
    const started = Date.now();
    expect((await create(request())).kind).toBe('created');
    expect(codes).toEqual([503, 503, 503, 201]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(340);
  });
});

describe('connections', () => {
  it('keeps one keep-alive connection across many creates', async () => {
    const { fake, create } = await setup();
    for (let i = 0; i < 10; i++) expect((await create(request())).kind).toBe('created');
    expect(fake.requests.map((r) => r.connection)).toEqual(Array(10).fill(1));
    expect(fake.connections()).toBe(1);
    expect(fake.requests[0]!.headers.connection).not.toBe('close');
  });

  it('https with the cluster CA from the kubeconfig, on one connection', async () => {
    const tls = {
      key: fs.readFileSync(path.join(TLS_DIR, 'key.pem')),
      cert: fs.readFileSync(path.join(TLS_DIR, 'cert.pem')),
    };
    const { fake, create } = await setup({ tls });
    expect(fake.url.startsWith('https://')).toBe(true);
    for (let i = 0; i < 3; i++) expect((await create(request())).kind).toBe('created');
    expect(fake.connections()).toBe(1);
  });

  it('https with a certificate the kubeconfig does not trust → unavailable, nothing created', async () => {
    const tls = {
      key: fs.readFileSync(path.join(TLS_DIR, 'key.pem')),
      cert: fs.readFileSync(path.join(TLS_DIR, 'cert.pem')),
    };
    const { fake, create } = await setup({ tls }, {}, (f) => {
      // The same server, but a kubeconfig whose CA is some other certificate.
      const file = f.writeKubeconfig('untrusted', { token: 'test-token' });
      const config = JSON.parse(fs.readFileSync(file, 'utf8'));
      config.clusters[0].cluster['certificate-authority-data'] = fs
        .readFileSync(path.join(TLS_DIR, 'other-ca.pem'))
        .toString('base64');
      fs.writeFileSync(file, JSON.stringify(config));
      return file;
    });
    const result = await create(request({ deadline: Date.now() + 1_000 }));
    expect(result.kind).toBe('unavailable');
    expect(fake.objects()).toEqual([]);
  });

  it('close() ends a request in flight and refuses new ones', async () => {
    const { fake, create } = await setup({ faults: { latencyMs: 20_000 } });
    const pending = create(request({ deadline: Date.now() + 10_000 }));
    while (fake.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    create.close();
    expect(await pending).toMatchObject({ kind: 'unavailable', message: 'the Kubernetes client was closed' });
    expect(await create(request())).toMatchObject({
      kind: 'unavailable',
      message: 'the Kubernetes client was closed',
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('close() also ends creates waiting out a backoff', async () => {
    const { create } = await setup({ faults: { errorRate: 1, status: 429, retryAfter: 2 } });
    const pending = create(request({ deadline: Date.now() + 10_000 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    create.close();
    expect(await pending).toMatchObject({ kind: 'unavailable', message: 'the Kubernetes client was closed' });
  });

  it('many creates backing off at once print no MaxListenersExceededWarning (a burst during an outage)', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    cleanups.push(() => process.off('warning', onWarning));
    const { create } = await setup({ faults: { errorRate: 1, status: 503, times: 30 } });
    const results = await Promise.all(
      Array.from({ length: 30 }, () => create(request({ deadline: Date.now() + 5_000 }))),
    );
    expect(results.map((r) => r.kind)).toEqual(Array(30).fill('created'));
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
