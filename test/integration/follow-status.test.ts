// Commit status through the real `serve` (contract §12.1, §12.0 items 4, 5, 8): a GitHub App's installation
// token, a Bitbucket Cloud pull request's short hash expanded before posting, and runs whose trigger or
// status a reload or restart removed. Signed deliveries over loopback, the fake Kubernetes API, the fake Git
// hosts; Tekton's progress is played with fake.advance.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import { startFakeStatusHosts, type FakeStatusHosts } from '../fake-git/status-hosts.js';
import { until } from '../follow/kube.js';
import { post, routesFile, signed, type RunningGateway } from '../helpers/gateway.js';
import { repoRoot } from '../helpers/shared.js';
import { pipelineRun, stateKeyFile, statusGateway } from './following.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const run = pipelineRun;

/** A Secret volume: `<dir>/<secretName>/<key>` = value, for each entry. */
function secretsDir(entries: readonly [string, string, string][]): string {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
  for (const [name, key, value] of entries) {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, key), value);
  }
  return dir;
}

async function hostsAndCluster(options: Parameters<typeof startFakeStatusHosts>[1] = {}) {
  const hosts = await startFakeStatusHosts('status-token', options);
  cleanup.push(() => hosts.close());
  const fake = await startFakeKube({ namespaces: ['ci'] });
  cleanup.push(() => fake.close());
  return { hosts, fake };
}

async function gateway(
  fake: FakeKube,
  hosts: FakeStatusHosts,
  routes: string,
  secrets: string,
  stateKey: string,
): Promise<RunningGateway> {
  const gw = await statusGateway({
    fake,
    hostsUrl: hosts.url,
    routes,
    secrets,
    stateKey,
    options: { reload: { pollIntervalMs: 100, debounceMs: 20, stableMs: 20 } },
  });
  cleanup.push(() => gw.stop());
  return gw;
}

/** serve with one Bitbucket Cloud route (/bitbucket, trigger `pr`) reporting to the fake Bitbucket Cloud. */
function bitbucketCloudGateway(fake: FakeKube, hosts: FakeStatusHosts): Promise<RunningGateway> {
  const secrets = secretsDir([
    ['bb-webhook', 'token', 'bitbucket-secret\n'],
    ['bb-status', 'token', 'status-token\n'],
  ]);
  const routes = routesFile(`apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci, dashboardURL: "https://tekton.example.com"}
routes:
  - path: /bitbucket
    provider: bitbucket
    secretRef: {secretName: bb-webhook, secretKey: token}
    status:
      flavor: cloud
      tokenRef: {secretName: bb-status, secretKey: token}
      apiURL: ${hosts.url}/bitbucket/2.0
    triggers:
      - name: pr
        template: {resourcetemplates: [${run('pr')}]}
`);
  return gateway(fake, hosts, routes, secrets, stateKeyFile());
}

type Run = { metadata: { name: string; annotations: Record<string, string> } };
const annotation = (fake: FakeKube, name: string, key: string) =>
  (fake.get('pipelineruns', 'ci', name) as Run | undefined)?.metadata.annotations[
    `tekton-gateway.dev/${key}`
  ];

async function metrics(gw: RunningGateway): Promise<string> {
  return (await fetch(`${gw.adminUrl}/metrics`)).text();
}

const names = (answer: { json: Record<string, unknown> }) =>
  (answer.json['triggers'] as { name: string; resources: { name: string }[] }[]).map((t) => ({
    trigger: t.name,
    run: t.resources[0]!.name,
  }));

