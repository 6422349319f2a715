// Issue #5 end to end: a signed webhook over real HTTP → the real `serve` (creating, no --dry-run) → the
// fake Kubernetes API through a real kubeconfig, and back. Every status of contract §3 that the cluster
// decides (201 created/duplicate, 502 refused, 503 + Retry-After unavailable, 200 server dry run), and
// what lands in the cluster (§6): namespaces, labels, deterministic names, impersonation, field manager.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { type FakeKube, type Injection } from '../fake-kube/server.js';
import {
  demoSecret,
  demoSecretsDir,
  post,
  routesFile,
  signed,
  startGateway,
  type RunningGateway,
} from '../helpers/gateway.js';
import { repoRoot } from '../helpers/shared.js';
import {
  Cleanup,
  EVENTID,
  GATEWAY_USER,
  LISTENER,
  MANAGED_BY,
  TRIGGER,
  creates,
  exampleRoutes,
  fakeKube,
  gatewayOn,
  refOf,
  type Obj,
  type TriggerJson,
} from './harness.js';

const delivery = (file: string) => readFileSync(join(repoRoot, 'examples/deliveries', file));
const gitlabToken = demoSecret('gitlab-webhook', 'token');
const githubSecret = demoSecret('github-webhook', 'secretkey');
const giteaSecret = demoSecret('gitea-webhook', 'secret');
/** Our names (deterministic with a dedupe key, random without): the generateName plus 10 of [a-z0-9]. */
const deterministic = (prefix: string) => new RegExp(`^${prefix}[a-z0-9]{10}$`);

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function triggersOf(res: { json: Record<string, unknown> }): TriggerJson[] {
  return res.json.triggers as TriggerJson[];
}

function only(res: { json: Record<string, unknown> }): TriggerJson {
  const triggers = triggersOf(res);
  expect(triggers).toHaveLength(1);
  return triggers[0]!;
}

// ---------------------------------------------------------------------------------------------------
// The example routes.yaml, creating for real

