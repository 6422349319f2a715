// What every created object carries so the gateway can later prove it made a run (contract §6, §12.0
// items 2 and 3): instance label, route and received-at annotations, the gateway's own names, the
// signature; and the load error for a template that tries to set any of it.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import type { CreateFn, CreateRequest, JsonObject, PipelineIO } from '../../src/model.js';
import { handleWebhook } from '../../src/pipeline/handle.js';
import {
  hasValidSignature,
  instanceLabel,
  isReservedKey,
  runSignature,
} from '../../src/pipeline/run-stamp.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const ROUTES = (deliveryHeader: string) => `apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci}
routes:
  - path: /hook
    provider: none
${deliveryHeader}
    triggers:
      - name: build
        template:
          resourcetemplates:
            - apiVersion: tekton.dev/v1
              kind: PipelineRun
              metadata: {generateName: build-, labels: {team: a}, annotations: {note: x}}
              spec: {pipelineRef: {name: b}}
`;

async function deliver(create: CreateFn | undefined, options: { dedupe?: boolean; instance?: string } = {}) {
  const loaded = loadConfigBytes(
    Buffer.from(ROUTES(options.dedupe ? '    deliveryHeader: X-Delivery' : '')),
    'routes.yaml',
    {},
  );
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const io: PipelineIO = {
    now: () => Date.parse('2026-12-02T12:00:00.500Z'),
    randomUUID: () => 'uuid',
    secrets: () => undefined,
    create,
    serverDryRun: false,
    skipVerify: true,
    deadline: Date.now() + 5_000,
    trace: undefined,
    stateKey: KEY,
    instance: options.instance,
    receivedAt: Date.parse('2026-12-02T11:59:59.123Z'),
  };
  const headers = { 'content-type': ['application/json'], 'x-delivery': ['d-1'] };
  const body = Buffer.from('{}');
  const route = loaded.config.routes[0]!;
  return handleWebhook(
    loaded.config,
    route,
    { method: 'POST', path: '/hook', requestURL: '/hook', headers, body },
    io,
  );
}

function rendered(result: Awaited<ReturnType<typeof deliver>>): JsonObject {
  if (result.kind !== 'processed' || result.triggers[0]!.outcome !== 'rendered')
    throw new Error('not rendered');
  return result.triggers[0]!.objects[0]!;
}

describe('stamps at creation', () => {
  it('labels, annotations, a name of 10 random [a-z0-9] and a signature that verifies', async () => {
    const object = rendered(await deliver(undefined, { instance: 'tekton.gw' }));
    const metadata = object.metadata as Record<string, any>;
    expect(metadata.generateName).toBeUndefined();
    expect(metadata.name).toMatch(/^build-[a-z0-9]{10}$/);
    expect(metadata.labels).toMatchObject({ team: 'a', 'tekton-gateway.dev/instance': 'tekton.gw' });
    expect(metadata.annotations).toMatchObject({
      note: 'x',
      'tekton-gateway.dev/route': '/hook',
      'tekton-gateway.dev/received-at': '2026-12-02T11:59:59.123Z',
    });
    expect(hasValidSignature(object, KEY)).toBe('valid');
  });

  it('the signature is HMAC-SHA256 over [kind, namespace, name, sorted pairs] (§12.0 item 3), computed independently', async () => {
    const object = rendered(await deliver(undefined, { instance: 'tekton.gw' }));
    const m = object.metadata as Record<string, any>;
    const pairs = [
      ['app.kubernetes.io/managed-by', 'tekton-gateway'],
      ['tekton-gateway.dev/instance', 'tekton.gw'],
      ['tekton-gateway.dev/received-at', '2026-12-02T11:59:59.123Z'],
      ['tekton-gateway.dev/route', '/hook'],
      ['triggers.tekton.dev/eventlistener', 'gw'],
      ['triggers.tekton.dev/trigger', 'build'],
      ['triggers.tekton.dev/triggers-eventid', 'uuid'],
    ];
    const text = JSON.stringify(['PipelineRun', 'ci', m.name, pairs]);
    const expected = createHmac('sha256', KEY).update(text, 'utf8').digest('base64url');
    expect(m.annotations['tekton-gateway.dev/signature']).toBe(expected);
    expect(expected).not.toContain('=');
  });

  it.each([
    {
      name: 'a changed trigger label',
      change: (m: any) => (m.labels['triggers.tekton.dev/trigger'] = 'other'),
      want: 'wrong',
    },
    { name: 'another name', change: (m: any) => (m.name = 'build-aaaaaaaaaa'), want: 'wrong' },
    {
      name: 'a signature with padding',
      change: (m: any) => (m.annotations['tekton-gateway.dev/signature'] += '='),
      want: 'wrong',
    },
    {
      name: 'no signature',
      change: (m: any) => delete m.annotations['tekton-gateway.dev/signature'],
      want: 'missing',
    },
    {
      name: 'status-reported patched later',
      change: (m: any) => (m.annotations['tekton-gateway.dev/status-reported'] = 'running'),
      want: 'valid',
    },
    { name: 'a label of the user', change: (m: any) => (m.labels['team'] = 'b'), want: 'valid' },
  ])('verification: $name → $want', async ({ change, want }) => {
    const object = rendered(await deliver(undefined));
    change(object.metadata);
    expect(hasValidSignature(object, KEY)).toBe(want);
    expect(hasValidSignature(object, Buffer.from('another key of 16+ bytes'))).not.toBe('valid');
  });

  it('the fixed name of a dedupe key depends on the instance', async () => {
    const a = rendered(await deliver(undefined, { dedupe: true, instance: 'one.gw' }));
    const b = rendered(await deliver(undefined, { dedupe: true, instance: 'two.gw' }));
    const a2 = rendered(await deliver(undefined, { dedupe: true, instance: 'one.gw' }));
    const name = (o: JsonObject) => (o.metadata as Record<string, string>).name;
    expect(name(a)).toBe(name(a2));
    expect(name(a)).not.toBe(name(b));
  });

  it('a random name that is taken gets a new draw, signed again', async () => {
    const seen: CreateRequest[] = [];
    const create: CreateFn = (request) => {
      seen.push(request);
      return Promise.resolve(
        seen.length < 3
          ? { kind: 'exists', afterLostAttempt: false }
          : { kind: 'created', object: request.object },
      );
    };
    const result = await deliver(create);
    expect(result.kind === 'processed' && result.triggers[0]!.outcome).toBe('created');
    const names = seen.map((r) => (r.object.metadata as Record<string, string>).name);
    expect(new Set(names).size).toBe(3);
    for (const r of seen) expect(hasValidSignature(r.object, KEY)).toBe('valid');
  });

  it('a random name found after a lost attempt is this call’s own: created, no new draw', async () => {
    const seen: CreateRequest[] = [];
    const create: CreateFn = (request) => {
      seen.push(request);
      return Promise.resolve({ kind: 'exists', afterLostAttempt: true });
    };
    const result = await deliver(create);
    expect(result.kind === 'processed' && result.triggers[0]!.outcome).toBe('created');
    expect(seen).toHaveLength(1);
  });
});

describe('helpers', () => {
  it('instanceLabel: <namespace>.<name>, or a SHA-256 prefix when too long', () => {
    expect(instanceLabel('tekton', 'gw')).toBe('tekton.gw');
    const long = instanceLabel('n'.repeat(40), 'g'.repeat(40));
    expect(long).toMatch(/^[0-9a-f]{63}$/);
  });

  it.each([
    ['triggers.tekton.dev/trigger', true],
    ['app.kubernetes.io/managed-by', true],
    ['tekton-gateway.dev/anything', true],
    ['tekton.dev/pipeline', false],
    ['team', false],
  ])('isReservedKey(%s) = %s', (key, reserved) => {
    expect(isReservedKey(key)).toBe(reserved);
  });

  it('runSignature differs per key', () => {
    const object = { kind: 'TaskRun', metadata: { namespace: 'a', name: 'b' } };
    expect(runSignature(object, KEY)).not.toBe(runSignature(object, Buffer.from('x'.repeat(32))));
  });
});

describe('templates may not set the gateway’s keys', () => {
  it.each([
    ['labels', 'tekton-gateway.dev/instance'],
    ['labels', 'triggers.tekton.dev/trigger'],
    ['annotations', 'tekton-gateway.dev/signature'],
  ])('%s.%s → a load error with LINE:COL', (field, key) => {
    const text = `apiVersion: tekton-gateway/v1