describe('GitHub App (status.app)', () => {
  const APP_ID = 4242;
  const INSTALLATION = 77;

  it('a push with installation.id: queued, running, success posted with one installation token; a wrong key is status-failed without crash or key text in the logs', async () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrong = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = key.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const wrongPem = wrong.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const { hosts, fake } = await hostsAndCluster({
      app: { id: APP_ID, publicKey: key.publicKey, installations: [INSTALLATION] },
    });
    const secrets = secretsDir([
      ['gh-webhook', 'token', 'webhook-secret\n'],
      ['gh-app', 'key.pem', pem],
      ['gh-app-old', 'key.pem', wrongPem],
    ]);
    const routes = routesFile(`apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci, dashboardURL: "https://tekton.example.com"}
routes:
  - path: /github
    provider: github
    secretRef: {secretName: gh-webhook, secretKey: token}
    status:
      app: {id: ${APP_ID}, privateKeyRef: {secretName: gh-app, secretKey: key.pem}}
      apiURL: ${hosts.url}/github
    triggers:
      - name: build
        template: {resourcetemplates: [${run('build')}]}
  - path: /github-wrong
    provider: github
    secretRef: {secretName: gh-webhook, secretKey: token}
    status:
      app: {id: ${APP_ID}, privateKeyRef: {secretName: gh-app-old, secretKey: key.pem}}
      apiURL: ${hosts.url}/github
    triggers:
      - name: build
        template: {resourcetemplates: [${run('build')}]}
`);
    const gw = await gateway(fake, hosts, routes, secrets, stateKeyFile());
    const push = async (path: string, sha: string, delivery: string) => {
      const body = Buffer.from(
        JSON.stringify({
          ref: 'refs/heads/main',
          after: sha,
          repository: { full_name: 'octo/app' },
          installation: { id: INSTALLATION },
        }),
      );
      const answer = await post(
        `${gw.url}${path}`,
        body,
        signed.github(body, 'webhook-secret', 'push', delivery),
      );
      expect(answer.status).toBe(201);
      return names(answer)[0]!.run;
    };
    const posted = (sha: string) =>
      hosts.accepted.filter((a) => a.commit === sha).map((a) => `${a.state} ${a.description}`);

    const sha = 'a'.repeat(40);
    const name = await push('/github', sha, 'app-1');
    expect(annotation(fake, name, 'status-installation')).toBe(String(INSTALLATION));
    await until(() => posted(sha).length === 1, 8_000);
    fake.advance('pipelineruns', 'ci', name, 'started');
    await until(() => posted(sha).length === 2, 8_000);
    fake.advance('pipelineruns', 'ci', name, 'succeeded');
    await until(() => annotation(fake, name, 'status-reported') === 'success', 8_000);
    expect(posted(sha)).toEqual(['pending queued', 'pending running', 'success succeeded']);
    expect(hosts.issued).toHaveLength(1);
    for (const a of hosts.accepted) expect(a.token).toBe(hosts.issued[0]!.token);
    expect(hosts.answered.filter(([h]) => h === 'github-app')).toEqual([['github-app', 201]]);

    // The key GitHub does not know: its token call is refused (401), the state recorded as failed.
    const other = 'b'.repeat(40);
    const refused = await push('/github-wrong', other, 'app-2');
    await until(() => annotation(fake, refused, 'status-failed') === 'pending', 8_000);
    expect(posted(other)).toEqual([]);
    expect(hosts.answered.filter(([h]) => h === 'github-app')).toEqual([
      ['github-app', 201],
      ['github-app', 401],
    ]);
    const text = await metrics(gw);
    expect(text).toContain(
      'tekton_gateway_status_reports_total{route="/github-wrong",trigger="build",provider="github",result="failure"} 1',
    );
    const warning = gw.logs.find((l) => l.includes('the Git host refused a status'));
    expect(warning).toContain('GitHub App token endpoint: HTTP 401');
    // Still serving, and nothing secret in any log line.
    expect((await fetch(`${gw.adminUrl}/healthz`)).status).toBe(200);
    const all = gw.logs.join('\n') + gw.stderr.join('\n');
    for (const secret of [pem, wrongPem]) {
      for (const line of secret.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')))
        expect(all).not.toContain(line);
    }
    expect(all).not.toContain(hosts.issued[0]!.token);
  }, 60_000);
});