describe('serve on the example routes.yaml creates the runs', () => {
  const tagPush = delivery('gitlab-tag-push.json');
  const sendTag = (gw: RunningGateway, key: string) =>
    post(`${gw.url}/gitlab`, tagPush, signed.gitlab(tagPush, gitlabToken, 'Tag Push Hook', key));

  it('a GitLab tag push → 201 created, the object exactly as the API stored it', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, exampleRoutes);
    const res = await sendTag(gw, 'tag-key-1');
    expect(res.status).toBe(201);
    expect(res.headers.get('retry-after')).toBeNull();
    const tag = triggersOf(res).find((t) => t.name === 'tag-push')!;
    expect(tag.outcome).toBe('created');

    const [object, ...more] = fake.objects() as Obj[];
    expect(more).toEqual([]);
    expect(tag.resources).toEqual([refOf(object!)]);
    expect(object!.kind).toBe('PipelineRun');
    expect(object!.metadata.namespace).toBe('flask-app');
    expect(object!.metadata.name).toMatch(deterministic('build-image-'));
    expect(object!.metadata.generateName).toBeUndefined();
    expect(object!.metadata.labels).toEqual({
      [LISTENER]: 'tekton-gateway',
      [TRIGGER]: 'tag-push',
      [EVENTID]: 'tag-key-1',
      [MANAGED_BY]: 'tekton-gateway',
      // v2 §12.0 item 2: POD_NAMESPACE unset, no service-account file → gateway.namespace.
      'tekton-gateway.dev/instance': 'default.tekton-gateway',
    });
    expect(object!.metadata.managedFields[0].manager).toBe('tekton-gateway');
    expect(object!.spec.params).toContainEqual({ name: 'imageTag', value: '1.1.0' });

    const [call] = creates(fake);
    expect(fake.requests[0]!.path).toBe('/apis/tekton.dev/v1/namespaces/flask-app/pipelineruns');
    expect(call!.query.get('fieldManager')).toBe('tekton-gateway');
    expect(call!.query.get('fieldValidation')).toBe('Strict');
    expect(call!.query.has('dryRun')).toBe(false);
    expect(call!.headers['impersonate-user']).toBeUndefined();
  });

  it('a redelivery → 201 duplicate naming the same resources; nothing new is stored', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, exampleRoutes);
    const first = await sendTag(gw, 'tag-key-2');
    const again = await sendTag(gw, 'tag-key-2');
    expect(again.status).toBe(201);
    const [before, after] = [first, again].map((r) => triggersOf(r).find((t) => t.name === 'tag-push')!);
    expect(after!.outcome).toBe('duplicate');
    expect(after!.resources).toEqual(before!.resources);
    expect(fake.objects()).toHaveLength(1);
    // The second create reached the API and was answered AlreadyExists: the API is the only memory.
    expect(creates(fake)).toHaveLength(2);
  });

  it('another delivery of the same push gets its own run', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, exampleRoutes);
    await sendTag(gw, 'tag-key-3');
    await sendTag(gw, 'tag-key-4');
    const objects = fake.objects() as Obj[];
    expect(objects.map((o) => o.metadata.labels[EVENTID])).toEqual(['tag-key-3', 'tag-key-4']);
    expect(new Set(objects.map((o) => o.metadata.name)).size).toBe(2);
  });

  it.each([
    {
      name: 'GitLab push to dev → build-image PipelineRun in flask-app',
      path: '/gitlab',
      file: 'gitlab-push-dev.json',
      headers: (b: Buffer) => signed.gitlab(b, gitlabToken, 'Push Hook', 'push-1'),
      trigger: 'dev-push',
      expected: { kind: 'PipelineRun', namespace: 'flask-app', prefix: 'build-image-', eventId: 'push-1' },
    },
    {
      name: 'GitLab merged MR → argocd-sync TaskRun in flask-app',
      path: '/gitlab',
      file: 'gitlab-merge-request-merged.json',
      headers: (b: Buffer) => signed.gitlab(b, gitlabToken, 'Merge Request Hook', 'mr-1'),
      trigger: 'merge',
      expected: { kind: 'TaskRun', namespace: 'flask-app', prefix: 'deploy-prod-manifest-', eventId: 'mr-1' },
    },
    {
      name: 'GitHub push → build-deploy-pipeline PipelineRun in default',
      path: '/github',
      file: 'github-push.json',
      headers: (b: Buffer) => signed.github(b, githubSecret, 'push', 'gh-1'),
      trigger: 'github-trigger',
      expected: {
        kind: 'PipelineRun',
        namespace: 'default',
        prefix: 'build-deploy-pipeline-run-',
        eventId: 'gh-1',
      },
    },
    {
      name: 'Gitea push → pipeline-run PipelineRun in default (name from the body hash)',
      path: '/gitea',
      file: 'gitea-push.json',
      headers: (b: Buffer) => signed.gitea(b, giteaSecret, 'push', 'gitea-1'),
      trigger: 'gitea-listener-trigger',
      expected: { kind: 'PipelineRun', namespace: 'default', prefix: 'pipeline-run-', eventId: 'gitea-1' },
    },
  ])('$name', async ({ path, file, headers, trigger, expected }) => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, exampleRoutes);
    const body = delivery(file);
    const res = await post(`${gw.url}${path}`, body, headers(body));
    expect(res.status).toBe(201);
    const outcome = triggersOf(res).find((t) => t.name === trigger)!;
    expect(outcome.outcome).toBe('created');
    const objects = fake.objects() as Obj[];
    expect(objects).toHaveLength(1);
    expect(outcome.resources).toEqual([refOf(objects[0]!)]);
    expect(objects[0]!.kind).toBe(expected.kind);
    expect(objects[0]!.metadata.namespace).toBe(expected.namespace);
    expect(objects[0]!.metadata.name).toMatch(deterministic(expected.prefix));
    expect(objects[0]!.metadata.labels).toMatchObject({ [TRIGGER]: trigger, [EVENTID]: expected.eventId });
  });

  it('a Gitea redelivery with a new delivery id is still the same run (body-hash dedupe)', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, exampleRoutes);
    const body = delivery('gitea-push.json');
    const first = await post(`${gw.url}/gitea`, body, signed.gitea(body, giteaSecret, 'push', 'gitea-a'));
    const again = await post(`${gw.url}/gitea`, body, signed.gitea(body, giteaSecret, 'push', 'gitea-b'));
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(only(again).outcome).toBe('duplicate');
    expect(only(again).resources).toEqual(only(first).resources);
    // The response carries this request's id; the stored run keeps the first one's.
    expect(again.json.eventId).toBe('gitea-b');
    expect((fake.objects() as Obj[]).map((o) => o.metadata.labels[EVENTID])).toEqual(['gitea-a']);
  });

  it('a GitHub ping is skipped: 200, nothing sent to the API', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, exampleRoutes);
    const body = delivery('github-ping.json');
    const res = await post(`${gw.url}/github`, body, signed.github(body, githubSecret, 'ping', 'ping-1'));
    expect(res.status).toBe(200);
    expect(only(res).outcome).toBe('skipped');
    expect(fake.requests).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Purpose-built routes: refusals, impersonation, naming, mixed outcomes

