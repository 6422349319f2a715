// Commit status end to end on every Git host (contract §12.1, §12.1a, §12.0 items 4, 5, 9): the real `serve`
// on loopback, real signed payloads from test/fixtures/payloads, `status:` with the per-provider default
// repository and commit, the fake status APIs (which refuse what the real hosts refuse) and the fake API moved
// as Tekton's controller would. Each host must accept queued → running → final exactly once each, in order,
// with its own state names; a trigger refused at creation posts `error` with the reason. Also: `error` after
// background retries give up (the replica that answered posts it, leader or not), and a watch that gets 410,
// goes silent or is cut still delivers the next state.
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import type { Phase } from '../fake-kube/tekton.js';
import { startFakeStatusHosts, type FakeStatusHosts } from '../fake-git/status-hosts.js';
import { until } from '../follow/kube.js';
import { post, routesFile, secretsDirWith, signed, type RunningGateway } from '../helpers/gateway.js';
import { payload } from '../helpers/shared.js';
import { childGateway } from './harness.js';
import { pipelineRun, stateKeyFile, statusGateway } from './following.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const WEBHOOK_SECRET = 'webhook-secret';
const DASHBOARD = 'https://tekton.example.com';
const REPORTED = 'tekton-gateway.dev/status-reported';

type Sign = (body: Buffer, secret: string, event: string, delivery: string) => Record<string, string>;

/** One Git host: how its webhooks arrive and what its status API must end up holding (§12.1's table). */
interface HostCase {
  readonly name: string;
  readonly provider: string;
  readonly flavor?: 'cloud' | 'datacenter';
  /** The API root below the fake hosts' URL. */
  readonly apiPath: string;
  readonly fixture: string;
  /** The commit the fixture carries where the default commit binding reads it; replaced per scenario. */
  readonly fixtureCommit: string;
  readonly event: string;
  readonly sign: Sign;
  /** What the default repository binding resolves to for this fixture. */
  readonly repository: string;
  /** The host-native state for each recorded state. */
  readonly states: Readonly<
    Record<'pending' | 'running' | 'success' | 'failure' | 'cancelled' | 'error', string>
  >;
}

const GITHUB: HostCase = {
  name: 'github',
  provider: 'github',
  apiPath: '/github',
  fixture: 'github/push.json',
  fixtureCommit: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
  event: 'push',
  sign: signed.github,
  repository: 'binkkatal/sample_app',
  states: {
    pending: 'pending',
    running: 'pending',
    success: 'success',
    failure: 'failure',
    cancelled: 'error',
    error: 'error',
  },
};