describe('Bitbucket Cloud pull request: short hash expanded before reporting', () => {
  it('the real pullrequest:created payload (12-hex hash): GET commit once, statuses on the full id, status-commit patched; an unknown hash is status-failed', async () => {
    const { hosts, fake } = await hostsAndCluster();
    const payload = readFileSync(
      join(repoRoot, 'test/fixtures/payloads/bitbucket/pull-request-created.json'),
    );
    const short = (
      JSON.parse(payload.toString('utf8')) as { pullrequest: { source: { commit: { hash: string } } } }
    ).pullrequest.source.commit.hash;
    expect(short).toMatch(/^[0-9a-f]{12}$/);
    const full = `${short}${'7'.repeat(28)}`;
    hosts.addCommit('0123456789abcdef0123456789abcdef01234567');
    hosts.addCommit(full);
    const gw = await bitbucketCloudGateway(fake, hosts);
    // Bitbucket signs the raw body: X-Hub-Signature sha256=<hex HMAC>.
    const deliver = async (body: Buffer, uuid: string) => {
      const answer = await post(`${gw.url}/bitbucket`, body, {
        'content-type': 'application/json',
        'x-event-key': 'pullrequest:created',
        'x-request-uuid': uuid,
        'x-hub-signature': `sha256=${createHmac('sha256', 'bitbucket-secret').update(body).digest('hex')}`,
      });
      expect(answer.status).toBe(201);
      return names(answer)[0]!.run;
    };
    const name = await deliver(payload, 'bb-1');
    expect(annotation(fake, name, 'status-commit')).toBe(short);
    await until(() => annotation(fake, name, 'status-reported') === 'pending', 8_000);
    expect(annotation(fake, name, 'status-commit')).toBe(full);
    fake.advance('pipelineruns', 'ci', name, 'started');
    await until(() => annotation(fake, name, 'status-reported') === 'running', 8_000);
    fake.advance('pipelineruns', 'ci', name, 'succeeded');
    await until(() => annotation(fake, name, 'status-reported') === 'success', 8_000);
    expect(hosts.accepted.map((a) => `${a.commit} ${a.state}`)).toEqual([
      `${full} INPROGRESS`,
      `${full} INPROGRESS`,
      `${full} SUCCESSFUL`,
    ]);
    expect(hosts.accepted[0]).toMatchObject({ repository: 'team_name/repo_name', context: 'gw/pr' });
    // Expanded once: later states read the full id from the run.
    expect(hosts.answered.filter(([h]) => h === 'bitbucket-commit')).toEqual([['bitbucket-commit', 200]]);

    // A hash Bitbucket does not know: 404, a permanent failure recorded on the run.
    const unknown = Buffer.from(payload.toString('utf8').replaceAll(short, 'ffffffffffff'));
    const lost = await deliver(unknown, 'bb-2');
    await until(() => annotation(fake, lost, 'status-failed') === 'pending', 8_000);
    expect(annotation(fake, lost, 'status-commit')).toBe('ffffffffffff');
    expect(hosts.accepted).toHaveLength(3);
    expect(gw.logs.find((l) => l.includes('the Git host refused a status'))).toContain(
      'expanding the commit: HTTP 404',
    );
  }, 60_000);

  it('a 503 while expanding is retried; the status then lands on the full id', async () => {
    const { hosts, fake } = await hostsAndCluster();
    const payload = readFileSync(
      join(repoRoot, 'test/fixtures/payloads/bitbucket/pull-request-created.json'),
    );
    const full = `d3022fc0ca3d${'1'.repeat(28)}`;
    hosts.addCommit(full);
    const gw = await bitbucketCloudGateway(fake, hosts);
    hosts.fail(1, 503, { 'Retry-After': '1' });
    const answer = await post(`${gw.url}/bitbucket`, payload, {
      'content-type': 'application/json',
      'x-event-key': 'pullrequest:created',
      'x-request-uuid': 'bb-3',
      'x-hub-signature': `sha256=${createHmac('sha256', 'bitbucket-secret').update(payload).digest('hex')}`,
    });
    expect(answer.status).toBe(201);
    const name = names(answer)[0]!.run;
    await until(() => annotation(fake, name, 'status-reported') === 'pending', 10_000);
    expect(hosts.answered.filter(([h]) => h === 'bitbucket-commit')).toEqual([
      ['bitbucket-commit', 503],
      ['bitbucket-commit', 200],
    ]);
    expect(hosts.accepted.map((a) => a.commit)).toEqual([full]);
  }, 60_000);
});