const TIMEOUT_MS = 3000;

/** A route on the GitHub provider (stable X-GitHub-Delivery → deterministic names) unless `extra` says. */
function route(path: string, triggers: string, extra = ''): string {
  const provider = extra.includes('provider:')
    ? ''
    : `    provider: github\n    secretRef: {secretName: github-webhook, secretKey: secretkey}\n`;
  return `  - path: ${path}\n${provider}${extra}    triggers:\n${triggers}`;
}

const run = (generateName: string, extra = '') =>
  `{apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: ${generateName}${extra}}, spec: {pipelineRef: {name: build}}}`;

const ROUTES = `apiVersion: tekton-gateway/v1
gateway:
  requestTimeoutMs: ${TIMEOUT_MS}
templates:
  run:
    resourcetemplates: [${run('run-')}]
  fixed:
    resourcetemplates:
      - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {name: nightly-build}, spec: {pipelineRef: {name: build}}}
  bad-label:
    resourcetemplates: [${run('run-', ', labels: {team: a b}')}]
  both-refs:
    resourcetemplates:
      - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: run-}, spec: {pipelineRef: {name: build}, pipelineSpec: {tasks: []}}}
  in-flask-app:
    resourcetemplates: [${run('deploy-', ', namespace: flask-app')}]
  pair:
    resourcetemplates:
      - ${run('build-')}
      - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: notify-}, spec: {taskRef: {name: notify}}}
  pair-second-refused:
    resourcetemplates:
      - ${run('build-')}
      - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: notify-, namespace: nope}, spec: {taskRef: {name: notify}}}
  needs-sha:
    params: [{name: sha}]
    resourcetemplates:
      - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: sha-}, spec: {pipelineRef: {name: build}, params: [{name: sha, value: $(tt.params.sha)}]}}
routes:
${route('/run', '      - {name: run, template: run}\n')}
${route('/locked', '      - {name: run, template: run}\n', '    namespace: locked\n')}
${route('/nope', '      - {name: run, template: run}\n', '    namespace: nope\n')}
${route('/bad-label', '      - {name: run, template: bad-label}\n')}
${route('/both-refs', '      - {name: run, template: both-refs}\n')}
${route('/fixed', '      - {name: nightly, template: fixed}\n')}
${route('/pair', '      - {name: pair, template: pair}\n')}
${route('/pair-refused', '      - {name: pair, template: pair-second-refused}\n')}
${route('/as-runner', '      - {name: run, template: run}\n', '    namespace: ci\n    serviceAccountName: runner\n')}
${route(
  '/as-deployer',
  '      - {name: deploy, template: in-flask-app, serviceAccountName: deployer}\n',
  '    namespace: ci\n    serviceAccountName: runner\n',
)}
${route('/as-stranger', '      - {name: run, template: run}\n', '    serviceAccountName: stranger\n')}
${route('/open', '      - {name: run, template: run}\n', '    provider: none\n')}
${route('/open-keyed', '      - {name: run, template: run}\n', '    provider: none\n    deliveryHeader: X-Delivery\n')}
${route('/no-dedupe', '      - {name: run, template: run}\n', '    dedupe: off\n')}
`;

