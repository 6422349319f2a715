// One contract suite for every host's status reporter (contract §12.1, §12.0 items 4, 5, 17), against the
// loopback fakes: each state lands as the host spells it, bad credentials and refusals are permanent,
// 5xx and rate limits are retried after what the host says.
import { afterEach, describe, expect, it } from 'vitest';
import { readAnswer, cut } from '../../src/follow/report/host.js';
import { makeReporter } from '../../src/follow/report/reporter.js';
import { viewOf, type ReportState } from '../../src/follow/run-state.js';
import type { StatusConfig, StatusHost, Trigger } from '../../src/model.js';
import { startFakeStatusHosts, type FakeStatusHosts } from '../fake-git/status-hosts.js';

const started: FakeStatusHosts[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((h) => h.close()));
});

const SHA = 'a'.repeat(40);
const HOSTS: { host: StatusHost; path: string; repository: string; states: Record<ReportState, string> }[] = [
  {
    host: 'github',
    path: '/github',
    repository: 'octo/app',
    states: {
      pending: 'pending',
      running: 'pending',
      success: 'success',
      failure: 'failure',
      cancelled: 'error',
      error: 'error',
    },
  },
  {
    host: 'gitea',
    path: '/gitea/api/v1',
    repository: 'octo/app',
    states: {
      pending: 'pending',
      running: 'pending',
      success: 'success',
      failure: 'failure',
      cancelled: 'error',
      error: 'error',
    },
  },
  {
    host: 'gitlab',
    path: '/gitlab/api/v4',
    repository: 'group/sub/app',
    states: {
      pending: 'pending',
      running: 'running',
      success: 'success',
      failure: 'failed',
      cancelled: 'canceled',
      error: 'failed',
    },
  },
  {
    host: 'bitbucket-cloud',
    path: '/bitbucket/2.0',
    repository: 'ws/app',
    states: {
      pending: 'INPROGRESS',
      running: 'INPROGRESS',
      success: 'SUCCESSFUL',
      failure: 'FAILED',
      cancelled: 'STOPPED',
      error: 'FAILED',
    },
  },
  {
    host: 'bitbucket-datacenter',
    path: '/bbdc',
    repository: 'PROJ/app',
    states: {
      pending: 'INPROGRESS',
      running: 'INPROGRESS',
      success: 'SUCCESSFUL',
      failure: 'FAILED',
      cancelled: 'CANCELLED',
      error: 'FAILED',
    },
  },
];

function setup(fake: FakeStatusHosts, host: (typeof HOSTS)[number], token = fake.token) {
  const status: StatusConfig = {
    host: host.host,
    tokenRef: { secretName: 's', secretKey: 'token' },
    app: undefined,
    basicAuthRef: undefined,
    apiURL: `${fake.url}${host.path}`,
    context: undefined,
    targetURL: undefined,
    repository: undefined,
    commit: undefined,
  };
  const trigger = { name: 'build', status } as unknown as Trigger;
  const run = viewOf({
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: {
      name: 'build-abc',
      namespace: 'ci',
      uid: `uid-${Math.random()}`,
      labels: { 'triggers.tekton.dev/trigger': 'build' },
      annotations: {
        'tekton-gateway.dev/route': '/hook',
        'tekton-gateway.dev/status-repository': host.repository,
        'tekton-gateway.dev/status-commit': SHA,
        'tekton-gateway.dev/status-context': 'gw/build',
      },
    },
    status: {
      conditions: [{ type: 'Succeeded', status: 'False', reason: 'Failed', message: 'x'.repeat(300) }],
    },
  });
  const reporter = makeReporter({
    secrets: () => Buffer.from(token),
    dashboardURL: () => 'https://tekton.example.com',
  });
  return { reporter, trigger, run };
}

