// The parts of the fake API that following runs relies on (list, watch, merge patch, delete, Leases and
// Tekton's state machine), pinned over raw HTTP so the production client can trust the fake.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSelector } from './selector.js';
import { startFakeKube, type FakeKube, type FakeKubeOptions } from './server.js';

const started: FakeKube[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

async function fake(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const server = await startFakeKube({ namespaces: ['ci'], ...options });
  started.push(server);
  return server;
}

const RUNS = '/apis/tekton.dev/v1/namespaces/ci/pipelineruns';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/ci/leases';

async function call(
  server: FakeKube,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: 'Bearer test-token', 'Content-Type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: () => JSON.parse(text) as Record<string, any>, text };
}

async function createRun(server: FakeKube, name: string, labels: Record<string, string> = {}, spec = {}) {
  const answer = await call(server, 'POST', RUNS, {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name, labels },
    spec: { pipelineRef: { name: 'build' }, ...spec },
  });
  expect(answer.status).toBe(201);
  return answer.json();
}

/** Opens a watch and collects its JSON lines until it ends or `stop()` is called. */
function openWatch(server: FakeKube, query: string) {
  const events: Record<string, any>[] = [];
  let ended = false;
  const url = new URL(`${server.url}${RUNS}?watch=1&${query}`);
  let request!: http.ClientRequest;
  const done = new Promise<void>((resolve) => {
    request = http.get(url, { headers: { Authorization: 'Bearer test-token' } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
        }
      });
      res.on('end', () => {
        ended = true;
        resolve();
      });
      res.on('error', () => resolve());
    });
    request.on('error', () => resolve());
  });
  return { events, done, ended: () => ended, stop: () => request.destroy() };
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('label selectors', () => {
  it.each([
    { name: 'equality', selector: 'a=1', labels: { a: '1' }, match: true },
    { name: 'double equals', selector: 'a==1', labels: { a: '2' }, match: false },
    { name: 'inequality matches a missing key', selector: 'a!=1', labels: {}, match: true },
    { name: 'exists', selector: 'a', labels: { a: '' }, match: true },
    {
      name: '!key',
      selector: '!tekton.dev/pipelineRun',
      labels: { 'tekton.dev/pipelineRun': 'x' },
      match: false,
    },
    { name: 'in', selector: 'a in (x, y)', labels: { a: 'y' }, match: true },
    { name: 'notin', selector: 'a notin (x,y),b', labels: { a: 'z', b: '1' }, match: true },
    { name: 'all terms must hold', selector: 'a=1,b=2', labels: { a: '1', b: '3' }, match: false },
  ])('$name', ({ selector, labels, match }) => {
    const parsed = parseSelector(selector);
    if ('error' in parsed) throw new Error(parsed.error);
    expect(parsed(labels)).toBe(match);
  });

  it('list filters by selector and answers 400 for a malformed one', async () => {
    const server = await fake();
    await createRun(server, 'a', { team: 'x' });
    await createRun(server, 'b', { team: 'y' });
    await createRun(server, 'c', { team: 'x', 'tekton.dev/pipelineRun': 'p' });
    const listed = await call(
      server,
      'GET',
      `${RUNS}?labelSelector=${encodeURIComponent('team=x,!tekton.dev/pipelineRun')}`,
    );
    expect(listed.status).toBe(200);
    expect(listed.json().kind).toBe('PipelineRunList');
    expect(listed.json().items.map((i: any) => i.metadata.name)).toEqual(['a']);
    expect(Number(listed.json().metadata.resourceVersion)).toBeGreaterThan(0);
    const bad = await call(server, 'GET', `${RUNS}?labelSelector=${encodeURIComponent('a=b c')}`);
    expect(bad.status).toBe(400);
  });
});