/** Triggers for the "503 beats 502 beats 422" table: each fails (or succeeds) for exactly one reason. */
const MIXED: Record<string, string> = {
  '422':
    "      - {name: binding, bindings: [{name: sha, value: '$(body.missing.field)'}], template: needs-sha}\n",
  '502': '      - {name: refused, template: run, namespace: nope}\n',
  '503': '      - {name: unavailable, template: run, namespace: busy}\n',
  '201': '      - {name: good, template: run}\n',
};
const MIXED_CASES: { order: string[]; status: number }[] = [
  { order: ['422'], status: 422 },
  { order: ['201', '422'], status: 422 },
  { order: ['422', '502'], status: 502 },
  { order: ['502', '422'], status: 502 },
  { order: ['502', '503'], status: 503 },
  { order: ['503', '502'], status: 503 },
  { order: ['422', '503'], status: 503 },
  { order: ['503', '422'], status: 503 },
  { order: ['422', '502', '503'], status: 503 },
  { order: ['503', '502', '422'], status: 503 },
  { order: ['502', '201', '422', '503'], status: 503 },
];
const mixedPath = (order: readonly string[]) => `/mix/${order.join('-')}`;
const MIXED_ROUTES = MIXED_CASES.map(({ order }) =>
  route(mixedPath(order), order.map((o) => MIXED[o]).join('')),
).join('\n');

const RUNNER = 'system:serviceaccount:ci:runner';
const DEPLOYER = 'system:serviceaccount:flask-app:deployer';

