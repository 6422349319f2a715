// The HTTP contract (§3) over real HTTP on loopback, against the real `serve --dry-run` on the example
// routes.yaml, with recorded payloads signed as each Git host signs them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoSecret,
  demoSecretsDir,
  post,
  routesFile,
  signed,
  startGateway,
  type RunningGateway,
} from '../helpers/gateway.js';
import { payload, repoRoot } from '../helpers/shared.js';

const delivery = (file: string) => readFileSync(join(repoRoot, 'examples/deliveries', file));
const token = demoSecret('gitlab-webhook', 'token');
const gitlab = (event: string, key: string = crypto.randomUUID()) =>
  signed.gitlab(Buffer.alloc(0), token, event, key);

type Trigger = { name: string; outcome: string; reason?: string; objects?: Record<string, any>[] };

describe('serve --dry-run on the example routes.yaml', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway([
      '--dry-run',
      '--routes',
      join(repoRoot, 'routes.yaml'),
      '--secrets-dir',
      demoSecretsDir,
    ]);
  });
  afterAll(async () => {
    expect(await gw.stop()).toBe(0);
  });

  it('GET /healthz and /readyz answer 200', async () => {
    expect(await (await fetch(`${gw.url}/healthz`)).text()).toBe('ok');
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${gw.adminUrl}/readyz`)).status).toBe(200);
  });

  it('health paths answer GET and HEAD, refuse other methods, and win over any route', async () => {
    const head = await fetch(`${gw.url}/readyz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${gw.url}/healthz`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('serves /metrics and /routes on the admin port only', async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${gw.url}/routes`)).status).toBe(404);
    expect((await fetch(`${gw.adminUrl}/metrics`)).status).toBe(200);
    const routes = (await (await fetch(`${gw.adminUrl}/routes`)).json()) as { routes: { path: string }[] };
    expect(routes.routes.map((r) => r.path)).toEqual(['/gitea', '/github', '/gitlab']);
  });

  it('a tag push v1.1.0 renders a PipelineRun with image tag 1.1.0 (200, dry run)', async () => {
    const res = await post(
      `${gw.url}/gitlab`,
      delivery('gitlab-tag-push.json'),
      gitlab('Tag Push Hook', 'key-1'),
    );
    expect(res.status).toBe(200);
    expect(res.json.eventId).toBe('key-1');
    expect(res.json.route).toBe('/gitlab');
    const triggers = res.json.triggers as Trigger[];
    expect(triggers.map((t) => [t.name, t.outcome])).toEqual([
      ['dev-push', 'skipped'],
      ['tag-push', 'rendered'],
      ['merge', 'skipped'],
    ]);
    expect(triggers[0]!.reason).toBe('event type "Tag Push Hook" is not in [Push Hook]');
    const run = triggers[1]!.objects![0]!;
    expect(run.kind).toBe('PipelineRun');
    expect(run.metadata.namespace).toBe('flask-app');
    expect(run.spec.params).toContainEqual({ name: 'imageTag', value: '1.1.0' });
    expect(run.spec.params).toContainEqual({
      name: 'imageName',
      value: 'harbor.example.com/k8s/flask-k8s-example',
    });
    expect(run.metadata.labels).toEqual({
      'triggers.tekton.dev/eventlistener': 'tekton-gateway',
      'triggers.tekton.dev/trigger': 'tag-push',
      'triggers.tekton.dev/triggers-eventid': 'key-1',
      'app.kubernetes.io/managed-by': 'tekton-gateway',
      // POD_NAMESPACE unset and no service-account namespace file: gateway.namespace (§12.0 item 2).
      'tekton-gateway.dev/instance': 'default.tekton-gateway',
    });
    // GitLab's Idempotency-Key makes the name deterministic: generateName (≤53) + 10 characters.
    expect(run.metadata.name).toMatch(/^build-image-[a-z0-9]{10}$/);
    expect(run.metadata.generateName).toBeUndefined();
  });

  it('the same delivery renders the same names; another delivery, other names', async () => {
    const send = (key: string) =>
      post(`${gw.url}/gitlab`, delivery('gitlab-tag-push.json'), gitlab('Tag Push Hook', key));
    const name = async (key: string) =>
      ((await send(key)).json.triggers as Trigger[])[1]!.objects![0]!.metadata.name;
    expect(await name('same')).toBe(await name('same'));
    expect(await name('same')).not.toBe(await name('other'));
  });

  it('a push to main is skipped, naming the first false filter', async () => {
    const res = await post(`${gw.url}/gitlab`, delivery('gitlab-push-main.json'), gitlab('Push Hook'));
    expect(res.status).toBe(200);
    const triggers = res.json.triggers as Trigger[];
    expect(triggers[0]).toEqual({
      name: 'dev-push',
      outcome: 'skipped',
      reason: "filter returned false: body.ref != 'refs/heads/main'",
    });
  });

  it('a merged merge request renders the argocd-sync TaskRun', async () => {
    const res = await post(
      `${gw.url}/gitlab`,
      delivery('gitlab-merge-request-merged.json'),
      gitlab('Merge Request Hook'),
    );
    const merge = (res.json.triggers as Trigger[]).find((t) => t.name === 'merge')!;
    expect(merge.outcome).toBe('rendered');
    expect(merge.objects![0]).toMatchObject({
      kind: 'TaskRun',
      spec: { taskRef: { name: 'argocd-sync' }, params: [{ name: 'applicationName', value: 'flask-prod' }] },
    });
  });

  it('a signed GitHub push renders; the ping is skipped', async () => {
    const body = delivery('github-push.json');
    const secret = demoSecret('github-webhook', 'secretkey');
    const push = await post(`${gw.url}/github`, body, signed.github(body, secret, 'push', 'd-1'));
    expect(push.status).toBe(200);
    const run = (push.json.triggers as Trigger[])[0]!.objects![0]!;
    expect(run.spec.params).toContainEqual({
      name: 'gitrevision',
      value: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
    });
    const pingBody = delivery('github-ping.json');
    const ping = await post(`${gw.url}/github`, pingBody, signed.github(pingBody, secret, 'ping', 'd-2'));
    expect(ping.json.triggers).toEqual([
      { name: 'github-trigger', outcome: 'skipped', reason: 'event type "ping" is not in [push]' },
    ]);
  });

  it('a signed Gitea push renders even though it also carries GitHub-style headers', async () => {
    const body = delivery('gitea-push.json');
    const headers = {
      ...signed.gitea(body, demoSecret('gitea-webhook', 'secret'), 'push', 'g-1'),
      'x-github-event': 'pull_request',
      'x-hub-signature-256': 'sha256=00',
    };
    const res = await post(`${gw.url}/gitea`, body, headers);
    expect(res.status).toBe(200);
    expect((res.json.triggers as Trigger[])[0]!.outcome).toBe('rendered');
  });

  it.each([
    ['no route', '/nope', 404, 'no route for path /nope'],
    ['a prefix without a / boundary', '/gitlabx', 404, 'no route for path /gitlabx'],
  ])('404 for %s', async (_n, path, status, message) => {
    const res = await post(`${gw.url}${path}`, '{}', { 'content-type': 'application/json' });
    expect(res.status).toBe(status);
    expect(res.json.error).toBe(message);
    expect(res.json.eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('matches below a route at a / boundary and ignores the query string', async () => {
    const res = await post(
      `${gw.url}/gitlab/any/thing?x=1`,
      delivery('gitlab-tag-push.json'),
      gitlab('Tag Push Hook'),
    );
    expect(res.status).toBe(200);
    expect(res.json.route).toBe('/gitlab');
  });

  it('405 with Allow: POST for another method on a route', async () => {
    const res = await fetch(`${gw.url}/gitlab`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(((await res.json()) as { error: string }).error).toContain('must be POST');
  });

  it.each([
    [
      'a form-encoded body',
      'payload=%7B%7D',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'configure the webhook to send application/json',
    ],
    [
      'a multipart form body',
      '--x\r\nContent-Disposition: form-data; name="payload"\r\n\r\n{}\r\n--x--',
      { 'content-type': 'multipart/form-data; boundary=x' },
      'multipart/form-data payloads are not supported',
    ],
    [
      'gzip encoding',
      '{}',
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      'Content-Encoding gzip',
    ],
  ])('415 for %s, before the signature is checked', async (_n, body, headers, message) => {
    // No token at all: the 415 comes first (contract §12.0 item 14: Gitea signs the JSON, not the form).
    const { 'x-gitlab-token': _token, ...unsigned } = gitlab('Push Hook');
    const res = await post(`${gw.url}/gitlab`, body, { ...unsigned, ...headers });
    expect(res.status).toBe(415);
    expect(res.json.error).toContain(message);
  });

  it.each([
    ['text/plain (SNS, curl scripts)', 'text/plain; charset=utf-8'],
    ['a form type on a JSON body (curl -d)', 'application/x-www-form-urlencoded'],
    ['application/octet-stream', 'application/octet-stream'],
  ])('reads a JSON object body whatever its Content-Type: %s', async (_n, type) => {
    const body = Buffer.concat([Buffer.from(' \n'), delivery('gitlab-tag-push.json')]);
    const res = await post(`${gw.url}/gitlab`, body, { ...gitlab('Tag Push Hook'), 'content-type': type });
    expect(res.status).toBe(200);
    expect((res.json.triggers as Trigger[])[1]!.outcome).toBe('rendered');
  });

  it('400 for a body that is not a JSON object under any non-form Content-Type', async () => {
    const res = await post(`${gw.url}/gitlab`, 'hello', {
      ...gitlab('Push Hook'),
      'content-type': 'text/plain',
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('not valid JSON');
  });

  it('accepts application/vnd.foo+json and no content type at all', async () => {
    const { 'content-type': _, ...noType } = gitlab('Tag Push Hook');
    expect((await post(`${gw.url}/gitlab`, delivery('gitlab-tag-push.json'), noType)).status).toBe(200);
    const vendor = {
      ...gitlab('Tag Push Hook'),
      'content-type': 'application/vnd.gitlab+json; charset=utf-8',
    };
    expect((await post(`${gw.url}/gitlab`, delivery('gitlab-tag-push.json'), vendor)).status).toBe(200);
  });

  it('401 names the header and never echoes the secret', async () => {
    const missing = { ...gitlab('Push Hook') } as Record<string, string>;
    delete missing['x-gitlab-token'];
    const res = await post(`${gw.url}/gitlab`, '{}', missing);
    expect(res.status).toBe(401);
    expect(res.json.error).toContain('X-Gitlab-Token');
    const wrong = await post(`${gw.url}/gitlab`, '{}', { ...gitlab('Push Hook'), 'x-gitlab-token': 'guess' });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.json)).not.toContain(token);
  });

  it('401 for a GitHub body altered after signing', async () => {
    const body = delivery('github-push.json');
    const headers = signed.github(body, demoSecret('github-webhook', 'secretkey'), 'push', 'd-3');
    const res = await post(`${gw.url}/github`, Buffer.concat([body, Buffer.from(' ')]), headers);
    expect(res.status).toBe(401);
    expect(res.json.error).toContain('X-Hub-Signature-256');
  });

  it.each([
    ['invalid JSON', '{"a":', 'not valid JSON'],
    ['an array', '[1,2]', 'must be a JSON object, not an array'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'not valid UTF-8'],
    ['nesting deeper than 512', `{"a":${'['.repeat(600)}${']'.repeat(600)}}`, 'deeper than 512'],
    ['an empty body', '', 'not valid JSON'],
  ])('400 for %s', async (_n, body, message) => {
    const res = await post(`${gw.url}/gitlab`, body, gitlab('Push Hook'));
    expect(res.status).toBe(400);
    expect(res.json.error).toContain(message);
  });

  it('ignores a leading UTF-8 BOM', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), delivery('gitlab-tag-push.json')]);
    expect((await post(`${gw.url}/gitlab`, body, gitlab('Tag Push Hook'))).status).toBe(200);
  });

  it('logs one JSON line per webhook with its outcome', async () => {
    await post(`${gw.url}/gitlab`, delivery('gitlab-tag-push.json'), gitlab('Tag Push Hook', 'log-me'));
    const line = gw.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.eventId === 'log-me');
    expect(line).toMatchObject({
      level: 'info',
      msg: 'webhook',
      route: '/gitlab',
      provider: 'gitlab',
      event: 'Tag Push Hook',
      status: 200,
    });
  });
});

