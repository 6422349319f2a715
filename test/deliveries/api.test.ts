// Contract §14 and §12.0 item 12 through a real `serve`: webhooks over loopback HTTP, creates through the fake
// Kubernetes API, and the admin port's deliveries endpoints with a real token file.
import { createHmac } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { post, routesFile } from '../helpers/gateway.js';
import { Cleanup, fakeKube, gatewayOn } from '../integration/harness.js';
import { scrape, valueOf } from '../ops/support.js';
import {
  basic,
  bearer,
  extraToken,
  getJson,
  githubSecret,
  postJson,
  pushBody,
  routesYaml,
  sendGithub,
  tokenFile,
} from './support.js';

const TOKEN = 'admin-token-for-tests';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function gateway(gatewayYaml = '', extraArgs: string[] = [], token: string | null = TOKEN) {
  const fake = await fakeKube(cleanup);
  const file = token === null ? undefined : tokenFile(token);
  const routes = routesFile(routesYaml(gatewayYaml));
  const gw = await gatewayOn(cleanup, fake, routes, [
    ...(file ? ['--admin-token-file', file] : []),
    ...extraArgs,
  ]);
  return { gw, fake, file, routes };
}

describe('the admin token', () => {
  it('without --admin-token-file every deliveries path is 404, while /metrics and /routes stay open', async () => {
    const { gw } = await gateway('', [], null);
    await sendGithub(gw.url, pushBody(), 'd-1');
    for (const path of ['/', '/deliveries', '/deliveries/d-1']) {
      expect((await getJson(`${gw.adminUrl}${path}`, bearer(TOKEN))).status, path).toBe(404);
    }
    expect((await postJson(`${gw.adminUrl}/deliveries/d-1/replay`, bearer(TOKEN))).status).toBe(404);
    expect((await getJson(`${gw.adminUrl}/metrics`)).status).toBe(200);
    expect((await getJson(`${gw.adminUrl}/routes`)).status).toBe(200);
  });

  it('401 without or with a wrong token, a Basic challenge for browsers, and the token never echoed', async () => {
    const { gw } = await gateway();
    const none = await getJson(`${gw.adminUrl}/deliveries`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(none.json.error).toMatch(/Authorization: Bearer/);
    const wrong = await getJson(`${gw.adminUrl}/deliveries`, bearer('not-it'));
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain(TOKEN);
    expect((await getJson(`${gw.adminUrl}/`, basic('not-it'))).status).toBe(401);
    expect(gw.logs.join('')).not.toContain(TOKEN);
  });

  it('Bearer and Basic (token as password) open GET; POST takes Bearer only', async () => {
    const { gw } = await gateway();
    await sendGithub(gw.url, pushBody(), 'd-1');
    expect((await getJson(`${gw.adminUrl}/deliveries`, bearer(TOKEN))).status).toBe(200);
    expect((await getJson(`${gw.adminUrl}/deliveries`, basic(TOKEN))).status).toBe(200);
    expect((await getJson(`${gw.adminUrl}/`, basic(TOKEN, ''))).status).toBe(200);
    const viaBasic = await postJson(`${gw.adminUrl}/deliveries/d-1/replay?dryRun=true`, basic(TOKEN));
    expect(viaBasic.status).toBe(401);
    expect(viaBasic.json.error).toMatch(/Basic is accepted for GET only/);
    expect(viaBasic.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await postJson(`${gw.adminUrl}/deliveries/d-1/replay?dryRun=true`, bearer(TOKEN))).status).toBe(
      200,
    );
  });

  it('a POST whose Origin is not this host is refused (403); a matching one passes', async () => {
    const { gw } = await gateway();
    await sendGithub(gw.url, pushBody(), 'd-1');
    const url = `${gw.adminUrl}/deliveries/d-1/replay?dryRun=true`;
    const cross = await postJson(url, { ...bearer(TOKEN), origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    expect(cross.json.error).toMatch(/Origin/);
    const host = new URL(gw.adminUrl).host;
    expect((await postJson(url, { ...bearer(TOKEN), origin: `http://${host}` })).status).toBe(200);
  });

  it('the token file is re-read when it changes: the new token works, the old one stops; no file → 404', async () => {
    const { gw, file } = await gateway();
    expect((await getJson(`${gw.adminUrl}/deliveries`, bearer(TOKEN))).status).toBe(200);
    writeFileSync(file!, 'rotated-token\n');
    expect((await getJson(`${gw.adminUrl}/deliveries`, bearer(TOKEN))).status).toBe(401);
    expect((await getJson(`${gw.adminUrl}/deliveries`, bearer('rotated-token'))).status).toBe(200);
    rmSync(file!);
    expect((await getJson(`${gw.adminUrl}/deliveries`, bearer('rotated-token'))).status).toBe(404);
    expect(gw.logs.join('')).toContain('admin token unusable');
  });

  it('a token file missing at start-up disables the page (error logged) but serve runs', async () => {
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(cleanup, fake, routesFile(routesYaml()), [
      '--admin-token-file',
      '/nonexistent/token',
    ]);
    expect((await sendGithub(gw.url, pushBody(), 'd-1')).status).toBe(201);
    expect((await getJson(`${gw.adminUrl}/deliveries`, bearer(TOKEN))).status).toBe(404);
    const line = gw.logs.map((l) => JSON.parse(l)).find((l) => l.msg.startsWith('admin token unusable'));
    expect(line).toMatchObject({ level: 'error', file: '/nonexistent/token' });
  });
});

describe('GET /deliveries', () => {
  it('lists newest first with the §14 fields and the §3 triggers', async () => {
    const { gw } = await gateway();
    expect((await sendGithub(gw.url, pushBody(), 'first')).status).toBe(201);
    expect((await sendGithub(gw.url, pushBody({ ref: 'refs/heads/dev' }), 'second')).status).toBe(200);
    const res = await getJson(`${gw.adminUrl}/deliveries`, bearer(TOKEN));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const [second, first] = res.json;
    expect(second).toMatchObject({
      eventId: 'second',
      route: '/github',
      provider: 'github',
      event: 'push',
      status: 200,
      verified: true,
      triggers: [
        { name: 'push', outcome: 'skipped', reason: "filter returned false: body.ref == 'refs/heads/main'" },
      ],
    });
    expect(first.eventId).toBe('first');
    expect(first.triggers[0]).toMatchObject({ name: 'push', outcome: 'created' });
    expect(first.triggers[0].resources[0].name).toMatch(/^build-[a-z0-9]{10}$/);
    for (const d of [first, second]) {
      expect(Date.parse(d.time)).toBeGreaterThan(Date.now() - 60_000);
      expect(typeof d.durationMs).toBe('number');
      expect(typeof d.replica).toBe('string');
    }
  });

  it('filters by route and outcome, limits, and defaults the limit to 50', async () => {
    const { gw } = await gateway();
    for (let i = 0; i < 53; i++) await sendGithub(gw.url, pushBody({ ref: 'refs/heads/dev' }), `skip-${i}`);
    await sendGithub(gw.url, pushBody(), 'made');
    await post(`${gw.url}/shared`, pushBody(), {
      'content-type': 'application/json',
      'x-delivery': 'shared-1',
    });
    const list = (q: string) => getJson(`${gw.adminUrl}/deliveries${q}`, bearer(TOKEN)).then((r) => r.json);
    expect(await list('')).toHaveLength(50);
    expect((await list('?limit=3')).map((d: any) => d.eventId)).toEqual(['shared-1', 'made', 'skip-52']);
    expect((await list('?route=/shared')).map((d: any) => d.eventId)).toEqual(['shared-1']);
    expect((await list('?outcome=created')).map((d: any) => d.eventId)).toEqual(['made']);
    expect((await list('?route=/github&outcome=skipped&limit=100')).length).toBe(53);
    const bad = await getJson(`${gw.adminUrl}/deliveries?limit=zero`, bearer(TOKEN));
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/limit must be a whole number/);
  });

  it('deliveries_stored counts what is kept', async () => {
    const { gw } = await gateway();
    await sendGithub(gw.url, pushBody(), 'one');
    await post(`${gw.url}/nowhere`, '{}', { 'content-type': 'application/json' });
    expect(valueOf(await scrape(gw.adminUrl), 'tekton_gateway_deliveries_stored')).toBe(2);
  });
});

describe('bounds', () => {
  it('gateway.deliveries.max: the oldest goes out first', async () => {
    const { gw } = await gateway('deliveries: {max: 3}');
    for (const id of ['a', 'b', 'c', 'd', 'e']) await sendGithub(gw.url, pushBody(), id);
    const { json } = await getJson(`${gw.adminUrl}/deliveries`, bearer(TOKEN));
    expect(json.map((d: any) => d.eventId)).toEqual(['e', 'd', 'c']);
    expect((await getJson(`${gw.adminUrl}/deliveries/a`, bearer(TOKEN))).status).toBe(404);
  });

  it('gateway.deliveries.maxBytes: bodies and answers count, the oldest goes out first', async () => {
    const { gw } = await gateway('deliveries: {max: 100, maxBytes: 8192}');
    const body = pushBody({ padding: 'x'.repeat(1500) }); // ~1.6 KB, plus the answer and headers
    for (let i = 0; i < 10; i++) await sendGithub(gw.url, body, `big-${i}`);
    const { json } = await getJson(`${gw.adminUrl}/deliveries`, bearer(TOKEN));
    const ids = json.map((d: any) => d.eventId);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(ids.length).toBeLessThan(8192 / body.length);
    expect(ids[0]).toBe('big-9');
    // Contiguous newest: exactly the oldest went out.
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => `big-${9 - i}`));
  });

  it('a body over maxBytes/4 is kept without its body, and cannot be replayed (409)', async () => {
    const { gw } = await gateway('deliveries: {maxBytes: 8192}');
    const body = pushBody({ padding: 'x'.repeat(3000) });
    expect((await sendGithub(gw.url, body, 'huge')).status).toBe(201);
    const d = (await getJson(`${gw.adminUrl}/deliveries/huge`, bearer(TOKEN))).json;
    expect(d.request.body).toBeNull();
    expect(d.request.bodyBytes).toBe(body.length);
    expect(d.request.bodyOmitted).toMatch(/over gateway\.deliveries\.maxBytes\/4/);
    expect(d.triggers[0].outcome).toBe('created');
    const replay = await postJson(`${gw.adminUrl}/deliveries/huge/replay`, bearer(TOKEN));
    expect(replay.status).toBe(409);
    expect(replay.json.error).toMatch(/no stored body/);
  });

  it('unverified requests go to their own ring of 50 without bodies: they never push verified ones out', async () => {
    const { gw } = await gateway('deliveries: {max: 5}');
    await sendGithub(gw.url, pushBody(), 'good');
    const bad = pushBody({ secret: 'payload-of-a-stranger' });
    for (let i = 0; i < 60; i++) {
      await post(`${gw.url}/github`, bad, {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': `bad-${i}`,
        'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
      });
    }
    const { json } = await getJson(`${gw.adminUrl}/deliveries?limit=1000`, bearer(TOKEN));
    const unverified = json.filter((d: any) => !d.verified);
    expect(unverified).toHaveLength(50);
    expect(unverified[0]).toMatchObject({ eventId: 'bad-59', status: 401, triggers: [] });
    expect(unverified[0].error).toMatch(/X-Hub-Signature-256/);
    expect(json.filter((d: any) => d.verified).map((d: any) => d.eventId)).toEqual(['good']);
    const detail = (await getJson(`${gw.adminUrl}/deliveries/bad-59`, bearer(TOKEN))).json;
    expect(detail.request.body).toBeNull();
    expect(detail.request.bodyOmitted).toMatch(/did not pass verification/);
    expect(JSON.stringify(detail)).not.toContain('payload-of-a-stranger');
    const replay = await postJson(`${gw.adminUrl}/deliveries/bad-59/replay`, bearer(TOKEN));
    expect(replay.status).toBe(409);
  });
});

