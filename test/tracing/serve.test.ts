// Contract §15 and §12.0 item 16, end to end: the built `serve` as a child process, creating through the fake
// Kubernetes API and exporting to an OTLP/HTTP receiver on loopback, in both protocols. What is checked is
// what a collector and Tekton Pipelines would see: the span tree, names and attributes, the sender's
// traceparent as parent or link, the `traceparent` header on the Kubernetes request, and the span-context
// annotation on the stored runs. With tracing off: no SDK module loaded, nothing sent, no annotation.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import { cli, mainJs } from '../helpers/cli.js';
import { demoSecret, demoSecretsDir, post, routesFile } from '../helpers/gateway.js';
import { repoRoot } from '../helpers/shared.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

const TEMPLATE = `
          resourcetemplates:
            - apiVersion: tekton.dev/v1
              kind: PipelineRun
              metadata: {generateName: build-}
              spec: {pipelineRef: {name: build}}
            - apiVersion: tekton.dev/v1
              kind: TaskRun
              metadata: {generateName: lint-}
              spec: {taskRef: {name: lint}}
            - apiVersion: tekton.dev/v1
              kind: PipelineRun
              metadata:
                generateName: own-
                annotations: {tekton.dev/pipelinerunSpanContext: '{"traceparent":"00-template-own"}'}
              spec: {pipelineRef: {name: build}}`;

const ROUTES = `apiVersion: tekton-gateway/v1
routes:
  - path: /trusted
    provider: github
    secretRef: {secretName: github-webhook, secretKey: secretkey}
    tracing: {trustParent: true}
    triggers:
      - name: build
        template:${TEMPLATE}
      - name: never
        filter: body.ref == 'refs/heads/never'
        template:${TEMPLATE}
  - path: /untrusted
    provider: github
    secretRef: {secretName: github-webhook, secretKey: secretkey}
    triggers:
      - name: build
        template:${TEMPLATE}
`;

const SECRET = demoSecret('github-webhook', 'secretkey');
/** A payload value that must never reach a span. */
const MARKER = 'payload-value-6e1f';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

let deliveries = 0;
function delivery(extra: Record<string, string> = {}, secret = SECRET) {
  const id = `delivery-${++deliveries}`;
  const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after: MARKER, id }));
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return {
    id,
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': id,
      'x-hub-signature-256': signature,
      ...extra,
    },
  };
}

type Obj = Record<string, any>;

/** The stored objects of one delivery (by the eventid label the gateway sets). */
function objectsOf(fake: FakeKube, id: string): Obj[] {
  return fake
    .objects()
    .filter((o: Obj) => o.metadata?.labels?.['triggers.tekton.dev/triggers-eventid'] === id);
}

const moduleLog = () => join(mkdtempSync(join(tmpdir(), 'modules-')), 'modules.txt');
const recorder = join(repoRoot, 'test/tracing/record-modules.mjs');

interface ServeChild {
  readonly url: string;
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  kill(): void;
}

/**
 * `node dist/main.js serve` with the module recorder preloaded. Start-up may take long on a loaded machine
 * (the Kubernetes client alone is half a second on an idle one), hence the generous wait for `listening`.
 */
