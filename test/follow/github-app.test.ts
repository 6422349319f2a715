// installationToken (src/follow/report/github-app.ts), the one door to @octokit/auth-app, against the fake
// GitHub's token endpoint: the JWT is checked as GitHub checks it, tokens are cached until shortly before
// their expiry, a rotated key is used at once, and refusals, outages and bad keys are told apart without
// ever quoting the key or a token.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { installationToken } from '../../src/follow/report/github-app.js';
import { startFakeStatusHosts, type FakeStatusHostsOptions } from '../fake-git/status-hosts.js';
import { repoRoot } from '../helpers/shared.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pkcs1: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicKey,
  };
}

const APP_ID = 4242;
const INSTALLATION = 77;

async function github(options: Partial<FakeStatusHostsOptions> = {}) {
  const key = keyPair();
  const hosts = await startFakeStatusHosts('status-token', {
    app: { id: APP_ID, publicKey: key.publicKey, installations: [INSTALLATION] },
    ...options,
  });
  cleanup.push(() => hosts.close());
  const tokenCalls = () => hosts.answered.filter(([h]) => h === 'github-app');
  return { hosts, key, apiURL: `${hosts.url}/github`, tokenCalls };
}

describe('installationToken', () => {
  it('buys a token at {apiURL}/app/installations/{id}/access_tokens with a JWT GitHub accepts, then serves it from the cache', async () => {
    const { hosts, key, apiURL, tokenCalls } = await github();
    const first = await installationToken(APP_ID, key.pkcs8, String(INSTALLATION), apiURL);
    expect(first).toMatchObject({ kind: 'token', token: hosts.issued[0]!.token });
    // Concurrent asks for the same installation share one purchase.
    const more = await Promise.all(
      [1, 2, 3].map(() => installationToken(APP_ID, key.pkcs8, String(INSTALLATION), apiURL)),
    );
    for (const r of more) expect(r).toEqual(first);
    expect(tokenCalls()).toEqual([['github-app', 201]]);
  });

  it('a PKCS#1 key (what GitHub hands out) works as well as PKCS#8', async () => {
    const { hosts, key, apiURL } = await github();
    const result = await installationToken(APP_ID, key.pkcs1, String(INSTALLATION), apiURL);
    expect(result).toMatchObject({ kind: 'token', token: hosts.issued[0]!.token });
  });

  it('a cached token within five minutes of expires_at is replaced by a new one', async () => {
    const { hosts, key, apiURL, tokenCalls } = await github({ tokenLifetimeMs: 10 * 60_000 });
    const first = await installationToken(APP_ID, key.pkcs8, String(INSTALLATION), apiURL);
    const soon = await installationToken(APP_ID, key.pkcs8, String(INSTALLATION), apiURL, {
      now: () => Date.now() + 4 * 60_000,
    });
    expect(soon).toEqual(first);
    const late = await installationToken(APP_ID, key.pkcs8, String(INSTALLATION), apiURL, {
      now: () => Date.now() + 6 * 60_000,
    });
    expect(late).toMatchObject({ kind: 'token', token: hosts.issued[1]!.token });
    expect(tokenCalls()).toHaveLength(2);
  });

  it('a rotated private key is used at once: the old key’s cached token is not handed out', async () => {
    const { key, apiURL, tokenCalls } = await github();
    expect(await installationToken(APP_ID, key.pkcs8, String(INSTALLATION), apiURL)).toMatchObject({
      kind: 'token',
    });
    const other = keyPair();
    // GitHub still knows only the first key: the new one is asked for a token, and refused.
    const rotated = await installationToken(APP_ID, other.pkcs8, String(INSTALLATION), apiURL);
    expect(rotated).toMatchObject({ kind: 'failure', message: expect.stringContaining('HTTP 401') });
    expect(tokenCalls()).toEqual([
      ['github-app', 201],
      ['github-app', 401],
    ]);
  });

  it.each([
    { name: 'another App id', appId: APP_ID + 1, installation: String(INSTALLATION), want: 'HTTP 401' },
    { name: 'an installation of another App', appId: APP_ID, installation: '78', want: 'HTTP 404' },
  ])('$name: a permanent failure', async ({ appId, installation, want }) => {
    const { key, apiURL } = await github();
    const result = await installationToken(appId, key.pkcs8, installation, apiURL);
    expect(result).toMatchObject({ kind: 'failure', message: expect.stringContaining(want) });
  });

  it.each(['', 'abc', '0', '12; rm', '1e3'])(
    'installation id %j: a failure without any call',
    async (installation) => {
      const { key, apiURL, tokenCalls } = await github();
      const result = await installationToken(APP_ID, key.pkcs8, installation, apiURL);
      expect(result).toMatchObject({ kind: 'failure' });
      expect(tokenCalls()).toHaveLength(0);
    },
  );

  it('a key that does not parse: a failure whose message quotes nothing of it', async () => {
    const { apiURL, tokenCalls } = await github();
    const broken = '-----BEGIN PRIVATE KEY-----\nbm90LWEta2V5LXNlY3JldC1iaXRz\n-----END PRIVATE KEY-----\n';
    const result = await installationToken(APP_ID, broken, String(INSTALLATION), apiURL);
    expect(result).toMatchObject({ kind: 'failure', message: expect.stringContaining('does not parse') });
    expect(JSON.stringify(result)).not.toContain('bm90LWEta2V5');
    expect(tokenCalls()).toHaveLength(0);
  });

  it('503 from the token endpoint is a retry after its Retry-After; the next ask gets the token', async () => {
    const { hosts, key, apiURL } = await github();
    hosts.fail(1, 503, { 'Retry-After': '2' });
    expect(await installationToken(APP_ID, key.pkcs8, String(INSTALLATION), apiURL)).toMatchObject({
      kind: 'retry',
      afterMs: 2000,
    });
    expect(await installationToken(APP_ID, key.pkcs8, String(INSTALLATION), apiURL)).toMatchObject({
      kind: 'token',
    });
  });

  it('an unreachable token endpoint is a retry', async () => {
    const { key } = await github();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const result = await installationToken(
      APP_ID,
      key.pkcs8,
      String(INSTALLATION),
      `http://127.0.0.1:${port}/api/v3`,
    );
    expect(result).toMatchObject({ kind: 'retry' });
  });

  it('a redirect is a failure and is not followed (the JWT never leaves the configured origin)', async () => {
    const { key } = await github();
    let followed = 0;
    const target = http.createServer((_req, res) => {
      followed++;
      res.end();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => target.close(r)));
    const redirector = http.createServer((_req, res) => {
      res.writeHead(307, { Location: `http://127.0.0.1:${(target.address() as AddressInfo).port}/` });
      res.end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => redirector.close(r)));
    const result = await installationToken(
      APP_ID,
      key.pkcs8,
      String(INSTALLATION),
      `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/api/v3`,
    );
    expect(result).toMatchObject({ kind: 'failure', message: expect.stringContaining('HTTP 307') });
    expect(followed).toBe(0);
  });

  it('the fake GitHub refuses a JWT that expires more than 10 minutes ahead, as GitHub does', async () => {
    const { key, apiURL } = await github();
    const now = Math.floor(Date.now() / 1000);
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 30, exp: now + 700, iss: APP_ID })}`;
    const signature = sign('RSA-SHA256', Buffer.from(unsigned), key.pkcs8).toString('base64url');
    const answer = await fetch(`${apiURL}/app/installations/${INSTALLATION}/access_tokens`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${unsigned}.${signature}` },
    });
    expect(answer.status).toBe(401);
    expect(await answer.text()).toContain('too far in the future');
  });
});

it('@octokit/auth-app enters through src/follow/report/github-app.ts only', () => {
  const importers = (readdirSync(`${repoRoot}/src`, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => /from '@octokit\//.test(readFileSync(`${repoRoot}/src/${f}`, 'utf8')));
  expect(importers).toEqual(['follow/report/github-app.ts']);
});