describe('verified but refused', () => {
  it('a signed body that is not a JSON object (400) is kept with its body; its replay answers 400 again', async () => {
    const { gw } = await gateway();
    const body = Buffer.from('[1, 2, 3]');
    expect((await sendGithub(gw.url, body, 'array')).status).toBe(400);
    const d = (await getJson(`${gw.adminUrl}/deliveries/array`, bearer(TOKEN))).json;
    expect(d).toMatchObject({ verified: true, status: 400, triggers: [] });
    expect(d.error).toMatch(/JSON object/);
    expect(d.request.body).toBe('[1, 2, 3]');
    const replay = await postJson(`${gw.adminUrl}/deliveries/array/replay`, bearer(TOKEN));
    expect(replay.status).toBe(400);
    expect(replay.json.eventId).toBe('array-replay-1');
  });

  it('wrong methods get 405 with Allow', async () => {
    const { gw } = await gateway();
    const put = await fetch(`${gw.adminUrl}/deliveries`, { method: 'PUT', headers: bearer(TOKEN) });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET');
    const get = await getJson(`${gw.adminUrl}/deliveries/x/replay`, bearer(TOKEN));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

describe('redaction', () => {
  it('signature, token, cookie and compareSecret headers and query values are stored as <redacted>', async () => {
    const { gw } = await gateway();
    const body = pushBody();
    const sig = createHmac('sha256', githubSecret).update(body).digest('hex');
    await post(`${gw.url}/generic/sub?token=query-secret&flag`, body, {
      'content-type': 'application/json',
      'x-my-sig': sig,
      'x-delivery': 'gen-1',
      authorization: 'Bearer sender-credential',
      cookie: 'session=cookie-secret',
    });
    await post(`${gw.url}/shared`, body, {
      'content-type': 'application/json',
      'x-delivery': 'shared-1',
      'x-extra-token': extraToken,
    });
    await sendGithub(gw.url, body, 'gh-1', { 'proxy-authorization': 'Basic cHJveHk6c2VjcmV0' });
    // Sent to a path no route serves: the secret headers of every route are still redacted.
    const lost = await post(`${gw.url}/nowhere`, body, {
      'content-type': 'application/json',
      'x-my-sig': sig,
      'x-extra-token': extraToken,
    });
    expect(lost.status).toBe(404);
    const lostId = lost.json.eventId as string;
    const gen = (await getJson(`${gw.adminUrl}/deliveries/gen-1`, bearer(TOKEN))).json;
    expect(gen.triggers[0].outcome).toBe('created');
    expect(gen.request.path).toBe('/generic/sub?token=<redacted>&flag');
    expect(gen.request.headers['x-my-sig']).toEqual(['<redacted>']);
    expect(gen.request.headers.authorization).toEqual(['<redacted>']);
    expect(gen.request.headers.cookie).toEqual(['<redacted>']);
    expect(gen.request.headers['x-delivery']).toEqual(['gen-1']);
    const shared = (await getJson(`${gw.adminUrl}/deliveries/shared-1`, bearer(TOKEN))).json;
    expect(shared.triggers[0].outcome).toBe('created');
    expect(shared.request.headers['x-extra-token']).toEqual(['<redacted>']);
    const gh = (await getJson(`${gw.adminUrl}/deliveries/gh-1`, bearer(TOKEN))).json;
    expect(gh.request.headers['x-hub-signature-256']).toEqual(['<redacted>']);
    expect(gh.request.headers['proxy-authorization']).toEqual(['<redacted>']);
    expect(gh.request.headers['x-github-delivery']).toEqual(['gh-1']);
    const unrouted = (await getJson(`${gw.adminUrl}/deliveries/${lostId}`, bearer(TOKEN))).json;
    expect(unrouted).toMatchObject({ route: '', status: 404, verified: false });
    expect(unrouted.request.headers['x-my-sig']).toEqual(['<redacted>']);
    expect(unrouted.request.headers['x-extra-token']).toEqual(['<redacted>']);
    const everything = [
      JSON.stringify(unrouted),
      JSON.stringify((await getJson(`${gw.adminUrl}/deliveries?limit=100`, bearer(TOKEN))).json),
      JSON.stringify(gen),
      JSON.stringify(shared),
      JSON.stringify(gh),
      (await getJson(`${gw.adminUrl}/?id=gen-1`, bearer(TOKEN))).text,
      (await getJson(`${gw.adminUrl}/?id=shared-1`, bearer(TOKEN))).text,
    ].join('\n');
    for (const secret of [
      sig,
      'query-secret',
      'sender-credential',
      'cookie-secret',
      extraToken,
      'cHJveHk6c2VjcmV0',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('POST /deliveries/<eventId>/replay', () => {
  it('without dryRun: dedupe makes a replay of a delivery that created its runs answer duplicate', async () => {
    const { gw, fake } = await gateway();
    const first = await sendGithub(gw.url, pushBody(), 'orig');
    expect(first.status).toBe(201);
    const created = (first.json.triggers as any[])[0].resources[0];
    const replay = await postJson(`${gw.adminUrl}/deliveries/orig/replay`, bearer(TOKEN));
    expect(replay.status).toBe(201);
    expect(replay.json).toMatchObject({
      eventId: 'orig-replay-1',
      route: '/github',
      triggers: [{ name: 'push', outcome: 'duplicate', resources: [created] }],
    });
    expect(fake.objects()).toHaveLength(1);
    const stored = (await getJson(`${gw.adminUrl}/deliveries/orig-replay-1`, bearer(TOKEN))).json;
    expect(stored).toMatchObject({ replayOf: 'orig', status: 201, route: '/github', verified: true });
    const again = await postJson(`${gw.adminUrl}/deliveries/orig/replay`, bearer(TOKEN));
    expect(again.json.eventId).toBe('orig-replay-2');
    // A replay of a replay counts among the original's.
    const ofReplay = await postJson(`${gw.adminUrl}/deliveries/orig-replay-1/replay`, bearer(TOKEN));
    expect(ofReplay.json.eventId).toBe('orig-replay-3');
    expect(gw.logs.some((l) => l.includes('"deliveries: replayed"') && l.includes('orig-replay-1'))).toBe(
      true,
    );
  });

  it('replays through the current config: a push skipped on arrival creates once the filter is fixed', async () => {
    const { gw, fake, routes } = await gateway();
    const skipped = await sendGithub(gw.url, pushBody({ ref: 'refs/heads/dev' }), 'skipped');
    expect(skipped.status).toBe(200);
    expect(fake.objects()).toHaveLength(0);
    writeFileSync(
      routes,
      routesYaml().replace(
        "filter: body.ref == 'refs/heads/main'",
        "filter: body.ref.startsWith('refs/heads/')",
      ),
    );
    expect(gw.handle.reload()).toBe(true);
    const replay = await postJson(`${gw.adminUrl}/deliveries/skipped/replay`, bearer(TOKEN));
    expect(replay.status).toBe(201);
    expect(replay.json.triggers[0].outcome).toBe('created');
    const [object] = fake.objects() as any[];
    expect(replay.json.triggers[0].resources[0].name).toBe(object.metadata.name);
    expect(object.metadata.labels['triggers.tekton.dev/triggers-eventid']).toBe('skipped-replay-1');
    // The name comes from the original dedupe key: a redelivery of the original now finds it.
    const redelivered = await sendGithub(gw.url, pushBody({ ref: 'refs/heads/dev' }), 'skipped');
    expect(redelivered.json.triggers).toMatchObject([{ outcome: 'duplicate' }]);
    expect(fake.objects()).toHaveLength(1);
  });

  it('with dryRun=true: answers rendered with the objects, named as on arrival, and creates nothing', async () => {
    const { gw, fake } = await gateway();
    const first = await sendGithub(gw.url, pushBody(), 'dry');
    const name = (first.json.triggers as any[])[0].resources[0].name;
    const replay = await postJson(`${gw.adminUrl}/deliveries/dry/replay?dryRun=true`, bearer(TOKEN));
    expect(replay.status).toBe(200);
    const [trigger] = replay.json.triggers;
    expect(trigger.outcome).toBe('rendered');
    expect(trigger.objects[0].metadata.name).toBe(name);
    expect(trigger.objects[0].metadata.labels['triggers.tekton.dev/triggers-eventid']).toBe('dry-replay-1');
    expect(trigger.objects[0].spec.params).toEqual([{ name: 'revision', value: 'a'.repeat(40) }]);
    expect(fake.objects()).toHaveLength(1);
  });

  it('unknown id → 404; a route removed or changed since arrival → 409', async () => {
    const { gw, routes } = await gateway();
    await sendGithub(gw.url, pushBody(), 'moved');
    const unknown = await postJson(`${gw.adminUrl}/deliveries/nope/replay`, bearer(TOKEN));
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatch(/no delivery nope/);
    writeFileSync(
      routes,
      routesYaml().replace('path: /github\n    provider: github', 'path: /github\n    provider: gitea'),
    );
    expect(gw.handle.reload()).toBe(true);
    const conflict = await postJson(`${gw.adminUrl}/deliveries/moved/replay`, bearer(TOKEN));
    expect(conflict.status).toBe(409);
    expect(conflict.json.error).toMatch(
      /arrived on route \/github \(provider github\) and now matches route \/github \(provider gitea\)/,
    );
  });
});

describe('the page', () => {
  it('GET / is HTML under the strict CSP, escapes a <script> payload and links runs to the Dashboard', async () => {
    const { gw } = await gateway('dashboardURL: https://dashboard.example.com/');
    const evil = '<script>alert("pwned")</script>';
    const body = pushBody({ head_commit: { message: evil } });
    await sendGithub(gw.url, body, 'evil-"><script>x()</script>', { 'x-note': evil });
    await sendGithub(gw.url, pushBody({ ref: 'refs/heads/dev' }), 'skipped-one');
    const list = await getJson(`${gw.adminUrl}/`, basic(TOKEN));
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/^text\/html/);
    expect(list.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(list.text).not.toMatch(/<script/i);
    expect(list.text).toContain('evil-&#34;&#62;&#60;script&#62;x()&#60;/script&#62;');
    expect(list.text).toContain('push: skipped');
    expect(list.text).not.toMatch(/src="http|href="http(?!s:\/\/dashboard)/);

    const detail = await getJson(
      `${gw.adminUrl}/?id=${encodeURIComponent('evil-"><script>x()</script>')}`,
      basic(TOKEN),
    );
    expect(detail.status).toBe(200);
    expect(detail.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'",
    );
    expect(detail.text).not.toMatch(/<script/i);
    expect(detail.text).toContain('&#60;script&#62;alert(\\&#34;pwned\\&#34;)&#60;/script&#62;');
    expect(detail.text).toContain('<th>x-hub-signature-256</th><td>&#60;redacted&#62;</td>');
    const run = /<a class="run" href="([^"]+)"/.exec(detail.text);
    expect(run?.[1]).toMatch(
      /^https:\/\/dashboard\.example\.com\/#\/namespaces\/default\/pipelineruns\/build-[a-z0-9]{10}$/,
    );

    const skipped = await getJson(`${gw.adminUrl}/?id=skipped-one`, basic(TOKEN));
    expect(skipped.text).toContain('filter returned false: body.ref == &#39;refs/heads/main&#39;');
  });

  it('without gateway.dashboardURL the runs are listed without links; an unknown id is a 404 page', async () => {
    const { gw } = await gateway();
    await sendGithub(gw.url, pushBody(), 'plain');
    const detail = await getJson(`${gw.adminUrl}/?id=plain`, basic(TOKEN));
    expect(detail.text).toMatch(/<li>PipelineRun default\/build-[a-z0-9]{10}<\/li>/);
    expect(detail.text).not.toContain('class="run"');
    const missing = await getJson(`${gw.adminUrl}/?id=nope`, basic(TOKEN));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('the replay form posts the token it is given (not the cached Basic credentials) and shows the answer', async () => {
    const { gw } = await gateway();
    await sendGithub(gw.url, pushBody(), 'form');
    const form = (token: string) =>
      postJson(
        `${gw.adminUrl}/deliveries/form/replay?dryRun=true`,
        { 'content-type': 'application/x-www-form-urlencoded', ...basic(TOKEN) },
        new URLSearchParams({ token, mode: 'dry-run' }).toString(),
      );
    const denied = await form('wrong');
    expect(denied.status).toBe(401);
    expect(denied.headers.get('content-type')).toMatch(/^text\/html/);
    const ok = await postJson(
      `${gw.adminUrl}/deliveries/form/replay?dryRun=true`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ token: TOKEN }).toString(),
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(ok.text).toContain('Replay <code>form-replay-1</code>');
    expect(ok.text).toContain('push: rendered');
    expect(ok.text).toContain('&#34;kind&#34;: &#34;PipelineRun&#34;');
  });
});