describe('limits and failures on a custom routes file', () => {
  const yaml = `apiVersion: tekton-gateway/v1
gateway: {maxBodyBytes: 4096}
routes:
  - path: /open
    provider: none
    triggers:
      - name: needs-field
        bindings: [{name: sha, value: $(body.head_commit.id)}]
        template:
          params: [{name: sha}]
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: t-}, spec: {params: [{name: sha, value: $(tt.params.sha)}]}}
      - name: defaulted
        bindings: [{name: sha, value: $(body.head_commit.id)}]
        template:
          params: [{name: sha, default: none}]
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: t-}, spec: {params: [{name: sha, value: $(tt.params.sha)}]}}
`;
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway(['--dry-run', '--routes', routesFile(yaml), '--secrets-dir', demoSecretsDir]);
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('413 for a body over gateway.maxBodyBytes, declared or streamed', async () => {
    const big = Buffer.alloc(5000, 0x20);
    const res = await post(`${gw.url}/open`, big, { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    expect(res.json.error).toContain('4096 bytes');
  });

  it('422 when a binding finds nothing and the param has no default; the default otherwise', async () => {
    const res = await post(`${gw.url}/open`, payload('gitlab/push-event.json'), {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(422);
    const triggers = res.json.triggers as (Trigger & { retryable?: boolean })[];
    expect(triggers[0]).toEqual({
      name: 'needs-field',
      outcome: 'failed',
      retryable: false,
      reason:
        'param "sha": $(body.head_commit.id): head_commit is not found, and the template gives no default',
    });
    expect(triggers[1]!.outcome).toBe('rendered');
    expect(triggers[1]!.objects![0]!.spec.params).toEqual([{ name: 'sha', value: 'none' }]);
  });
});