describe('watch', () => {
  it('starts with synthetic ADDED without a resourceVersion, then streams changes that match', async () => {
    const server = await fake();
    await createRun(server, 'old', { team: 'x' });
    const watch = openWatch(server, 'labelSelector=team%3Dx');
    await until(() => watch.events.length === 1);
    await createRun(server, 'other', { team: 'y' });
    await createRun(server, 'new', { team: 'x' });
    server.advance('pipelineruns', 'ci', 'new', 'running');
    await until(() => watch.events.length === 3);
    expect(watch.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'old'],
      ['ADDED', 'new'],
      ['MODIFIED', 'new'],
    ]);
    expect(watch.events[2]!.object.status.conditions[0].reason).toBe('Running');
    watch.stop();
  });

  it('resumes exactly after a resourceVersion, and an object leaving the selector is DELETED', async () => {
    const server = await fake();
    await createRun(server, 'a', { team: 'x' });
    const rv = (await call(server, 'GET', RUNS)).json().metadata.resourceVersion as string;
    await createRun(server, 'b', { team: 'x' });
    await call(
      server,
      'PATCH',
      `${RUNS}/a`,
      { metadata: { labels: { team: null } } },
      'application/merge-patch+json',
    );
    const watch = openWatch(server, `resourceVersion=${rv}&labelSelector=team`);
    await until(() => watch.events.length === 2);
    expect(watch.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'b'],
      ['DELETED', 'a'],
    ]);
    watch.stop();
  });

  it('answers 410 Expired as an ERROR event once history is compacted, and ends the stream', async () => {
    const server = await fake();
    await createRun(server, 'a');
    const rv = (await call(server, 'GET', RUNS)).json().metadata.resourceVersion as string;
    const open = openWatch(server, `resourceVersion=${rv}`);
    await until(() => server.openWatches() === 1);
    await createRun(server, 'b');
    await until(() => open.events.length === 1);
    server.expireHistory();
    await open.done;
    expect(open.events.slice(1)).toEqual([
      expect.objectContaining({
        type: 'ERROR',
        object: expect.objectContaining({ code: 410, reason: 'Expired' }),
      }),
    ]);
    const late = openWatch(server, `resourceVersion=${rv}`);
    await late.done;
    expect(late.events[0]!.object.code).toBe(410);
  });

  it('sends BOOKMARKs only when asked, and ends at timeoutSeconds', async () => {
    const server = await fake();
    const withMarks = openWatch(server, 'resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=1');
    const without = openWatch(server, 'resourceVersion=1');
    await until(() => server.openWatches() === 2);
    server.bookmark();
    await withMarks.done;
    expect(withMarks.ended()).toBe(true);
    expect(withMarks.events).toEqual([
      {
        type: 'BOOKMARK',
        object: expect.objectContaining({
          kind: 'PipelineRun',
          metadata: { resourceVersion: expect.any(String) },
        }),
      },
    ]);
    expect(without.events).toEqual([]);
    expect(without.ended()).toBe(false);
    without.stop();
  });

  it('a silenced watch gets nothing, even for changes', async () => {
    const server = await fake();
    server.silenceWatches(true);
    const watch = openWatch(server, '');
    await until(() => server.openWatches() === 1);
    await createRun(server, 'a');
    await new Promise((r) => setTimeout(r, 50));
    expect(watch.events).toEqual([]);
    watch.stop();
  });
});

describe('merge patch and Tekton webhook on update', () => {
  it('merges, deletes with null, keeps status (a subresource) and bumps resourceVersion', async () => {
    const server = await fake();
    const created = await createRun(server, 'a', {}, { status: 'PipelineRunPending' });
    const patched = await call(
      server,
      'PATCH',
      `${RUNS}/a`,
      { metadata: { annotations: { x: 'y' } }, spec: { status: null }, status: { hacked: true } },
      'application/merge-patch+json',
    );
    expect(patched.status).toBe(200);
    const body = patched.json();
    expect(body.spec).toEqual({ pipelineRef: { name: 'build' } });
    expect(body.metadata.annotations).toEqual({ x: 'y' });
    expect(body.status).toBeUndefined();
    expect(Number(body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
  });

  it('refuses strategic merge patch (CRDs), a stale resourceVersion (409) and a missing object (404)', async () => {
    const server = await fake();
    await createRun(server, 'a');
    expect(
      (await call(server, 'PATCH', `${RUNS}/a`, {}, 'application/strategic-merge-patch+json')).status,
    ).toBe(415);
    const stale = await call(
      server,
      'PATCH',
      `${RUNS}/a`,
      { metadata: { resourceVersion: '1' } },
      'application/merge-patch+json',
    );
    expect(stale.status).toBe(409);
    expect(stale.json().reason).toBe('Conflict');
    expect((await call(server, 'PATCH', `${RUNS}/zz`, {}, 'application/merge-patch+json')).status).toBe(404);
  });

  it.each([
    {
      name: 'cancelling a finished run',
      phase: 'succeeded',
      spec: { status: 'Cancelled' },
      message: 'no updates are allowed',
    },
    {
      name: 'an unknown spec.status',
      phase: 'running',
      spec: { status: 'Paused' },
      message: 'should be Cancelled',
    },
    {
      name: 'pending after start',
      phase: 'running',
      spec: { status: 'PipelineRunPending' },
      message: 'cannot be Pending after it is started',
    },
    {
      name: 'a spec change on a running run',
      phase: 'running',
      spec: { timeouts: { pipeline: '1h' } },
      message: 'only status updates are allowed',
    },
  ] as const)('Tekton refuses $name with 400', async ({ phase, spec, message }) => {
    const server = await fake();
    await createRun(server, 'a');
    server.advance('pipelineruns', 'ci', 'a', phase);
    const answer = await call(server, 'PATCH', `${RUNS}/a`, { spec }, 'application/merge-patch+json');
    expect(answer.status).toBe(400);
    expect(answer.json().message).toContain(message);
  });

  it('patching metadata of a finished run is allowed', async () => {
    const server = await fake();
    await createRun(server, 'a');
    server.advance('pipelineruns', 'ci', 'a', 'failed');
    const answer = await call(
      server,
      'PATCH',
      `${RUNS}/a`,
      { metadata: { annotations: { k: 'v' } } },
      'application/merge-patch+json',
    );
    expect(answer.status).toBe(200);
  });
});

describe('delete', () => {
  it('takes propagationPolicy from DeleteOptions, removes dependents, and refuses an unknown policy', async () => {
    const server = await fake();
    const parent = await createRun(server, 'p');
    await call(server, 'POST', '/apis/tekton.dev/v1/namespaces/ci/taskruns', {
      apiVersion: 'tekton.dev/v1',
      kind: 'TaskRun',
      metadata: {
        name: 'p-build',
        ownerReferences: [
          {
            apiVersion: 'tekton.dev/v1',
            kind: 'PipelineRun',
            name: 'p',
            uid: parent.metadata.uid,
            controller: true,
          },
        ],
      },
      spec: { taskRef: { name: 'build' } },
    });
    const bad = await call(server, 'DELETE', `${RUNS}/p`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Sideways',
    });
    expect(bad.status).toBe(422);
    const deleted = await call(server, 'DELETE', `${RUNS}/p`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Background',
    });
    expect(deleted.status).toBe(200);
    expect(server.objects()).toEqual([]);
    expect((await call(server, 'DELETE', `${RUNS}/p`)).status).toBe(404);
  });

  it('Orphan keeps dependents', async () => {
    const server = await fake();
    const parent = await createRun(server, 'p');
    await createRun(server, 'child', {});
    await call(
      server,
      'PATCH',
      `${RUNS}/child`,
      {
        metadata: {
          ownerReferences: [
            { uid: parent.metadata.uid, name: 'p', kind: 'PipelineRun', apiVersion: 'tekton.dev/v1' },
          ],
        },
      },
      'application/merge-patch+json',
    );
    await call(server, 'DELETE', `${RUNS}/p?propagationPolicy=Orphan`);
    expect(server.objects().map((o: any) => o.metadata.name)).toEqual(['child']);
  });
});