describe('purpose-built routes against one fake cluster', () => {
  let fake: FakeKube;
  let gw: RunningGateway;
  const shared = new Cleanup();
  let counter = 0;
  const body = Buffer.from('{"ref":"refs/heads/main","head_commit":{"id":"abc123"}}');
  /** A fresh delivery id per call unless one is given, so tests never see each other's runs. */
  const send = (path: string, id = `d-${++counter}`) =>
    post(`${gw.url}${path}`, body, signed.github(body, githubSecret, 'push', id));
  const storedIn = (eventId: string) =>
    (fake.objects() as Obj[]).filter((o) => o.metadata.labels[EVENTID] === eventId);
  const callsFor = (eventId: string) =>
    creates(fake).filter((c) => c.body.metadata.labels[EVENTID] === eventId);

  beforeAll(async () => {
    fake = await fakeKube(shared, {
      namespaces: ['default', 'flask-app', 'ci', 'locked', 'busy'],
      // The gateway's own account may create anywhere but in `locked`; impersonated accounts only where
      // their RoleBinding is, so a 201 there proves the create ran as them.
      // `nope` as a ClusterRoleBinding would allow it, so the namespace check is what refuses there.
      rbac: [
        ...['default', 'flask-app', 'busy', 'nope'].map((namespace) => ({
          user: GATEWAY_USER,
          namespace,
          resource: '*',
        })),
        { user: RUNNER, namespace: 'ci', resource: 'pipelineruns' },
        { user: DEPLOYER, namespace: 'flask-app', resource: 'pipelineruns' },
      ],
      impersonation: { [GATEWAY_USER]: [RUNNER, DEPLOYER] },
      // `busy` is a namespace whose creates the API keeps shedding, longer than any request deadline.
      faults: { choose: (r) => (r.path.includes('/namespaces/busy/') ? BUSY : undefined) },
    });
    gw = await gatewayOn(shared, fake, routesFile(`${ROUTES}${MIXED_ROUTES}\n`));
  });
  afterAll(() => shared.run());
  const BUSY: Injection = { status: 429, retryAfter: 30 };

  describe('refusals → 502, not retryable, nothing stored', () => {
    it.each([
      {
        name: '403: RBAC does not let the gateway create in the namespace',
        path: '/locked',
        reason: 'the cluster refused PipelineRun locked/run-',
        detail: `pipelineruns.tekton.dev is forbidden: User "${GATEWAY_USER}" cannot create resource "pipelineruns" in API group "tekton.dev" in the namespace "locked"`,
        code: 403,
      },
      {
        name: '404: the namespace does not exist',
        path: '/nope',
        reason: 'the cluster refused PipelineRun nope/run-',
        detail: 'namespaces "nope" not found',
        code: 404,
      },
      {
        name: '422: an invalid label value in the template',
        path: '/bad-label',
        reason: 'the cluster refused PipelineRun default/run-',
        detail: 'metadata.labels: Invalid value: "a b": a valid label must be an empty string',
        code: 422,
      },
      {
        name: "400: Tekton's admission webhook denies the run",
        path: '/both-refs',
        reason: 'the cluster refused PipelineRun default/run-',
        detail: 'expected exactly one, got both: spec.pipelineRef, spec.pipelineSpec',
        code: 400,
      },
    ])('$name', async ({ path, reason, detail, code }) => {
      const id = `refused-${path.slice(1)}`;
      const res = await send(path, id);
      expect(res.status).toBe(502);
      expect(res.headers.get('retry-after')).toBeNull();
      const t = only(res);
      expect(t).toMatchObject({ outcome: 'failed', retryable: false });
      expect(t.reason).toContain(reason);
      expect(t.reason).toContain(`(HTTP ${code})`);
      expect(t.reason).toContain(detail);
      expect(t.resources).toBeUndefined();
      expect(storedIn(id)).toEqual([]);
      // A refusal is final: one call, no retries.
      expect(callsFor(id)).toHaveLength(1);
    });

    it('401: the gateway has no credentials the API accepts', async () => {
      const anonymous = fake.writeKubeconfig('anonymous', { token: null });
      const gw401 = await startGateway(['--routes', routesFile(ROUTES), '--secrets-dir', demoSecretsDir], {
        KUBECONFIG: anonymous,
      });
      cleanup.add(() => gw401.stop());
      const res = await post(`${gw401.url}/run`, body, signed.github(body, githubSecret, 'push', 'anon-1'));
      expect(res.status).toBe(502);
      expect(only(res).reason).toContain('(HTTP 401): Unauthorized');
      expect(storedIn('anon-1')).toEqual([]);
    });

    it('409 on a fixed metadata.name: the first delivery creates it, the second is 502 naming the problem', async () => {
      const first = await send('/fixed');
      expect(first.status).toBe(201);
      expect(only(first)).toMatchObject({
        outcome: 'created',
        resources: [{ kind: 'PipelineRun', namespace: 'default', name: 'nightly-build' }],
      });
      const second = await send('/fixed');
      expect(second.status).toBe(502);
      const t = only(second);
      expect(t.retryable).toBe(false);
      expect(t.reason).toBe(
        'PipelineRun default/nightly-build already exists: the template gives a fixed metadata.name, so every delivery names the same object (use metadata.generateName)',
      );
      expect((fake.objects() as Obj[]).filter((o) => o.metadata.name === 'nightly-build')).toHaveLength(1);
    });
  });

  describe('impersonation (serviceAccountName)', () => {
    it('on the route: the API sees Impersonate-User system:serviceaccount:<namespace>:<sa> and lets it create', async () => {
      const res = await send('/as-runner', 'imp-1');
      expect(res.status).toBe(201);
      expect(callsFor('imp-1').map((c) => c.headers['impersonate-user'])).toEqual([RUNNER]);
      expect(storedIn('imp-1').map((o) => o.metadata.namespace)).toEqual(['ci']);
    });

    it("on the trigger: it wins over the route's, in the namespace the object is created in", async () => {
      const res = await send('/as-deployer', 'imp-2');
      expect(res.status).toBe(201);
      expect(callsFor('imp-2').map((c) => c.headers['impersonate-user'])).toEqual([DEPLOYER]);
      expect(storedIn('imp-2').map((o) => o.metadata.namespace)).toEqual(['flask-app']);
    });

    it('an account the gateway may not impersonate → 502 saying so', async () => {
      const res = await send('/as-stranger', 'imp-3');
      expect(res.status).toBe(502);
      expect(only(res).reason).toContain(
        `serviceaccounts "stranger" is forbidden: User "${GATEWAY_USER}" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "default"`,
      );
      expect(storedIn('imp-3')).toEqual([]);
    });

    it('without serviceAccountName no Impersonate-User is sent', async () => {
      expect((await send('/run', 'imp-4')).status).toBe(201);
      expect(callsFor('imp-4').map((c) => c.headers['impersonate-user'])).toEqual([undefined]);
    });
  });

  describe('names', () => {
    it('a delivery id (GitHub) → generateName + 10 deterministic characters, the same on redelivery', async () => {
      const first = await send('/run', 'name-1');
      const again = await send('/run', 'name-1');
      expect(only(first).outcome).toBe('created');
      expect(only(again).outcome).toBe('duplicate');
      const [object] = storedIn('name-1');
      expect(object!.metadata.name).toMatch(deterministic('run-'));
      expect(only(again).resources).toEqual([refOf(object!)]);
      expect(callsFor('name-1').map((c) => c.body.metadata.name)).toEqual([
        object!.metadata.name,
        object!.metadata.name,
      ]);
    });

    it.each([
      { name: 'provider: none without deliveryHeader', path: '/open' },
      { name: 'dedupe: off', path: '/no-dedupe' },
    ])(
      'no dedupe key ($name) → the gateway names the run: generateName + 10 random [a-z0-9] (v2 §12.0 item 3)',
      async ({ path }) => {
        const before = creates(fake).length;
        const headers = { ...signed.github(body, githubSecret, 'push', 'same-id') };
        const a = await post(`${gw.url}${path}`, body, headers);
        const b = await post(`${gw.url}${path}`, body, headers);
        expect([a.status, b.status]).toEqual([201, 201]);
        expect([only(a).outcome, only(b).outcome]).toEqual(['created', 'created']);
        const sent = creates(fake).slice(before);
        expect(sent.every((c) => c.body.metadata.generateName === undefined)).toBe(true);
        const names = [only(a), only(b)].map((t) => t.resources![0]!.name);
        expect(sent.map((c) => c.body.metadata.name)).toEqual(names);
        for (const name of names) expect(name).toMatch(deterministic('run-'));
        // Nothing tells the two apart, so each is a new run: that is what "no dedupe" means.
        expect(new Set(names).size).toBe(2);
      },
    );

    it('provider: none with deliveryHeader dedupes on it', async () => {
      const headers = { 'content-type': 'application/json', 'x-delivery': 'open-1' };
      const a = await post(`${gw.url}/open-keyed`, body, headers);
      const b = await post(`${gw.url}/open-keyed`, body, headers);
      expect([only(a).outcome, only(b).outcome]).toEqual(['created', 'duplicate']);
      expect(only(a).resources![0]!.name).toMatch(deterministic('run-'));
      expect(storedIn('open-1')).toHaveLength(1);
    });
  });

  describe('partial success is reported per resource', () => {
    it('the second object is refused → 502 listing the first; a redelivery does not duplicate it', async () => {
      const res = await send('/pair-refused', 'pair-r');
      expect(res.status).toBe(502);
      const t = only(res);
      expect(t.reason).toContain('the cluster refused TaskRun nope/notify-');
      expect(t.resources).toEqual([refOf(storedIn('pair-r')[0]!)]);
      const again = await send('/pair-refused', 'pair-r');
      expect(again.status).toBe(502);
      expect(only(again).resources).toEqual(t.resources);
      expect(storedIn('pair-r')).toHaveLength(1);
    });
  });

  describe('503 beats 502 beats 422, whatever the order of the triggers', () => {
    it.each(MIXED_CASES)('$order → $status', async ({ order, status }) => {
      const id = `mix-${order.join('-')}`;
      const res = await send(mixedPath(order), id);
      expect(res.status).toBe(status);
      expect(res.headers.get('retry-after')).toBe(status === 503 ? '30' : null);
      const outcomes = triggersOf(res).map((t) => [t.name, t.outcome, t.retryable]);
      const expected: Record<string, [string, string, boolean | undefined]> = {
        '422': ['binding', 'failed', false],
        '502': ['refused', 'failed', false],
        '503': ['unavailable', 'failed', true],
        '201': ['good', 'created', undefined],
      };
      expect(outcomes).toEqual(order.map((o) => expected[o]));
      expect(storedIn(id)).toHaveLength(order.includes('201') ? 1 : 0);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// The cluster unavailable → 503 with Retry-After, inside the deadline

describe('an unavailable cluster → 503 + Retry-After, answered within gateway.requestTimeoutMs', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const send = (gw: RunningGateway, id: string) =>
    post(`${gw.url}/run`, body, signed.github(body, githubSecret, 'push', id));
  // The client's own overhead (connect, send, parse) on a loaded 2-core machine; the gateway's clock
  // starts when the request arrives, ours a little earlier.
  const SLACK_MS = 1_000;

  async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const started = performance.now();
    const value = await work();
    return { value, ms: performance.now() - started };
  }

  it.each([
    {
      name: '429 forever, Retry-After 1 → retried as told, then 503 Retry-After 1',
      fault: { status: 429, retryAfter: 1 } as Injection,
      retryAfter: '1',
      minCalls: 2,
    },
    {
      name: '429 as a Status body with retryAfterSeconds 2 → 503 Retry-After 2',
      fault: { status: 429, retryAfter: 2, statusJson: true } as Injection,
      retryAfter: '2',
      minCalls: 2,
    },
    {
      name: '503 forever without Retry-After → backed-off retries, then 503 Retry-After 5',
      fault: { status: 503 } as Injection,
      retryAfter: '5',
      minCalls: 3,
    },
    {
      name: '500 forever (Tekton webhook down) → 503 Retry-After 5',
      fault: { status: 500 } as Injection,
      retryAfter: '5',
      minCalls: 3,
    },
    {
      name: 'connections reset forever → 503 Retry-After 5',
      fault: { reset: 'before-handling' } as Injection,
      retryAfter: '5',
      minCalls: 3,
    },
  ])('$name', async ({ fault, retryAfter, minCalls }) => {
    const fake = await fakeKube(cleanup, { faults: { choose: () => fault } });
    const gw = await gatewayOn(cleanup, fake, routesFile(ROUTES));
    const { value: res, ms } = await timed(() => send(gw, 'down-1'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe(retryAfter);
    expect(only(res)).toMatchObject({ outcome: 'failed', retryable: true });
    expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(fake.requests.length).toBeGreaterThanOrEqual(minCalls);
    expect(fake.objects()).toEqual([]);
  });

  it('a Retry-After longer than the time left ends the retries at once, answering that value', async () => {
    const fake = await fakeKube(cleanup, { faults: { choose: () => ({ status: 429, retryAfter: 60 }) } });
    const gw = await gatewayOn(cleanup, fake, routesFile(ROUTES));
    const { value: res, ms } = await timed(() => send(gw, 'long-wait'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(fake.requests).toHaveLength(1);
    // It did not sit out its deadline: generous bound, far below TIMEOUT_MS.
    expect(ms).toBeLessThan(TIMEOUT_MS / 2);
  });

  it('an API server that is gone → 503 Retry-After 5', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, routesFile(ROUTES));
    await fake.close();
    const { value: res, ms } = await timed(() => send(gw, 'gone-1'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(only(res).reason).toContain('cannot reach the Kubernetes API');
    expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  });

  it('two resources, the second unavailable → 503 listing the first; the redelivery completes without duplicating', async () => {
    const fake = await fakeKube(cleanup, {
      faults: { choose: (r) => (r.path.endsWith('/taskruns') ? { status: 503, retryAfter: 30 } : undefined) },
    });
    const gw = await gatewayOn(cleanup, fake, routesFile(ROUTES));
    const sendPair = () => post(`${gw.url}/pair`, body, signed.github(body, githubSecret, 'push', 'pair-1'));
    const first = await sendPair();
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('30');
    const failed = only(first);
    expect(failed).toMatchObject({ outcome: 'failed', retryable: true });
    const [pipelineRun] = fake.objects() as Obj[];
    expect(failed.resources).toEqual([refOf(pipelineRun!)]);

    fake.setFaults({});
    const again = await sendPair();
    expect(again.status).toBe(201);
    const done = only(again);
    expect(done.outcome).toBe('created');
    const objects = fake.objects() as Obj[];
    expect(objects.map((o) => o.kind)).toEqual(['PipelineRun', 'TaskRun']);
    expect(done.resources).toEqual(objects.map(refOf));
    expect(objects[1]!.metadata.name).toMatch(deterministic('notify-'));
  });
});

// ---------------------------------------------------------------------------------------------------
// A lost answer: the API stored the object, the connection broke before the 201 arrived

describe('a connection reset after the API stored the object', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const firstCallResets = (): ((r: { method: string }) => Injection | undefined) => {
    let calls = 0;
    return () => (++calls === 1 ? { reset: 'after-handling' } : undefined);
  };

  it('deterministic name: the retry finds it → 201, stored once', async () => {
    const fake = await fakeKube(cleanup, { faults: { choose: firstCallResets() } });
    const gw = await gatewayOn(cleanup, fake, routesFile(ROUTES));
    const res = await post(`${gw.url}/run`, body, signed.github(body, githubSecret, 'push', 'lost-1'));
    expect(res.status).toBe(201);
    expect(creates(fake)).toHaveLength(2);
    const objects = fake.objects() as Obj[];
    expect(objects).toHaveLength(1);
    expect(only(res).resources).toEqual([refOf(objects[0]!)]);
  });

  it("fixed template name: the retry's 409 is a 502 that says the run may be this delivery's own", async () => {
    const fake = await fakeKube(cleanup, { faults: { choose: firstCallResets() } });
    const gw = await gatewayOn(cleanup, fake, routesFile(ROUTES));
    const res = await post(`${gw.url}/fixed`, body, signed.github(body, githubSecret, 'push', 'lost-2'));
    expect(res.status).toBe(502);
    const t = only(res);
    expect(t.reason).toContain('PipelineRun default/nightly-build already exists');
    expect(t.reason).toContain('an earlier attempt of this request lost its answer');
    expect(t.reason).toContain(`${EVENTID}=lost-2`);
    expect(fake.objects()).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------------
// --server-dry-run

describe('serve --server-dry-run', () => {
  it('answers 200 rendered with the objects as the API returned them; nothing is stored', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, exampleRoutes, ['--server-dry-run']);
    const body = delivery('gitlab-tag-push.json');
    const res = await post(
      `${gw.url}/gitlab`,
      body,
      signed.gitlab(body, gitlabToken, 'Tag Push Hook', 'dry-1'),
    );
    expect(res.status).toBe(200);
    const tag = triggersOf(res).find((t) => t.name === 'tag-push')!;
    expect(tag.outcome).toBe('rendered');
    const [object] = tag.objects!;
    // Filled in by the API server, so these prove the objects are its answer, not our rendering.
    expect(object!.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(object!.metadata.creationTimestamp).toEqual(expect.any(String));
    expect(object!.metadata.managedFields[0].manager).toBe('tekton-gateway');
    expect(object!.metadata.resourceVersion).toBeUndefined();
    expect(object!.metadata.name).toMatch(deterministic('build-image-'));
    expect(object!.metadata.labels[EVENTID]).toBe('dry-1');
    expect(creates(fake).map((c) => c.query.get('dryRun'))).toEqual(['All']);
    expect(fake.objects()).toEqual([]);
  });

  it('a delivery already turned into its objects answers duplicate (what serve would), not an empty render', async () => {
    const fake = await fakeKube(cleanup);
    const real = await gatewayOn(cleanup, fake, exampleRoutes);
    const dry = await gatewayOn(cleanup, fake, exampleRoutes, ['--server-dry-run']);
    const body = delivery('gitlab-tag-push.json');
    const headers = signed.gitlab(body, gitlabToken, 'Tag Push Hook', 'dry-3');
    expect((await post(`${real.url}/gitlab`, body, headers)).status).toBe(201);
    const res = await post(`${dry.url}/gitlab`, body, headers);
    expect(res.status).toBe(201);
    const tag = triggersOf(res).find((t) => t.name === 'tag-push')!;
    expect(tag.outcome).toBe('duplicate');
    expect(tag.resources).toEqual([refOf((fake.objects() as Obj[])[0]!)]);
    expect(fake.objects()).toHaveLength(1);
  });

  it('a refusal is still a 502: the dry run runs every check', async () => {
    const fake = await fakeKube(cleanup, { namespaces: ['default'] });
    const gw = await gatewayOn(cleanup, fake, exampleRoutes, ['--server-dry-run']);
    const body = delivery('gitlab-tag-push.json');
    const res = await post(
      `${gw.url}/gitlab`,
      body,
      signed.gitlab(body, gitlabToken, 'Tag Push Hook', 'dry-2'),
    );
    expect(res.status).toBe(502);
    expect(triggersOf(res).find((t) => t.name === 'tag-push')!.reason).toContain(
      'namespaces "flask-app" not found',
    );
  });
});