const HOSTS: readonly HostCase[] = [
  GITHUB,
  {
    name: 'gitlab',
    provider: 'gitlab',
    apiPath: '/gitlab/api/v4',
    fixture: 'gitlab/push-event.json',
    fixtureCommit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    event: 'Push Hook',
    sign: signed.gitlab,
    // This recorded push has no project.id: the default falls back to body.project_id.
    repository: '15',
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
    name: 'gitea',
    provider: 'gitea',
    apiPath: '/gitea/api/v1',
    fixture: 'gitea/push-event.json',
    fixtureCommit: '67b56589a45103f891bdee7c0546e5d40bc02001',
    event: 'push',
    sign: signed.gitea,
    repository: 'example/example',
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
    name: 'forgejo',
    provider: 'forgejo',
    apiPath: '/gitea/api/v1',
    fixture: 'gitea/push-event.json',
    fixtureCommit: '67b56589a45103f891bdee7c0546e5d40bc02001',
    event: 'push',
    sign: signed.forgejo,
    repository: 'example/example',
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
    name: 'bitbucket-cloud',
    provider: 'bitbucket',
    flavor: 'cloud',
    apiPath: '/bitbucket/2.0',
    fixture: 'bitbucket/repo-push.json',
    fixtureCommit: '709d658dc5b6d6afcd46049c2f332ee3f515a67d',
    event: 'repo:push',
    sign: (body, secret, event, delivery) => signed.bitbucket(body, secret, event, delivery, 'cloud'),
    repository: 'team_name/repo_name',
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
    name: 'bitbucket-datacenter',
    provider: 'bitbucket',
    flavor: 'datacenter',
    apiPath: '/bbdc',
    fixture: 'bitbucket-server/repo-refs-changed.json',
    // The recorded event deletes a branch (toHash all zeros); each scenario pushes a commit instead.
    fixtureCommit: '0000000000000000000000000000000000000000',
    event: 'repo:refs_changed',
    sign: (body, secret, event, delivery) => signed.bitbucket(body, secret, event, delivery, 'datacenter'),
    repository: '~gopher/webhook-test',
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

const run = pipelineRun;
// Neither pipelineRef nor pipelineSpec: Tekton's validating webhook refuses it, so the trigger answers 502.
const REFUSED_RUN = `{apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: x-}, spec: {}}`;

/** A route per host for `build` and one whose template Tekton refuses; status with no repository/commit. */
function routesFor(host: HostCase, hosts: FakeStatusHosts, gateway = ''): string {
  const route = (path: string, trigger: string, template: string) => `
  - path: ${path}
    provider: ${host.provider}
    secretRef: {secretName: webhook, secretKey: token}
    status:
      tokenRef: {secretName: status, secretKey: token}
      apiURL: ${hosts.url}${host.apiPath}${host.flavor ? `\n      flavor: ${host.flavor}` : ''}
    triggers:
      - name: ${trigger}
        template: {resourcetemplates: [${template}]}`;
  return `apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci, dashboardURL: "${DASHBOARD}"${gateway}}
routes:${route('/hook', 'build', run('build'))}${route('/broken', 'refused', REFUSED_RUN)}
`;
}

interface Setup {
  readonly fake: FakeKube;
  readonly hosts: FakeStatusHosts;
  readonly gw: RunningGateway;
}

async function setup(
  host: HostCase,
  options: {
    env?: Record<string, string>;
    gateway?: string;
    kube?: Parameters<typeof startFakeKube>[0];
  } = {},
): Promise<Setup> {
  const hosts = await startFakeStatusHosts();
  cleanup.push(() => hosts.close());
  const fake = await startFakeKube({ namespaces: ['ci'], ...options.kube });
  cleanup.push(() => fake.close());
  const secrets = secretsDirWith([
    ['webhook', WEBHOOK_SECRET],
    ['status', hosts.token],
  ]);
  const gw = await statusGateway({
    fake,
    hostsUrl: hosts.url,
    routes: routesFile(routesFor(host, hosts, options.gateway)),
    secrets,
    ...(options.env && { env: options.env }),
  });
  cleanup.push(() => gw.stop());
  return { fake, hosts, gw };
}

/** The recorded payload, byte for byte except the commit, signed as the host signs it. */
function delivery(host: HostCase, sha: string | undefined, id: string) {
  const raw = payload(host.fixture).toString('utf8');
  const body = Buffer.from(sha === undefined ? raw : raw.replaceAll(host.fixtureCommit, sha));
  return { body, headers: host.sign(body, WEBHOOK_SECRET, host.event, id) };
}

interface TriggerAnswer {
  readonly outcome: string;
  readonly resources?: { name: string }[];
  readonly statusSkipped?: string;
  readonly reason?: string;
}

async function deliver(
  gw: RunningGateway,
  path: string,
  host: HostCase,
  sha: string | undefined,
  id: string,
) {
  const { body, headers } = delivery(host, sha, id);
  const answer = await post(`${gw.url}${path}`, body, headers);
  return { status: answer.status, trigger: (answer.json['triggers'] as TriggerAnswer[])[0]! };
}

const reported = (fake: FakeKube, name: string) =>
  (fake.get('pipelineruns', 'ci', name) as { metadata: { annotations: Record<string, string> } } | undefined)
    ?.metadata.annotations ?? {};

/** What the host accepted for a commit, as "<state> <description>", in order. */
const posted = (hosts: FakeStatusHosts, sha: string) =>
  hosts.accepted.filter((a) => a.commit === sha).map((a) => `${a.state} ${a.description}`);

const sha = (c: string) => c.repeat(40);

/** `until`, failing with what the host holds so far instead of a bare timeout. */
async function waitFor(check: () => boolean, what: string, hosts: FakeStatusHosts, ms = 8_000) {
  try {
    await until(check, ms);
  } catch {
    const accepted = hosts.accepted.map((a) => `${a.commit.slice(0, 4)}… ${a.state} ${a.description}`);
    throw new Error(
      `${what}: not within ${ms} ms; host accepted ${JSON.stringify(accepted)}, answered ${JSON.stringify(hosts.answered)}`,
    );
  }
}

async function metrics(gw: RunningGateway): Promise<string> {
  return (await fetch(`${gw.adminUrl}/metrics`)).text();
}

/**
 * Delivers a push of `commit`, waits for queued, then moves the run through `moves`, waiting for each state
 * to be accepted before the next move (states are level-triggered: one not yet posted may be skipped), and
 * until the final state is recorded on the run. Returns the run's name.
 */
async function scenario(
  s: Setup,
  host: HostCase,
  commit: string,
  moves: readonly [Phase, string?][],
  final: string,
): Promise<string> {
  const answer = await deliver(s.gw, '/hook', host, commit, `d-${commit.slice(0, 6)}`);
  expect(answer.status, JSON.stringify(answer.trigger)).toBe(201);
  expect(answer.trigger.statusSkipped).toBeUndefined();
  const name = answer.trigger.resources![0]!.name;
  const on = `${host.name} ${commit.slice(0, 4)}…`;
  await waitFor(() => posted(s.hosts, commit).length === 1, `${on}: queued`, s.hosts);
  for (const [i, [phase, message]] of moves.entries()) {
    s.fake.advance('pipelineruns', 'ci', name, phase, message);
    await waitFor(() => posted(s.hosts, commit).length === i + 2, `${on}: the state after ${phase}`, s.hosts);
  }
  await waitFor(() => reported(s.fake, name)[REPORTED] === final, `${on}: ${REPORTED}=${final}`, s.hosts);
  return name;
}

describe('commit status through serve, per host (§12.1 table)', () => {
  it.each(HOSTS.map((h) => ({ ...h, host: h })))(
    '$name: queued → running → success, failure and cancelled exactly once each in order; a refused trigger posts error',
    async ({ host }) => {
      const s = await setup(host);
      const S = host.states;
      const ok = sha('a');
      const failed = sha('b');
      const cancelled = sha('c');
      const refused = sha('d');

      const okRun = await scenario(s, host, ok, [['started'], ['succeeded']], 'success');
      await scenario(s, host, failed, [['started'], ['failed', 'task build failed: exit 1']], 'failure');
      await scenario(s, host, cancelled, [['started'], ['cancelled']], 'cancelled');

      const answer = await deliver(s.gw, '/broken', host, refused, 'd-refused');
      expect(answer.status).toBe(502);
      await waitFor(
        () => posted(s.hosts, refused).length === 1,
        `${host.name}: error of the refused trigger`,
        s.hosts,
      );

      // Nothing more arrives: each state exactly once.
      await new Promise((r) => setTimeout(r, 500));
      const observed = {
        success: posted(s.hosts, ok),
        failure: posted(s.hosts, failed),
        cancelled: posted(s.hosts, cancelled),
        refused: posted(s.hosts, refused),
      };
      console.log(
        `${host.name}: ${Object.entries(observed)
          .map(([k, v]) => `${k} [${v.map((x) => x.split(' ')[0]).join(' → ')}]`)
          .join('; ')}`,
      );
      expect(observed.success, `${host.name} success sequence`).toEqual([
        `${S.pending} queued`,
        `${S.running} running`,
        `${S.success} succeeded`,
      ]);
      expect(observed.failure, `${host.name} failure sequence`).toEqual([
        `${S.pending} queued`,
        `${S.running} running`,
        `${S.failure} task build failed: exit 1`,
      ]);
      expect(observed.cancelled, `${host.name} cancelled sequence`).toEqual([
        `${S.pending} queued`,
        `${S.running} running`,
        `${S.cancelled} cancelled`,
      ]);
      expect(observed.refused, `${host.name} refused trigger`).toHaveLength(1);
      expect(observed.refused[0]).toMatch(
        new RegExp(`^${S.error} the cluster refused PipelineRun ci/x-[a-z0-9]{10} \\(HTTP 400\\)`),
      );

      // The defaults resolved the repository, the context names the trigger, the link is the dashboard's.
      const first = s.hosts.accepted.find((a) => a.commit === ok)!;
      expect(first).toMatchObject({
        repository: host.repository,
        context: 'gw/build',
        url: `${DASHBOARD}/#/namespaces/ci/pipelineruns/${okRun}`,
      });
      expect(s.hosts.accepted.find((a) => a.commit === refused)).toMatchObject({
        repository: host.repository,
        context: 'gw/refused',
        url: DASHBOARD,
      });
      // The host refused nothing (Bitbucket's url, GitLab's transitions, every state name valid).
      expect(s.hosts.answered.filter(([, code]) => code >= 300)).toEqual([]);
      const text = await metrics(s.gw);
      const provider = host.flavor
        ? `bitbucket-${host.flavor}`
        : host.name === 'forgejo'
          ? 'gitea'
          : host.name;
      expect(text).toContain(
        `tekton_gateway_status_reports_total{route="/hook",trigger="build",provider="${provider}",result="success"} 9`,
      );
      expect(text).not.toMatch(/status_reports_total\{[^}]*result="failure"\}/);
    },
    60_000,
  );

  it('GitLab: a second run on the same commit and context posts pending again; the 400 "Cannot transition" counts as success', async () => {
    const host = HOSTS.find((h) => h.name === 'gitlab')!;
    const s = await setup(host);
    const commit = sha('e');
    const first = await deliver(s.gw, '/hook', host, commit, 'idem-1');
    await waitFor(() => posted(s.hosts, commit).length === 1, 'first run queued', s.hosts);
    // GitLab gives a resend the same Idempotency-Key; a new one is a new delivery of the same push.
    const second = await deliver(s.gw, '/hook', host, commit, 'idem-2');
    const name = second.trigger.resources![0]!.name;
    expect(name).not.toBe(first.trigger.resources![0]!.name);
    await waitFor(
      () => reported(s.fake, name)[REPORTED] === 'pending',
      `second run: ${REPORTED}=pending after the 400`,
      s.hosts,
    );
    expect(s.hosts.answered).toContainEqual(['gitlab', 400]);
    expect(reported(s.fake, name)['tekton-gateway.dev/status-failed']).toBeUndefined();
    // The run goes on being reported.
    s.fake.advance('pipelineruns', 'ci', name, 'started');
    await waitFor(() => posted(s.hosts, commit).length === 2, 'second run running', s.hosts);
    expect(posted(s.hosts, commit)).toEqual(['pending queued', 'running running']);
    expect(await metrics(s.gw)).toMatch(
      /status_reports_total\{route="\/hook",trigger="build",provider="gitlab",result="success"\} 3\n/,
    );
  }, 30_000);

  it('Bitbucket Data Center: the recorded branch deletion (toHash all zeros) creates the run and says why no status', async () => {
    const host = HOSTS.find((h) => h.name === 'bitbucket-datacenter')!;
    const s = await setup(host);
    const answer = await deliver(s.gw, '/hook', host, undefined, 'dc-delete');
    expect(answer.status).toBe(201);
    expect(answer.trigger).toMatchObject({
      outcome: 'created',
      statusSkipped: 'status commit is not a commit hash',
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(s.hosts.answered).toEqual([]);
  }, 30_000);
});

describe('default repository and commit of pull/merge request events (§12.1)', () => {
  const host = (name: string) => HOSTS.find((h) => h.name === name)!;
  it.each([
    {
      name: 'GitLab Merge Request Hook: the source project and last_commit',
      host: { ...host('gitlab'), fixture: 'gitlab/merge-request-event.json', event: 'Merge Request Hook' },
      repository: '14',
      commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    },
    {
      name: 'Gitea pull_request: pull_request.head.sha',
      host: { ...host('gitea'), fixture: 'gitea/pull-request-event.json', event: 'pull_request' },
      repository: 'example/example',
      commit: '48e773f892a831faa47c0a160d1b7f0cd369ae2a',
    },
    {
      name: 'Bitbucket Data Center pr:merged: the fromRef repository and latestCommit',
      host: {
        ...host('bitbucket-datacenter'),
        fixture: 'bitbucket-server/pr-merged.json',
        event: 'pr:merged',
      },
      repository: '~gopher/webhook-test',
      commit: '32a0b8a740c2963c6f56bd8baf3dc05683d299e0',
    },
  ])(
    '$name',
    async ({ host, repository, commit }) => {
      const s = await setup(host);
      const answer = await deliver(s.gw, '/hook', host, undefined, 'pr-1');
      expect(answer.status).toBe(201);
      expect(answer.trigger.statusSkipped).toBeUndefined();
      await waitFor(() => s.hosts.accepted.length === 1, `${host.name}: queued`, s.hosts);
      expect(s.hosts.accepted[0]).toMatchObject({ repository, commit, state: host.states.pending });
    },
    30_000,
  );
});

describe('error after background retries give up (§12.0 item 13, §12.1a)', () => {
  it('GitHub: API down past the deadline → 503 retrying → window passes → exactly one error saying the cluster was unavailable, from the replica that answered (not leading)', async () => {
    const s = await setup(GITHUB, {
      gateway: ', requestTimeoutMs: 1000, retryWindowSeconds: 3',
      kube: { faults: { errorRate: 1, status: 503 } },
    });
    const commit = sha('f');
    const answer = await deliver(s.gw, '/hook', GITHUB, commit, 'bg-1');
    expect(answer.status).toBe(503);
    expect(answer.trigger).toMatchObject({ outcome: 'failed', retrying: true });
    // Nothing is posted while the retries go on: the run may still be created.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(posted(s.hosts, commit)).toEqual([]);
    await waitFor(() => posted(s.hosts, commit).length === 1, 'error after give-up', s.hosts, 15_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const [only, ...more] = posted(s.hosts, commit);
    console.log(`background give-up: ${only}`);
    expect(more).toEqual([]);
    expect(only).toMatch(
      /^error background retries gave up: the cluster was unavailable until the retry window closed: the Kubernetes API answered 503/,
    );
    expect([...only!.slice('error '.length)].length).toBeLessThanOrEqual(140);
    expect(s.hosts.accepted.find((a) => a.commit === commit)).toMatchObject({
      repository: GITHUB.repository,
      context: 'gw/build',
      url: DASHBOARD,
    });
    const text = await metrics(s.gw);
    expect(text).toContain(
      'tekton_gateway_background_retries_total{route="/hook",trigger="build",result="gave_up"} 1',
    );
    // The API never answered, so this replica could not take the Lease: the error came from the one that answered.
    expect(text).toMatch(/^tekton_gateway_leader 0$/m);
    expect(s.fake.objects()).toEqual([]);
  }, 30_000);

  it('GitHub, the built binary: retries abandoned at SIGTERM post one error before the process exits 1', async () => {
    const hosts = await startFakeStatusHosts();
    cleanup.push(() => hosts.close());
    const fake = await startFakeKube({ namespaces: ['ci'], faults: { errorRate: 1, status: 503 } });
    cleanup.push(() => fake.close());
    const secrets = secretsDirWith([
      ['webhook', WEBHOOK_SECRET],
      ['status', hosts.token],
    ]);
    const routes = routesFile(routesFor(GITHUB, hosts, ', requestTimeoutMs: 1000, retryWindowSeconds: 600'));
    const gw = await childGateway(routes, fake.kubeconfigPath, [
      '--secrets-dir',
      secrets,
      '--state-key-file',
      stateKeyFile(),
      '--status-api-origins',
      hosts.url,
      '--shutdown-timeout',
      '2',
    ]);
    cleanup.push(() => gw.stop());
    const commit = sha('9');
    const { body, headers } = delivery(GITHUB, commit, 'bg-abandoned');
    const answer = await post(`${gw.url}/hook`, body, headers);
    expect(answer.status).toBe(503);
    expect((answer.json['triggers'] as Record<string, unknown>[])[0]).toMatchObject({ retrying: true });
    expect(await gw.stop()).toBe(1);
    // The process has exited: whatever the host holds now is all it will ever get.
    const [only, ...more] = posted(hosts, commit);
    console.log(`abandoned at shutdown: ${only}`);
    expect(more).toEqual([]);
    expect(only).toMatch(/^error background retries abandoned at shutdown: /);
  }, 30_000);
});

describe('watch recovery through serve (§12.0 item 9, §12.1a)', () => {
  // The server ends each watch after 1 s (as timeoutSeconds asks); one with no event for 2 s is dead.
  const WATCH = { TEKTON_GATEWAY_TEST_WATCH_MS: '1,2000' };
  const RUNS = '/apis/tekton.dev/v1/namespaces/ci/pipelineruns';
  const lists = (fake: FakeKube) =>
    fake.requests.filter((r) => r.method === 'GET' && r.path === RUNS && r.query.get('watch') !== '1').length;

  /** A run of GitHub's push for `commit`, seen queued then running: the watch is known to work. */
  async function running(s: Setup, commit: string): Promise<string> {
    const answer = await deliver(s.gw, '/hook', GITHUB, commit, `w-${commit.slice(0, 4)}`);
    expect(answer.status).toBe(201);
    const name = answer.trigger.resources![0]!.name;
    await waitFor(() => posted(s.hosts, commit).length === 1, 'queued', s.hosts);
    s.fake.advance('pipelineruns', 'ci', name, 'started');
    await waitFor(() => posted(s.hosts, commit).length === 2, 'running', s.hosts);
    return name;
  }

  it('410 Expired: the change the watch missed is found by the relist and posted', async () => {
    const s = await setup(GITHUB, { env: WATCH });
    const commit = sha('1');
    const name = await running(s, commit);
    const before = lists(s.fake);
    // The change is dropped from the open watch (no event), then etcd compacts: the watch ends with 410 and
    // every resourceVersion the gateway holds is too old. Only a relist can see the run succeeded.
    s.fake.silenceWatches(true);
    s.fake.advance('pipelineruns', 'ci', name, 'succeeded');
    s.fake.silenceWatches(false);
    const expired = Date.now();
    s.fake.expireHistory();
    await waitFor(() => posted(s.hosts, commit).length === 3, 'success after 410', s.hosts);
    const took = Date.now() - expired;
    console.log(`410: success posted ${took} ms after the watch expired`);
    expect(took).toBeLessThan(8_000);
    expect(lists(s.fake)).toBeGreaterThan(before);
    expect(posted(s.hosts, commit)).toEqual(['pending queued', 'pending running', 'success succeeded']);
  }, 30_000);

  it('a silent watch (open, no events, never ends) is abandoned and relisted; the change is posted', async () => {
    const s = await setup(GITHUB, { env: WATCH });
    const commit = sha('2');
    const name = await running(s, commit);
    const before = lists(s.fake);
    s.fake.silenceWatches(true);
    const silenced = Date.now();
    s.fake.advance('pipelineruns', 'ci', name, 'failed', 'step test: exit 2');
    await waitFor(() => posted(s.hosts, commit).length === 3, 'failure while silent', s.hosts);
    const took = Date.now() - silenced;
    console.log(`silent: failure posted ${took} ms after the watches went silent`);
    // Not before the inactivity timeout (nothing else could have told it), well within §12.1a's 20 s.
    expect(took).toBeGreaterThanOrEqual(1_500);
    expect(took).toBeLessThan(8_000);
    expect(lists(s.fake)).toBeGreaterThan(before);
    s.fake.silenceWatches(false);
    expect(posted(s.hosts, commit)).toEqual([
      'pending queued',
      'pending running',
      'failure step test: exit 2',
    ]);
  }, 30_000);

  it('a cut connection: the watch resumes from its resourceVersion and the change is posted', async () => {
    const s = await setup(GITHUB, { env: { TEKTON_GATEWAY_TEST_WATCH_MS: '15,20000' } });
    const commit = sha('3');
    const name = await running(s, commit);
    const before = lists(s.fake);
    s.fake.cutWatches();
    const cut = Date.now();
    s.fake.advance('pipelineruns', 'ci', name, 'succeeded');
    await waitFor(() => posted(s.hosts, commit).length === 3, 'success after a cut', s.hosts);
    const took = Date.now() - cut;
    console.log(`cut: success posted ${took} ms after the connection was cut`);
    expect(took).toBeLessThan(8_000);
    // Resumed, not relisted: the history since its resourceVersion was still there.
    expect(lists(s.fake)).toBe(before);
    expect(posted(s.hosts, commit)).toEqual(['pending queued', 'pending running', 'success succeeded']);
  }, 30_000);
});