describe('races: another client changes the object right before a request is served', () => {
  it('a delete of a run someone else deleted first is 404 NotFound, and watches saw the DELETED before', async () => {
    const server = await fake();
    await createRun(server, 'a');
    const watch = openWatch(server, 'resourceVersion=0');
    server.setFaults({
      before: (r) => {
        if (r.method === 'DELETE') server.remove('pipelineruns', 'ci', 'a');
      },
    });
    const answer = await call(server, 'DELETE', `${RUNS}/a`, { propagationPolicy: 'Background' });
    expect(answer.status).toBe(404);
    expect(answer.json()).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      message: 'pipelineruns.tekton.dev "a" not found',
    });
    await until(() => watch.events.some((e) => e.type === 'DELETED'));
    watch.stop();
  });

  it('a cancel of a run that finished meanwhile is the webhook 400 "no updates are allowed"; a start of one deleted meanwhile is 404', async () => {
    const server = await fake();
    await createRun(server, 'a');
    await createRun(server, 'b', {}, { status: 'PipelineRunPending' });
    server.setFaults({
      before: (r) => {
        if (r.method !== 'PATCH') return;
        if (r.path.endsWith('/a')) server.advance('pipelineruns', 'ci', 'a', 'succeeded');
        if (r.path.endsWith('/b')) server.remove('pipelineruns', 'ci', 'b');
      },
    });
    const cancel = await call(
      server,
      'PATCH',
      `${RUNS}/a`,
      { spec: { status: 'Cancelled' } },
      'application/merge-patch+json',
    );
    expect(cancel.status).toBe(400);
    expect(cancel.json().message).toBe(
      'admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: validation failed: ' +
        'invalid value: Once the PipelineRun is complete, no updates are allowed: spec',
    );
    const start = await call(
      server,
      'PATCH',
      `${RUNS}/b`,
      { spec: { status: null } },
      'application/merge-patch+json',
    );
    expect(start.status).toBe(404);
  });
});

describe('patch without HTTP (another client)', () => {
  it('admits like the API, tells watches, and lets the controller react', async () => {
    const server = await fake({ tektonController: true });
    await createRun(server, 'a', {}, { status: 'PipelineRunPending' });
    const watch = openWatch(server, 'resourceVersion=0');
    const stored = server.patch('pipelineruns', 'ci', 'a', { spec: { status: 'Cancelled' } });
    expect(stored).toMatchObject({ spec: { status: 'Cancelled' } });
    await until(() => watch.events.some((e) => e.object.status?.conditions?.[0]?.reason === 'Cancelled'));
    expect(() => server.patch('pipelineruns', 'ci', 'a', { spec: { status: null } })).toThrow(
      /no updates are allowed/,
    );
    watch.stop();
  });
});