describe('runs whose trigger or status is gone (§12.0 item 8)', () => {
  const routesYaml = (hostsUrl: string, triggers: string) => `apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci, dashboardURL: "https://tekton.example.com"}
routes:
  - path: /github
    provider: github
    secretRef: {secretName: gh-webhook, secretKey: token}
    status:
      tokenRef: {secretName: gh-status, secretKey: token}
      apiURL: ${hostsUrl}/github
    triggers:
${triggers}`;
  const BOTH = `      - name: build
        template: {resourcetemplates: [${run('build')}]}
      - name: lint
        template: {resourcetemplates: [${run('lint')}]}
`;

  async function setup() {
    const { hosts, fake } = await hostsAndCluster();
    const secrets = secretsDir([
      ['gh-webhook', 'token', 'webhook-secret\n'],
      ['gh-status', 'token', 'status-token\n'],
    ]);
    const file = routesFile(routesYaml(hosts.url, BOTH));
    const stateKey = stateKeyFile();
    const start = () => gateway(fake, hosts, file, secrets, stateKey);
    const gw = await start();
    const sha = 'c'.repeat(40);
    const body = Buffer.from(JSON.stringify({ after: sha, repository: { full_name: 'octo/app' } }));
    const answer = await post(`${gw.url}/github`, body, signed.github(body, 'webhook-secret', 'push', 'o-1'));
    expect(answer.status).toBe(201);
    const runs = Object.fromEntries(names(answer).map((n) => [n.trigger, n.run])) as Record<string, string>;
    await until(
      () =>
        annotation(fake, runs['build']!, 'status-reported') === 'pending' &&
        annotation(fake, runs['lint']!, 'status-reported') === 'pending',
      8_000,
    );
    return { hosts, fake, gw, file, runs, start };
  }

  it('reload: a removed trigger and a trigger whose status was turned off get error "removed from configuration" exactly once, with the last snapshot’s token', async () => {
    const { hosts, fake, gw, file, runs } = await setup();
    fake.advance('pipelineruns', 'ci', runs['build']!, 'started');
    await until(() => annotation(fake, runs['build']!, 'status-reported') === 'running', 8_000);
    writeFileSync(
      file,
      routesYaml(
        hosts.url,
        `      - name: lint
        status: false
        template: {resourcetemplates: [${run('lint')}]}
`,
      ),
    );
    await until(() => gw.logs.some((l) => l.includes('config reloaded')), 8_000);
    for (const name of Object.values(runs))
      await until(() => annotation(fake, name, 'status-reported') === 'error', 8_000);
    // Later states are not posted: the check was completed.
    for (const name of Object.values(runs)) fake.advance('pipelineruns', 'ci', name, 'succeeded');
    await new Promise((r) => setTimeout(r, 1500));
    const byContext = (context: string) =>
      hosts.accepted.filter((a) => a.context === context).map((a) => `${a.state} ${a.description}`);
    expect(byContext('gw/build')).toEqual([
      'pending queued',
      'pending running',
      'error removed from configuration',
    ]);
    expect(byContext('gw/lint')).toEqual(['pending queued', 'error removed from configuration']);
    for (const a of hosts.accepted) expect(a.token).toBe('status-token');
    expect(await metrics(gw)).not.toContain('result="orphaned"');
  }, 60_000);

  it('restart with the trigger gone: warn log and status_reports_total{result="orphaned"}, nothing posted, once', async () => {
    const { hosts, fake, gw, file, runs, start } = await setup();
    await gw.stop();
    writeFileSync(
      file,
      routesYaml(
        hosts.url,
        `      - name: lint
        template: {resourcetemplates: [${run('lint')}]}
`,
      ),
    );
    const before = hosts.accepted.length;
    const again = await start();
    await until(() => annotation(fake, runs['build']!, 'status-failed') === 'error', 10_000);
    const warnings = again.logs.filter((l) => l.includes('removed from the configuration'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 'warn', run: `ci/PipelineRun/${runs['build']}` });
    expect(await metrics(again)).toContain(
      'tekton_gateway_status_reports_total{route="/github",trigger="build",provider="",result="orphaned"} 1',
    );
    // lint is still configured: it keeps reporting; build's check is left alone.
    fake.advance('pipelineruns', 'ci', runs['lint']!, 'succeeded');
    fake.advance('pipelineruns', 'ci', runs['build']!, 'succeeded');
    await until(() => annotation(fake, runs['lint']!, 'status-reported') === 'success', 8_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(hosts.accepted.slice(before).map((a) => `${a.context} ${a.state}`)).toEqual(['gw/lint success']);
  }, 60_000);
});