async function serve(fake: FakeKube, env: NodeJS.ProcessEnv, modules: string): Promise<ServeChild> {
  const args = [
    'serve',
    '--routes',
    routesFile(ROUTES),
    '--secrets-dir',
    demoSecretsDir,
    '--drain-delay',
    '0',
  ];
  const child = spawn(process.execPath, [mainJs, ...args, '--port', '0', '--admin-port', '0'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: fake.kubeconfigPath,
      NODE_OPTIONS: `--import ${recorder}`,
      RECORD_MODULES_FILE: modules,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not listen within 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Obj;
      if (parsed.msg === 'listening') {
        clearTimeout(timer);
        resolve(parsed.port as number);
      }
    });
    void exited.then(() => reject(new Error(`serve exited: ${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

describe.each(['http/json', 'http/protobuf'] as const)('tracing on, OTLP %s', (protocol) => {
  let fake: FakeKube;
  let receiver: OtlpReceiver;
  let gw: ServeChild;
  const modules = moduleLog();

  beforeAll(async () => {
    fake = await startFakeKube({ namespaces: ['default'] });
    receiver = await startOtlpReceiver();
    gw = await serve(
      fake,
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-key',
        OTEL_SERVICE_NAME: 'gateway-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      modules,
    );
  }, 90_000);
  afterAll(async () => {
    gw?.kill();
    await receiver?.close();
    await fake?.close();
  });

  /** Every span of the trace whose root is `webhook <path>` for this delivery id. */
  async function traceOf(id: string): Promise<ReceivedSpan[]> {
    const spans = await receiver.waitFor((all) =>
      all.some((s) => s.name.startsWith('webhook ') && s.attributes['tekton_gateway.event_id'] === id),
    );
    const root = spans.find((s) => s.attributes['tekton_gateway.event_id'] === id)!;
    // Children end before the root, and a batch holds whatever ended by then: wait for the whole tree.
    const tree = (all: readonly ReceivedSpan[]) => {
      const ids = new Set([root.spanId]);
      let grew = true;
      while (grew) {
        grew = false;
        for (const s of all) {
          if (s.traceId === root.traceId && ids.has(s.parentSpanId) && !ids.has(s.spanId)) {
            ids.add(s.spanId);
            grew = true;
          }
        }
      }
      return all.filter((s) => ids.has(s.spanId));
    };
    return tree(await receiver.waitFor((all) => tree(all).length >= 2));
  }

  it('a verified delivery on a trusting route continues the sender’s trace: tree, names, attributes, annotation', async () => {
    const d = delivery({ traceparent: `00-${TRACE}-${PARENT}-01` });
    const res = await post(`${gw.url}/trusted`, d.body, d.headers);
    expect(res.status).toBe(201);
    const kubeSpansExpected = 3;
    await receiver.waitFor(
      (all) =>
        all.filter((s) => s.name.startsWith('kube create') && s.traceId === TRACE).length >=
        kubeSpansExpected,
    );
    const spans = await traceOf(d.id);

    const root = spans.find((s) => s.name === 'webhook /trusted')!;
    expect(root).toMatchObject({ traceId: TRACE, parentSpanId: PARENT, kind: 2, links: [] });
    expect(root.attributes).toEqual({
      'http.request.method': 'POST',
      'http.route': '/trusted',
      'http.response.status_code': 201,
      'tekton_gateway.route': '/trusted',
      'tekton_gateway.provider': 'github',
      'tekton_gateway.event': 'push',
      'tekton_gateway.event_id': d.id,
      'tekton_gateway.outcome': 'processed',
    });
    expect(root.resource['service.name']).toBe('gateway-under-test');
    expect(root.scope).toBe('tekton-gateway');

    const children = (parent: ReceivedSpan) => spans.filter((s) => s.parentSpanId === parent.spanId);
    expect(
      children(root)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['trigger build', 'trigger never', 'verify']);
    const verify = spans.find((s) => s.name === 'verify')!;
    expect(verify.attributes).toEqual({
      'tekton_gateway.provider': 'github',
      'tekton_gateway.verified': true,
    });
    const build = spans.find((s) => s.name === 'trigger build')!;
    expect(build.attributes).toEqual({
      'tekton_gateway.trigger': 'build',
      'tekton_gateway.outcome': 'created',
    });
    const never = spans.find((s) => s.name === 'trigger never')!;
    expect(never.attributes).toEqual({
      'tekton_gateway.trigger': 'never',
      'tekton_gateway.outcome': 'skipped',
    });
    expect(children(never)).toEqual([]);

    const kube = children(build);
    expect(kube.map((s) => s.name)).toEqual([
      'kube create PipelineRun',
      'kube create TaskRun',
      'kube create PipelineRun',
    ]);
    for (const k of kube) {
      expect(k.kind).toBe(3);
      expect(k.attributes).toMatchObject({
        'k8s.namespace.name': 'default',
        'tekton_gateway.result': 'created',
      });
    }
    // Spans nest in time too, to the millisecond: the SDK (2.x, the line that runs on Node 20) anchors each
    // span's start to Date.now(), whole milliseconds, and measures its end with the high-resolution clock.
    const le = (a: bigint, b: bigint) => a <= b + 1_000_000n;
    expect(le(root.startNs, verify.startNs) && le(verify.endNs, build.startNs)).toBe(true);
    expect(
      kube.every(
        (k) => le(build.startNs, k.startNs) && le(k.endNs, build.endNs) && le(build.endNs, root.endNs),
      ),
    ).toBe(true);

    // Each Kubernetes request carried its own span's traceparent.
    const posts = fake.requests.filter((r) => r.method === 'POST' && r.body.includes(d.id));
    expect(posts.map((r) => r.headers['traceparent'])).toEqual(kube.map((k) => `00-${TRACE}-${k.spanId}-01`));

    // The stored runs name the trigger's span; the template's own annotation is kept.
    const stored = objectsOf(fake, d.id);
    expect(stored).toHaveLength(3);
    const [run, taskRun, own] = stored as [Obj, Obj, Obj];
    const context = JSON.parse(run.metadata.annotations['tekton.dev/pipelinerunSpanContext']);
    expect(context).toEqual({ traceparent: `00-${TRACE}-${build.spanId}-01` });
    expect(context.traceparent).toMatch(TRACEPARENT);
    expect(JSON.parse(taskRun.metadata.annotations['tekton.dev/taskrunSpanContext'])).toEqual(context);
    expect(taskRun.metadata.annotations['tekton.dev/pipelinerunSpanContext']).toBeUndefined();
    expect(own.metadata.annotations['tekton.dev/pipelinerunSpanContext']).toBe(
      '{"traceparent":"00-template-own"}',
    );

    // Never a payload value or a secret in what is exported.
    const exported = JSON.stringify(spans.map((s) => ({ ...s, startNs: 0, endNs: 0 })));
    expect(exported).not.toContain(MARKER);
    expect(exported).not.toContain(SECRET);
    expect(receiver.exports.every((e) => e.path === '/v1/traces')).toBe(true);
    expect(receiver.exports[0]!.headers['authorization']).toBe('Bearer collector-key');
    expect(receiver.exports[0]!.headers['content-type']).toBe(
      protocol === 'http/json' ? 'application/json' : 'application/x-protobuf',
    );
  });

  it('a route without trustParent starts a new trace and links the sender’s', async () => {
    const d = delivery({ traceparent: `00-${TRACE}-${PARENT}-01` });
    expect((await post(`${gw.url}/untrusted`, d.body, d.headers)).status).toBe(201);
    const root = (await traceOf(d.id)).find((s) => s.name === 'webhook /untrusted')!;
    expect(root.parentSpanId).toBe('');
    expect(root.traceId).not.toBe(TRACE);
    expect(root.links).toEqual([{ traceId: TRACE, spanId: PARENT }]);
    const run = objectsOf(fake, d.id)[0]!;
    const context = JSON.parse(run.metadata.annotations['tekton.dev/pipelinerunSpanContext']);
    expect(context.traceparent).toMatch(new RegExp(`^00-${root.traceId}-[0-9a-f]{16}-01$`));
  });

  it('a bad signature never makes the sender’s trace the parent, even on a trusting route', async () => {
    const d = delivery({ traceparent: `00-${TRACE}-${PARENT}-01` }, 'not-the-secret');
    expect((await post(`${gw.url}/trusted`, d.body, d.headers)).status).toBe(401);
    const spans = await traceOf(d.id);
    const root = spans.find((s) => s.name === 'webhook /trusted')!;
    expect(root.parentSpanId).toBe('');
    expect(root.traceId).not.toBe(TRACE);
    expect(root.links).toEqual([{ traceId: TRACE, spanId: PARENT }]);
    expect(root.attributes).toMatchObject({
      'tekton_gateway.outcome': 'signature',
      'http.response.status_code': 401,
    });
    const verify = spans.find((s) => s.name === 'verify')!;
    expect(verify.attributes['tekton_gateway.verified']).toBe(false);
    expect(verify.status.code).toBe(2);
    expect(spans.filter((s) => s.name.startsWith('trigger '))).toEqual([]);
  });

  it.each([
    { name: 'all zeros', traceparent: `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01` },
    { name: 'a zero trace id', traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` },
    { name: 'malformed', traceparent: `00-${TRACE}-${PARENT}` },
    { name: 'version ff', traceparent: `ff-${TRACE}-${PARENT}-01` },
  ])('an invalid incoming traceparent ($name) is ignored: no parent, no link', async ({ traceparent }) => {
    const d = delivery({ traceparent });
    expect((await post(`${gw.url}/trusted`, d.body, d.headers)).status).toBe(201);
    const root = (await traceOf(d.id)).find((s) => s.name === 'webhook /trusted')!;
    expect(root.parentSpanId).toBe('');
    expect(root.links).toEqual([]);
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.traceId).not.toBe('0'.repeat(32));
  });

  it('a trusted parent that is not sampled: nothing exported for the trace and no annotation', async () => {
    const unsampled = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const d = delivery({ traceparent: `00-${unsampled}-${PARENT}-00` });
    expect((await post(`${gw.url}/trusted`, d.body, d.headers)).status).toBe(201);
    // A later sampled delivery's spans arriving shows the batches have been flushed past this one.
    const later = delivery();
    expect((await post(`${gw.url}/untrusted`, later.body, later.headers)).status).toBe(201);
    await traceOf(later.id);
    expect(receiver.spans().filter((s) => s.traceId === unsampled)).toEqual([]);
    for (const o of objectsOf(fake, d.id)) {
      expect(o.metadata.annotations?.['tekton.dev/pipelinerunSpanContext'] ?? '').not.toContain(unsampled);
      expect(o.metadata.annotations?.['tekton.dev/taskrunSpanContext']).toBeUndefined();
    }
    // The Kubernetes requests still carry the context, with the sampled flag off.
    const posts = fake.requests.filter((r) => r.method === 'POST' && r.body.includes(d.id));
    expect(posts.map((r) => r.headers['traceparent'])).toEqual(
      posts.map(() => expect.stringMatching(new RegExp(`^00-${unsampled}-[0-9a-f]{16}-00$`))),
    );
  });

  it('loads the SDK and only the exporter of its protocol', () => {
    const loaded = readFileSync(modules, 'utf8');
    expect(loaded).toContain('/@opentelemetry/sdk-trace/');
    const wanted = protocol === 'http/json' ? 'exporter-trace-otlp-http' : 'exporter-trace-otlp-proto';
    const other = protocol === 'http/json' ? 'exporter-trace-otlp-proto' : 'exporter-trace-otlp-http';
    expect(loaded).toContain(`/@opentelemetry/${wanted}/`);
    expect(loaded).not.toContain(`/@opentelemetry/${other}/`);
  });
});