describe('Leases', () => {
  const lease = (renewTime: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'tekton-gateway-x' },
    spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime: renewTime, renewTime },
  });

  it('creates, then updates only with the resourceVersion it read (409 otherwise)', async () => {
    const server = await fake();
    const created = await call(server, 'POST', LEASES, lease('2026-12-02T12:00:00.123000Z'));
    expect(created.status).toBe(201);
    expect((await call(server, 'POST', LEASES, lease('2026-12-02T12:00:00.123000Z'))).status).toBe(409);
    const read = (await call(server, 'GET', `${LEASES}/tekton-gateway-x`)).json();
    const first = await call(server, 'PUT', `${LEASES}/tekton-gateway-x`, {
      ...read,
      spec: { ...read.spec, holderIdentity: 'pod-b' },
    });
    expect(first.status).toBe(200);
    const second = await call(server, 'PUT', `${LEASES}/tekton-gateway-x`, {
      ...read,
      spec: { ...read.spec, holderIdentity: 'pod-c' },
    });
    expect(second.status).toBe(409);
    const { metadata, ...noVersion } = read;
    const { resourceVersion: _rv, ...meta } = metadata;
    expect(
      (await call(server, 'PUT', `${LEASES}/tekton-gateway-x`, { ...noVersion, metadata: meta })).status,
    ).toBe(422);
    expect(server.get('leases', 'ci', 'tekton-gateway-x')!.spec).toMatchObject({ holderIdentity: 'pod-b' });
  });

  it('refuses a MicroTime without six fractional digits', async () => {
    const server = await fake();
    const answer = await call(server, 'POST', LEASES, lease('2026-12-02T12:00:00.123Z'));
    expect(answer.status).toBe(400);
    expect(answer.json().message).toContain('2006-01-02T15:04:05.000000Z07:00');
  });

  it('RBAC checks the verb', async () => {
    const server = await fake({
      rbac: [{ user: '*', namespace: '*', resource: 'leases', verbs: ['get', 'create'] }],
    });
    expect((await call(server, 'POST', LEASES, lease('2026-12-02T12:00:00.123000Z'))).status).toBe(201);
    const read = (await call(server, 'GET', `${LEASES}/tekton-gateway-x`)).json();
    const put = await call(server, 'PUT', `${LEASES}/tekton-gateway-x`, read);
    expect(put.status).toBe(403);
    expect(put.json().message).toContain('cannot update resource "leases"');
  });
});

describe("Tekton's controller", () => {
  it('writes the real reasons, startTime, completionTime and lastTransitionTime', async () => {
    const server = await fake();
    await createRun(server, 'a');
    const started = server.advance('pipelineruns', 'ci', 'a', 'started');
    expect(started.status).toMatchObject({
      startTime: expect.any(String),
      conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'Started' }],
    });
    expect((started.status as Record<string, unknown>).completionTime).toBeUndefined();
    const done = server.advance('pipelineruns', 'ci', 'a', 'failed', 'task build failed');
    expect(done.status).toMatchObject({
      completionTime: expect.any(String),
      conditions: [
        {
          status: 'False',
          reason: 'Failed',
          message: 'task build failed',
          lastTransitionTime: expect.any(String),
        },
      ],
    });
  });

  it('when on, honours spec.status: pending stays pending, a cancel finishes Cancelled, a start starts', async () => {
    const server = await fake({ tektonController: true });
    await createRun(server, 'q', {}, { status: 'PipelineRunPending' });
    await createRun(server, 'r');
    await until(() => server.get('pipelineruns', 'ci', 'r')?.status !== undefined);
    await until(() => server.get('pipelineruns', 'ci', 'q')?.status !== undefined);
    expect((server.get('pipelineruns', 'ci', 'q') as any).status).toMatchObject({
      conditions: [{ reason: 'PipelineRunPending' }],
    });
    expect((server.get('pipelineruns', 'ci', 'q') as any).status.startTime).toBeUndefined();
    expect((server.get('pipelineruns', 'ci', 'r') as any).status.conditions[0].reason).toBe('Started');
    await call(
      server,
      'PATCH',
      `${RUNS}/q`,
      { spec: { status: 'Cancelled' } },
      'application/merge-patch+json',
    );
    await until(
      () => (server.get('pipelineruns', 'ci', 'q') as any).status.conditions[0].reason === 'Cancelled',
    );
    await call(
      server,
      'PATCH',
      `${RUNS}/r`,
      { spec: { status: 'Cancelled' } },
      'application/merge-patch+json',
    );
    await until(() => (server.get('pipelineruns', 'ci', 'r') as any).status.conditions[0].status === 'False');
  });
});
