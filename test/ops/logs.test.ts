// Contract §10: JSON lines, one info line per webhook, debug adds expression results and params, and never
// a payload or a secret — at any level. The gateway runs at debug, the most verbose level, so every line any
// level would write is checked. Payloads carry marker strings placed where CEL errors, filter results,
// params and the API server's messages would quote them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import { post, routesFile, signed, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { tempSecretsDir, writeSecret } from '../secrets/volume.js';

const SECRETS = { hook: 'SECRET-hook-5b7e9c1a', compared: 'SECRET-compare-0d4f2e8b' };
const inline = (kind: string, name: string) =>
  `{params: [], resourcetemplates: [{apiVersion: tekton.dev/v1, kind: ${kind}, metadata: {generateName: ${name}-}, spec: {taskRef: {name: t}}}]}`;

const ROUTES = `apiVersion: tekton-gateway/v1
routes:
  - path: /gh
    provider: github
    secretRef: {secretName: hook, secretKey: token}
    triggers:
      - name: build
        filter: body.ref.startsWith('refs/heads/')
        overlays: [{key: short, expression: "body.message.truncate(12)"}]
        bindings:
          - {name: message, value: $(body.message)}
          - {name: short, value: $(extensions.short)}
        template:
          params: [{name: message}, {name: short}]
          resourcetemplates:
            - apiVersion: tekton.dev/v1
              kind: PipelineRun
              metadata: {generateName: build-}
              spec:
                pipelineRef: {name: build}
                params: [{name: message, value: $(tt.params.message)}, {name: short, value: $(tt.params.short)}]
      - name: non-boolean
        filter: body.message
        template: ${inline('TaskRun', 'nb')}
      - name: computed-key
        filter: body[body.key] == 'x'
        template: ${inline('TaskRun', 'ck')}
      - name: parse-json
        filter: body.message.parseJSON().a == 1.0
        template: ${inline('TaskRun', 'pj')}
      - name: compare
        filter: "header.canonical('X-Extra-Token').compareSecret('token', 'compared')"
        template: ${inline('TaskRun', 'cmp')}
      - name: label-from-payload
        bindings: [{name: label, value: $(body.label)}]
        template:
          params: [{name: label}]
          resourcetemplates:
            - apiVersion: tekton.dev/v1
              kind: TaskRun
              metadata: {generateName: lbl-, labels: {from-payload: $(tt.params.label)}}
              spec: {taskRef: {name: t}}
`;

// Each string here is unique to a request body; none may reach a log line.
const PAYLOAD = {
  ref: 'refs/heads/PAYLOAD-branch-a1b2',
  message: 'PAYLOAD-message-c3d4 with { not json',
  key: 'PAYLOAD-computed-key-e5f6',
  label: 'PAYLOAD label g7h8 not a label value!',
  nested: { deep: ['PAYLOAD-nested-i9j0'] },
};
const BAD_JSON = '{"x": PAYLOAD-badjson-k1l2}';
const MARKERS = [
  'PAYLOAD-branch-a1b2',
  'PAYLOAD-message-c3d4',
  'PAYLOAD-messa', // the overlay's truncation
  'PAYLOAD-computed-key-e5f6',
  'g7h8 not a label',
  'PAYLOAD-nested-i9j0',
  'PAYLOAD-badjson-k1l2',
];

type Line = Record<string, any>;