describe.each([
  { name: 'no OTEL_* variables', env: {} },
  { name: 'OTEL_SDK_DISABLED=true', env: { OTEL_SDK_DISABLED: 'true' }, endpoint: true },
  { name: 'OTEL_TRACES_EXPORTER=none', env: { OTEL_TRACES_EXPORTER: 'none' }, endpoint: true },
])('tracing off: $name', ({ env, endpoint }) => {
  let fake: FakeKube;
  let receiver: OtlpReceiver;
  let gw: ServeChild;
  const modules = moduleLog();

  beforeAll(async () => {
    fake = await startFakeKube({ namespaces: ['default'] });
    receiver = await startOtlpReceiver();
    gw = await serve(
      fake,
      {
        ...env,
        ...(endpoint && { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }),
        OTEL_BSP_SCHEDULE_DELAY: '10',
      },
      modules,
    );
  }, 90_000);
  afterAll(async () => {
    gw?.kill();
    await receiver?.close();
    await fake?.close();
  });

  it('creates the runs without annotation or traceparent, sends nothing, and never loads the SDK', async () => {
    const d = delivery({ traceparent: `00-${TRACE}-${PARENT}-01` });
    expect((await post(`${gw.url}/trusted`, d.body, d.headers)).status).toBe(201);
    const stored = objectsOf(fake, d.id);
    expect(stored).toHaveLength(3);
    for (const o of stored) expect(o.metadata.annotations?.['tekton.dev/taskrunSpanContext']).toBeUndefined();
    expect(stored[0]!.metadata.annotations?.['tekton.dev/pipelinerunSpanContext']).toBeUndefined();
    const posts = fake.requests.filter((r) => r.method === 'POST' && r.body.includes(d.id));
    expect(posts).toHaveLength(3);
    expect(posts.every((r) => r.headers['traceparent'] === undefined)).toBe(true);
    // Stopping flushes whatever a tracer had queued; there must be nothing.
    gw.process.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(receiver.exports).toEqual([]);
    const loaded = readFileSync(modules, 'utf8');
    expect(loaded).toContain('/dist/commands/serve.js');
    expect(loaded).not.toContain('@opentelemetry');
  });
});

describe('tracing settings that cannot work stop serve at start-up', () => {
  it.each([
    {
      name: 'grpc',
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      message:
        'tracing: OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported: set http/protobuf (the default) or http/json',
    },
    {
      name: 'an exporter other than otlp',
      env: { OTEL_TRACES_EXPORTER: 'zipkin' },
      message: 'tracing: OTEL_TRACES_EXPORTER="zipkin" is not supported',
    },
  ])('$name', async ({ env, message }) => {
    const fake = await startFakeKube({ namespaces: ['default'] });
    try {
      const result = await cli(
        [
          'serve',
          '--routes',
          routesFile(ROUTES),
          '--secrets-dir',
          demoSecretsDir,
          '--port',
          '0',
          '--admin-port',
          '0',
        ],
        {
          env: {
            KUBECONFIG: fake.kubeconfigPath,
            OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
            ...env,
          },
        },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(message);
      expect(result.stdout).not.toContain('"listening"');
    } finally {
      await fake.close();
    }
  });
});