describe.each(HOSTS)('$host reporter', (host) => {
  it('posts every state as the host spells it, keyed by one context, with a dashboard link', async () => {
    const fake = await startFakeStatusHosts();
    started.push(fake);
    const { reporter, trigger, run } = setup(fake, host);
    for (const state of ['pending', 'running', 'failure'] as const) {
      expect(await reporter(run, state, trigger)).toEqual({ kind: 'success' });
    }
    expect(fake.accepted.map((a) => a.state)).toEqual([
      host.states.pending,
      host.states.running,
      host.states.failure,
    ]);
    for (const a of fake.accepted) {
      expect(a).toMatchObject({
        repository: host.repository,
        commit: SHA,
        context: 'gw/build',
        url: 'https://tekton.example.com/#/namespaces/ci/pipelineruns/build-abc',
      });
    }
    // The failure's description is the condition's message, cut to 140 code points.
    expect([...fake.accepted[2]!.description]).toHaveLength(140);
  });

  it('a wrong token is a permanent failure (401), not retried', async () => {
    const fake = await startFakeStatusHosts();
    started.push(fake);
    const { reporter, trigger, run } = setup(fake, host, 'wrong');
    const result = await reporter(run, 'success', trigger);
    expect(result.kind).toBe('failure');
    expect(JSON.stringify(result)).not.toContain('wrong');
  });

  it('503 is retried (the host’s Retry-After wins), then accepted', async () => {
    const fake = await startFakeStatusHosts();
    started.push(fake);
    const { reporter, trigger, run } = setup(fake, host);
    fake.fail(1, 503, { 'Retry-After': '3' });
    expect(await reporter(run, 'success', trigger)).toMatchObject({ kind: 'retry', afterMs: 3000 });
    expect(await reporter(run, 'success', trigger)).toEqual({ kind: 'success' });
    expect(fake.accepted.map((a) => a.state)).toEqual([host.states.success]);
  });
});

describe('reading answers (§12.0 item 5)', () => {
  const h = (o: Record<string, string> = {}) => new Headers(o);
  const NOW = 1_000_000_000_000;
  it.each([
    { name: '201', status: 201, headers: h(), text: '', want: { kind: 'success' } },
    {
      name: 'GitLab same-state 400 is success',
      status: 400,
      headers: h(),
      text: 'Cannot transition status via :run from :running',
      gitlab: true,
      want: { kind: 'success' },
    },
    { name: '422', status: 422, headers: h(), text: 'Validation Failed', want: { kind: 'failure' } },
    {
      name: '3xx is never followed',
      status: 302,
      headers: h({ location: 'https://evil' }),
      text: '',
      want: { kind: 'failure' },
    },
    {
      name: '403 without rate-limit headers',
      status: 403,
      headers: h(),
      text: 'forbidden',
      want: { kind: 'failure' },
    },
    {
      name: '403 with x-ratelimit-remaining 0 waits for reset',
      status: 403,
      headers: h({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 42) }),
      text: '',
      want: { kind: 'retry', afterMs: 42_000 },
    },
    {
      name: '429 with retry-after',
      status: 429,
      headers: h({ 'retry-after': '7' }),
      text: '',
      want: { kind: 'retry', afterMs: 7000 },
    },
    { name: '502', status: 502, headers: h(), text: '', want: { kind: 'retry' } },
  ])('$name', ({ status, headers, text, gitlab, want }) => {
    expect(readAnswer(status, headers, text, gitlab ?? false, NOW)).toMatchObject(want);
  });

  it('cut: 140 code points ending in …, astral characters counted once', () => {
    expect(cut('😀'.repeat(200))).toBe(`${'😀'.repeat(139)}…`);
    expect(cut('short')).toBe('short');
  });
});