describe('logs at debug level', () => {
  let fake: FakeKube;
  let gw: RunningGateway;
  let lines: Line[];
  const responses: Record<string, { status: number; json: Record<string, any> }> = {};

  beforeAll(async () => {
    const secretsDir = tempSecretsDir();
    writeSecret(secretsDir, 'hook', { token: `${SECRETS.hook}\n` });
    writeSecret(secretsDir, 'compared', { token: SECRETS.compared });
    fake = await startFakeKube();
    gw = await startGateway(
      ['--routes', routesFile(ROUTES), '--secrets-dir', secretsDir, '--log-level', 'debug'],
      { KUBECONFIG: fake.kubeconfigPath },
    );
    const body = Buffer.from(JSON.stringify(PAYLOAD));
    const send = async (name: string, b: Buffer, headers: Record<string, string>) => {
      const res = await post(`${gw.url}/gh`, b, headers);
      responses[name] = { status: res.status, json: res.json };
    };
    await send('push', body, {
      ...signed.github(body, SECRETS.hook, 'push', 'log-push'),
      'x-extra-token': SECRETS.compared,
    });
    await send('bad-signature', body, signed.github(body, 'PAYLOAD-wrong-secret', 'push', 'log-401'));
    const bad = Buffer.from(BAD_JSON);
    await send('bad-json', bad, signed.github(bad, SECRETS.hook, 'push', 'log-400'));
    lines = gw.logs.map((l) => JSON.parse(l) as Line);
  });
  afterAll(async () => {
    await gw?.stop();
    await fake?.close();
  });

  it('the sender gets the full reasons (the payload is its own)', () => {
    expect(responses['push']!.status).toBe(502);
    const reasons = JSON.stringify(responses['push']!.json);
    expect(reasons).toContain(`no such key: ${PAYLOAD.key}`);
    expect(reasons).toContain('PAYLOAD-message-c3d4');
    expect(responses['bad-signature']!.status).toBe(401);
    expect(responses['bad-json']!.status).toBe(400);
    expect(responses['bad-json']!.json.error).toContain('PAYLOAD-ba');
  });

  it('every line is one JSON object with time, level and msg', () => {
    expect(gw.logs.length).toBeGreaterThan(5);
    for (const raw of gw.logs) {
      expect(raw.endsWith('\n')).toBe(true);
      expect(raw.slice(0, -1)).not.toContain('\n');
      const line = JSON.parse(raw) as Line;
      expect(Object.keys(line).slice(0, 3)).toEqual(['time', 'level', 'msg']);
      expect(['debug', 'info', 'warn', 'error']).toContain(line.level);
    }
  });

  it('no line contains a secret or a payload string', () => {
    const all = gw.logs.join('');
    for (const secret of Object.values(SECRETS)) expect(all).not.toContain(secret);
    for (const marker of MARKERS) expect(all).not.toContain(marker);
    expect(all).not.toContain('PAYLOAD');
  });

  it('one line per webhook with eventId, route, provider, event, status, duration and outcomes', () => {
    const webhooks = lines.filter((l) => l.msg === 'webhook');
    // Issue #13: a verified sender's failures (400, 502) at warn; a 401 (scanners) stays at info.
    expect(webhooks.map((l) => [l.level, l.eventId, l.status])).toEqual([
      ['warn', 'log-push', 502],
      ['info', 'log-401', 401],
      ['warn', 'log-400', 400],
    ]);
    const push = webhooks[0]!;
    expect(push).toMatchObject({ route: '/gh', provider: 'github', event: 'push' });
    expect(typeof push.durationMs).toBe('number');
    const byName = Object.fromEntries((push.triggers as Line[]).map((t) => [t.name, t]));
    expect(byName['build']).toMatchObject({ outcome: 'created' });
    expect(byName['build'].resources[0]).toMatch(/^PipelineRun\/default\/build-[a-z0-9]{10}$/);
    expect(byName['non-boolean']).toEqual({
      name: 'non-boolean',
      outcome: 'skipped',
      reason: 'filter returned a string, not true: body.message',
    });
    expect(byName['computed-key']).toMatchObject({
      outcome: 'failed',
      failure: 'cel',
      reason: "filter body[body.key] == 'x' failed: no such key (the key was computed from the request)",
    });
    expect(byName['parse-json'].reason).toMatch(
      /^filter body\.message\.parseJSON\(\)\.a == 1\.0 failed: evaluation failed/,
    );
    expect(byName['compare']).toMatchObject({ outcome: 'created' });
    expect(byName['label-from-payload']).toMatchObject({ outcome: 'failed', failure: 'cluster-refused' });
    // The API's own message is kept, with the value it quotes redacted.
    expect(byName['label-from-payload'].reason).toContain('the cluster refused TaskRun');
    expect(byName['label-from-payload'].reason).toContain('<redacted>');
    expect(webhooks[2]!.error).toBe('the body is not valid JSON');
    expect(webhooks[1]!.error).toContain('X-Hub-Signature-256');
  });

  it('debug adds each expression result (boolean or type) and each param (name and length)', () => {
    const trace = lines.find((l) => l.msg === 'webhook trace' && l.eventId === 'log-push');
    expect(trace?.level).toBe('debug');
    expect(trace!.expressions).toEqual(
      expect.arrayContaining([
        { trigger: 'build', kind: 'filter', expression: "body.ref.startsWith('refs/heads/')", result: true },
        {
          trigger: 'build',
          kind: 'overlay',
          expression: 'body.message.truncate(12)',
          type: 'string',
          size: 12,
        },
        {
          trigger: 'non-boolean',
          kind: 'filter',
          expression: 'body.message',
          type: 'string',
          size: PAYLOAD.message.length,
        },
        {
          trigger: 'compare',
          kind: 'filter',
          expression: expect.stringContaining('compareSecret'),
          result: true,
        },
      ]),
    );
    expect(trace!.params).toEqual(
      expect.arrayContaining([
        { trigger: 'build', name: 'message', from: 'binding', length: PAYLOAD.message.length },
        { trigger: 'build', name: 'short', from: 'binding', length: 12 },
        { trigger: 'label-from-payload', name: 'label', from: 'binding', length: PAYLOAD.label.length },
      ]),
    );
  });
});

describe('the log level at runtime: GET/PUT /loglevel on the admin port', () => {
  it('turns debug lines on and off without a restart, and refuses a level that does not exist', async () => {
    const gw = await startGateway([
      '--dry-run',
      '--routes',
      routesFile(`apiVersion: tekton-gateway/v1
routes:
  - path: /open
    provider: none
    triggers:
      - name: t
        filter: "true"
        template: ${inline('TaskRun', 't')}
`),
      '--secrets-dir',
      tempSecretsDir(),
    ]);
    const traces = () => gw.logs.filter((l) => (JSON.parse(l) as Line).msg === 'webhook trace').length;
    const send = () => post(`${gw.url}/open`, '{}', { 'content-type': 'application/json' });
    const put = (level: string) => fetch(`${gw.adminUrl}/loglevel`, { method: 'PUT', body: level });
    try {
      expect(await (await fetch(`${gw.adminUrl}/loglevel`)).text()).toBe('info\n');
      await send();
      expect(traces()).toBe(0);

      const res = await put('debug');
      expect([res.status, await res.text()]).toEqual([200, 'debug\n']);
      await send();
      expect(traces()).toBe(1);

      const bad = await put('verbose');
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('debug, info, warn, error');

      expect((await put('warn')).status).toBe(200);
      await send();
      expect(traces()).toBe(1);
      expect(gw.logs.filter((l) => (JSON.parse(l) as Line).msg === 'webhook')).toHaveLength(2);
      const changes = gw.logs.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'log level changed');
      expect(changes.map((l) => [l.from, l.to])).toEqual([
        ['info', 'debug'],
        ['debug', 'warn'],
      ]);
      // Not on the webhook port.
      expect((await fetch(`${gw.url}/loglevel`, { method: 'PUT', body: 'debug' })).status).toBe(404);
    } finally {
      await gw.stop();
    }
  });
});