routes:
  - path: /hook
    provider: none
    triggers:
      - name: t
        template:
          resourcetemplates:
            - apiVersion: tekton.dev/v1
              kind: PipelineRun
              metadata:
                generateName: x-
                ${field}:
                  ${key}: forged
              spec: {pipelineRef: {name: b}}
`;
    const loaded = loadConfigBytes(Buffer.from(text), 'routes.yaml', {});
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems).toEqual([
      `routes.yaml:14:${21 + key.length}: routes[0].triggers[0].template.resourcetemplates[0].metadata.${field}["${key}"]: ${key} is written by the gateway (contract §6, §12.0 item 3): a template may not set it`,
    ]);
  });
});

describe('status and concurrency stamps (§12.1, §12.3)', () => {
  const ROUTE = `apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci}
routes:
  - path: /gh
    provider: github
    secretRef: {secretName: s, secretKey: k}
    status: {tokenRef: {secretName: t, secretKey: k}}
    triggers:
      - name: pair
        concurrency: {key: "$(body.repository.full_name)", limit: 1}
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: build-}, spec: {pipelineRef: {name: b}}}
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: notify-}, spec: {taskRef: {name: n}}}
`;
  async function render(body: unknown) {
    const loaded = loadConfigBytes(Buffer.from(ROUTE), 'routes.yaml', {});
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    const io: PipelineIO = {
      now: Date.now,
      randomUUID: () => 'uuid',
      secrets: () => undefined,
      create: undefined,
      serverDryRun: false,
      skipVerify: true,
      deadline: Date.now() + 5_000,
      trace: undefined,
      stateKey: KEY,
    };
    const headers = {
      'content-type': ['application/json'],
      'x-github-event': ['push'],
      'x-github-delivery': ['d'],
    };
    const route = loaded.config.routes[0]!;
    const result = await handleWebhook(
      loaded.config,
      route,
      { method: 'POST', path: '/gh', requestURL: '/gh', headers, body: Buffer.from(JSON.stringify(body)) },
      io,
    );
    if (result.kind !== 'processed' || result.triggers[0]!.outcome !== 'rendered')
      throw new Error(JSON.stringify(result));
    return result.triggers[0]!.objects as unknown as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: Record<string, unknown>;
    }[];
  }

  it('writes repository, commit and one context per run; pending spec.status per kind; the group label; signed', async () => {
    const [pipelineRun, taskRun] = await render({
      after: 'f'.repeat(40),
      repository: { full_name: 'octo/app' },
    });
    expect(pipelineRun!.metadata.annotations).toMatchObject({
      'tekton-gateway.dev/status-repository': 'octo/app',
      'tekton-gateway.dev/status-commit': 'f'.repeat(40),
      'tekton-gateway.dev/status-context': 'gw/pair/build',
      'tekton-gateway.dev/concurrency-limit': '1',
    });
    expect(taskRun!.metadata.annotations['tekton-gateway.dev/status-context']).toBe('gw/pair/notify');
    expect(pipelineRun!.spec['status']).toBe('PipelineRunPending');
    expect(taskRun!.spec['status']).toBe('TaskRunPending');
    // The first 63 hex characters of SHA-256 of the rendered key.
    const group = createHash('sha256').update('octo/app').digest('hex').slice(0, 63);
    expect(pipelineRun!.metadata.labels['tekton-gateway.dev/concurrency']).toBe(group);
    expect(group).toMatch(/^[0-9a-f]{63}$/);
    expect(taskRun!.metadata.labels['tekton-gateway.dev/concurrency']).toBe(group);
    expect(hasValidSignature(pipelineRun as unknown as JsonObject, KEY)).toBe('valid');
  });

  it('an all-zero commit (a deleted branch) writes no status target', async () => {
    const [pipelineRun] = await render({ after: '0'.repeat(40), repository: { full_name: 'octo/app' } });
    expect(pipelineRun!.metadata.annotations['tekton-gateway.dev/status-commit']).toBeUndefined();
  });
});