describe('credentials and commits the reporter resolves first', () => {
  const base = (
    fake: FakeStatusHosts,
    status: Partial<StatusConfig>,
    annotations: Record<string, string>,
  ) => {
    const trigger = {
      name: 'build',
      status: {
        host: 'github',
        tokenRef: undefined,
        app: undefined,
        basicAuthRef: undefined,
        apiURL: `${fake.url}/github`,
        context: undefined,
        targetURL: 'https://tekton.example.com/x',
        repository: undefined,
        commit: undefined,
        ...status,
      },
    } as unknown as Trigger;
    const run = viewOf({
      apiVersion: 'tekton.dev/v1',
      kind: 'PipelineRun',
      metadata: {
        name: 'build-abc',
        namespace: 'ci',
        uid: `uid-${Math.random()}`,
        labels: { 'triggers.tekton.dev/trigger': 'build' },
        annotations: {
          'tekton-gateway.dev/route': '/hook',
          'tekton-gateway.dev/status-repository': 'ws/app',
          'tekton-gateway.dev/status-context': 'gw/build',
          ...annotations,
        },
      },
    });
    return { trigger, run };
  };
  const app = { id: 1, privateKeyRef: { secretName: 'app', secretKey: 'key.pem' } };

  it('GitHub App without the installation annotation: a failure, nothing called', async () => {
    const fake = await startFakeStatusHosts();
    started.push(fake);
    const { trigger, run } = base(fake, { app }, { 'tekton-gateway.dev/status-commit': SHA });
    const reporter = makeReporter({ secrets: () => Buffer.from('pem'), dashboardURL: () => undefined });
    expect(await reporter(run, 'pending', trigger)).toMatchObject({
      kind: 'failure',
      message: expect.stringContaining('tekton-gateway.dev/status-installation'),
    });
    expect(fake.answered).toEqual([]);
  });

  it('GitHub App whose key file is missing: waited for (retry in 30 s), like a token file', async () => {
    const fake = await startFakeStatusHosts();
    started.push(fake);
    const { trigger, run } = base(
      fake,
      { app },
      { 'tekton-gateway.dev/status-commit': SHA, 'tekton-gateway.dev/status-installation': '5' },
    );
    const reporter = makeReporter({ secrets: () => undefined, dashboardURL: () => undefined });
    expect(await reporter(run, 'pending', trigger)).toMatchObject({ kind: 'retry', afterMs: 30_000 });
    expect(fake.answered).toEqual([]);
  });

  it('Bitbucket Cloud short hash: expanded, posted on the full id, the full id handed back even when the post is retried', async () => {
    const fake = await startFakeStatusHosts();
    started.push(fake);
    const full = `abcdef012345${'9'.repeat(28)}`;
    fake.addCommit(full);
    const { trigger, run } = base(
      fake,
      {
        host: 'bitbucket-cloud',
        tokenRef: { secretName: 's', secretKey: 'token' },
        apiURL: `${fake.url}/bitbucket/2.0`,
      },
      { 'tekton-gateway.dev/status-commit': 'abcdef012345' },
    );
    const reporter = makeReporter({ secrets: () => Buffer.from(fake.token), dashboardURL: () => undefined });
    // The GET succeeds, the post after it is answered 503: the expansion is not lost.
    fake.fail(1, 503, { 'Retry-After': '1' }, 'bitbucket-cloud');
    expect(await reporter(run, 'pending', trigger)).toEqual({
      kind: 'retry',
      afterMs: 1000,
      message: 'HTTP 503',
      commit: full,
    });
    expect(await reporter(run, 'pending', trigger)).toEqual({ kind: 'success', commit: full });
    expect(fake.accepted.map((a) => a.commit)).toEqual([full]);
  });

  it('Bitbucket Cloud: an unknown short hash is a permanent failure (404)', async () => {
    const fake = await startFakeStatusHosts();
    started.push(fake);
    const { trigger, run } = base(
      fake,
      {
        host: 'bitbucket-cloud',
        tokenRef: { secretName: 's', secretKey: 'token' },
        apiURL: `${fake.url}/bitbucket/2.0`,
      },
      { 'tekton-gateway.dev/status-commit': 'abcdef012345' },
    );
    const reporter = makeReporter({ secrets: () => Buffer.from(fake.token), dashboardURL: () => undefined });
    expect(await reporter(run, 'pending', trigger)).toMatchObject({
      kind: 'failure',
      message: expect.stringContaining('expanding the commit: HTTP 404'),
    });
    expect(fake.accepted).toEqual([]);
  });
});
