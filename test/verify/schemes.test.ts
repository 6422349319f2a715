// Behaviour particular to one host's scheme, beyond the shared contract (contract.test.ts).
import { describe, expect, it } from 'vitest';
import type { GenericSignature } from '../../src/model.js';
import { verifySignature } from '../../src/pipeline/verify/index.js';
import { delivery, genericSignature, hmacOf, payload, route, standardWebhookSignature } from './support.js';

const NOW = Date.UTC(2026, 3, 1, 9, 30, 0);
const SECRET = 'demo-secret-for-tests';
const hex = (body: Buffer, secret = SECRET) => hmacOf('sha256', secret, body).toString('hex');

describe('provider: none', () => {
  it('verifySignature(none route, unsigned request, no secrets) is ok: the route is explicitly insecure', () => {
    expect(
      verifySignature(route('none', { secretRefs: [] }), delivery({}, Buffer.from('{}')), [], NOW),
    ).toEqual({
      ok: true,
    });
  });
});

describe('GitHub', () => {
  const body = payload('github/push.json');
  const check = (headers: Record<string, string | string[]>) =>
    verifySignature(route('github'), delivery(headers, body), [Buffer.from(SECRET)], NOW);

  it('accepts upper-case hex digits', () => {
    expect(check({ 'X-Hub-Signature-256': `sha256=${hex(body).toUpperCase()}` })).toMatchObject({ ok: true });
  });

  it('ignores the legacy SHA-1 X-Hub-Signature, as Tekton does since v0.34', () => {
    const sha1 = `sha1=${hmacOf('sha1', SECRET, body).toString('hex')}`;
    expect(check({ 'X-Hub-Signature': sha1 })).toEqual({
      ok: false,
      message: 'missing X-Hub-Signature-256 header',
    });
  });

  it.each([
    { name: 'a sha1= value', value: `sha1=${hmacOf('sha1', SECRET, body).toString('hex')}` },
    { name: 'no prefix', value: hex(body) },
    { name: 'non-hex digits of the right length', value: `sha256=zz${hex(body).slice(2)}` },
    { name: 'Tekton\'s "foo"', value: 'foo' },
  ])('refuses $name, describing the expected form', ({ value }) => {
    expect(check({ 'X-Hub-Signature-256': value })).toEqual({
      ok: false,
      message: 'X-Hub-Signature-256 is not "sha256=" followed by 64 hex digits',
    });
  });

  it('reads only the first of several values', () => {
    const good = `sha256=${hex(body)}`;
    const bad = `sha256=${hex(body, 'other')}`;
    expect(check({ 'X-Hub-Signature-256': [good, bad] })).toMatchObject({ ok: true });
    expect(check({ 'X-Hub-Signature-256': [bad, good] }).ok).toBe(false);
  });

  it('verifies a Gitea delivery by the X-Hub-Signature-256 copy Gitea sends', () => {
    const gitea = payload('gitea/push-event.json');
    const result = verifySignature(
      route('github'),
      delivery({ 'X-Gitea-Signature': hex(gitea), 'X-Hub-Signature-256': `sha256=${hex(gitea)}` }, gitea),
      [Buffer.from(SECRET)],
      NOW,
    );
    expect(result).toMatchObject({ ok: true });
  });
});

describe('Gitea, Forgejo and Gogs are not confused by the GitHub-style copies they also send', () => {
  const body = payload('gitea/pull-request-event.json');
  const realGitea = (own: string) => ({
    'X-Gitea-Signature': own,
    'X-Gogs-Signature': own,
    'X-Hub-Signature': `sha1=${hmacOf('sha1', SECRET, body).toString('hex')}`,
    'X-Hub-Signature-256': `sha256=${hex(body)}`,
    'X-GitHub-Event': 'pull_request',
  });
  const check = (provider: 'gitea' | 'forgejo' | 'gogs', headers: Record<string, string>) =>
    verifySignature(route(provider), delivery(headers, body), [Buffer.from(SECRET)], NOW);

  it('gitea: a valid X-Hub-Signature-256 does not stand in for a wrong X-Gitea-Signature', () => {
    expect(check('gitea', realGitea(hex(body, 'other')))).toEqual({
      ok: false,
      message: 'X-Gitea-Signature does not match the body signed with the configured secret',
    });
  });

  it('gitea: a valid X-Hub-Signature-256 does not stand in for a missing X-Gitea-Signature', () => {
    const { 'X-Gitea-Signature': _, ...rest } = realGitea(hex(body));
    expect(check('gitea', rest)).toEqual({ ok: false, message: 'missing X-Gitea-Signature header' });
  });

  it('gitea: an empty X-Gitea-Signature (hook without a secret) says so', () => {
    expect(check('gitea', realGitea(''))).toEqual({
      ok: false,
      message: 'X-Gitea-Signature header is empty (is a secret set on the webhook?)',
    });
  });

  it('forgejo: accepts the full header set Forgejo sends', () => {
    expect(check('forgejo', { ...realGitea(hex(body)), 'X-Forgejo-Signature': hex(body) })).toEqual({
      ok: true,
    });
  });

  it('forgejo: X-Forgejo-Signature decides when present, even if X-Gitea-Signature is right', () => {
    expect(check('forgejo', { ...realGitea(hex(body)), 'X-Forgejo-Signature': hex(body, 'other') })).toEqual({
      ok: false,
      message: 'X-Forgejo-Signature does not match the body signed with the configured secret',
    });
  });

  it('gogs: reads X-Gogs-Signature, not X-Gitea-Signature', () => {
    const { 'X-Gogs-Signature': _, ...rest } = realGitea(hex(body));
    expect(check('gogs', rest)).toEqual({ ok: false, message: 'missing X-Gogs-Signature header' });
    expect(check('gogs', { ...rest, 'X-Gogs-Signature': hex(body) })).toMatchObject({ ok: true });
  });
});

describe('Bitbucket', () => {
  const body = payload('bitbucket/pull-request-created.json');
  it.each(['md5', 'SHA256', 'sha384'])('refuses a %s= prefix', (prefix) => {
    const result = verifySignature(
      route('bitbucket'),
      delivery({ 'X-Hub-Signature': `${prefix}=${hex(body)}` }, body),
      [Buffer.from(SECRET)],
      NOW,
    );
    expect(result).toEqual({
      ok: false,
      message: 'X-Hub-Signature is not "sha256=" (or "sha1=", "sha512=") followed by a hex HMAC',
    });
  });
});

describe('GitLab', () => {
  const body = payload('gitlab/merge-request-event.json');
  const token = 'gitlab-plain-token';
  const signingKey = `whsec_${Buffer.from('a 32-byte signing key for tests!').toString('base64')}`;
  const id = 'f6b7a2d4-0c1e-4e5f-8a9b-1c2d3e4f5a6b';
  const timestamp = Math.floor(NOW / 1000);
  const standard = (key = signingKey, t = timestamp) => ({
    'webhook-id': id,
    'webhook-timestamp': String(t),
    'webhook-signature': standardWebhookSignature(key, id, t, body),
  });
  const check = (headers: Record<string, string>, secrets: readonly string[] = [token, signingKey]) =>
    verifySignature(
      route('gitlab'),
      delivery(headers, body),
      secrets.map((s) => Buffer.from(s)),
      NOW,
    );

  it('a rotation list mixing a token and a signing key accepts either kind of request', () => {
    expect(check({ 'X-Gitlab-Token': token })).toMatchObject({ ok: true });
    expect(check(standard())).toMatchObject({ ok: true });
  });

  it('with both kinds configured, a request carrying neither names both headers', () => {
    expect(check({ 'X-Gitlab-Event': 'Push Hook' })).toEqual({
      ok: false,
      message: 'missing X-Gitlab-Token header; missing webhook-signature header',
    });
  });

  it('with both kinds configured, a request wrong in both names both mismatches', () => {
    const wrong = `whsec_${Buffer.from('another 32-byte key for the test').toString('base64')}`;
    expect(check({ 'X-Gitlab-Token': 'guess', ...standard(wrong) })).toEqual({
      ok: false,
      message:
        'X-Gitlab-Token does not match the configured token; ' +
        'webhook-signature does not match the request signed with the configured signing key',
    });
  });

  it('a token secret is never used as a Standard Webhooks key, nor a signing key as a token', () => {
    expect(check({ 'X-Gitlab-Token': signingKey }, [signingKey]).ok).toBe(false);
    const tokenAsKey = `whsec_${Buffer.from(token).toString('base64')}`;
    expect(check(standard(tokenAsKey), [token]).ok).toBe(false);
  });

  it('compares a token with non-ASCII characters byte for byte (Node hands header bytes over as latin1)', () => {
    const unicode = 'jeton-été-🔑';
    const asReceived = Buffer.from(unicode, 'utf8').toString('latin1');
    expect(check({ 'X-Gitlab-Token': asReceived }, [unicode])).toMatchObject({ ok: true });
    expect(check({ 'X-Gitlab-Token': unicode }, [unicode]).ok).toBe(false);
  });

  describe('Standard Webhooks headers', () => {
    it('accepts when any v1 entry of a space-separated list matches, ignoring other versions', () => {
      const good = standard()['webhook-signature'];
      const other = standardWebhookSignature(
        `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`,
        id,
        timestamp,
        body,
      );
      const list = `v2,${good.slice(3)} ${other} ${good}`;
      // The signed webhook-id comes back: it is the delivery id and dedupe key (contract §12.0 item 15).
      expect(check({ ...standard(), 'webhook-signature': list }, [signingKey])).toEqual({
        ok: true,
        signedId: id,
      });
    });

    it('looks at the first 8 v1 entries only: a match further on is refused', () => {
      const good = standard()['webhook-signature'];
      const decoys = Array.from({ length: 8 }, () => `v1,${Buffer.alloc(32, 9).toString('base64')}`);
      const late = [...decoys, good].join(' ');
      expect(check({ ...standard(), 'webhook-signature': late }, [signingKey]).ok).toBe(false);
      const early = [...decoys.slice(1), good].join(' ');
      expect(check({ ...standard(), 'webhook-signature': early }, [signingKey])).toEqual({
        ok: true,
        signedId: id,
      });
    });

    it('refuses a signature list without a usable v1 entry', () => {
      const good = standard()['webhook-signature'];
      expect(
        check({ ...standard(), 'webhook-signature': `v1a,${good.slice(3)} v2,${good.slice(3)}` }, [
          signingKey,
        ]),
      ).toEqual({
        ok: false,
        message: 'webhook-signature has no "v1," entry with the base64 of 32 bytes',
      });
    });

    it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('names a missing %s', (header) => {
      const headers = Object.fromEntries(Object.entries(standard()).filter(([name]) => name !== header));
      expect(check(headers, [signingKey])).toEqual({ ok: false, message: `missing ${header} header` });
    });

    it.each(['1.5e9', '-300', '', ' 1774000000', '17740000000000000'])('refuses the timestamp %j', (t) => {
      const result = check({ ...standard(), 'webhook-timestamp': t }, [signingKey]);
      expect(result.ok).toBe(false);
      expect(result.ok || result.message).toMatch(/^webhook-timestamp /);
    });

    it('signs the timestamp: a fresh timestamp on an old signature does not verify', () => {
      const old = standard(signingKey, timestamp - 3600);
      expect(check({ ...old, 'webhook-timestamp': String(timestamp) }, [signingKey])).toEqual({
        ok: false,
        message: 'webhook-signature does not match the request signed with the configured signing key',
      });
    });

    it('reports a whsec_ secret that is not base64 without showing it', () => {
      const broken = 'whsec_not*base64!';
      const result = check(standard(), [broken]);
      expect(result).toEqual({ ok: false, message: 'the configured whsec_ signing key is not valid base64' });
    });
  });
});

describe('generic', () => {
  const signature: GenericSignature = {
    header: 'X-Hook-Signature',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'v1=',
  };
  const body = payload('azuredevops/build.complete.json');
  const check = (headers: Record<string, string>, sig: GenericSignature = signature) =>
    verifySignature(
      route('generic', { signature: sig }),
      delivery(headers, body),
      [Buffer.from(SECRET)],
      NOW,
    );

  it('finds its header whatever the case it was configured in', () => {
    const value = genericSignature(signature, SECRET, body);
    expect(check({ 'x-hook-signature': value }, { ...signature, header: 'X-HOOK-signature' })).toEqual({
      ok: true,
    });
  });

  it('refuses a value without the configured prefix', () => {
    const value = genericSignature({ ...signature, prefix: 'sha256=' }, SECRET, body);
    expect(check({ 'X-Hook-Signature': value })).toEqual({
      ok: false,
      message: 'X-Hook-Signature is not "v1=" followed by 64 hex digits',
    });
  });

  it('refuses non-canonical base64 text', () => {
    const b64: GenericSignature = { ...signature, encoding: 'base64', prefix: '' };
    const value = genericSignature(b64, SECRET, body);
    expect(check({ 'X-Hook-Signature': value }, b64)).toMatchObject({ ok: true });
    expect(check({ 'X-Hook-Signature': value.replace(/=+$/, '') }, b64).ok).toBe(false);
    expect(check({ 'X-Hook-Signature': `${value.slice(0, 8)}\n${value.slice(8)}` }, b64).ok).toBe(false);
  });

  it('fails closed on a generic route that lacks signature settings', () => {
    const headers = { 'X-Hook-Signature': genericSignature(signature, SECRET, body) };
    const unset = route('generic', { signature: undefined });
    expect(verifySignature(unset, delivery(headers, body), [Buffer.from(SECRET)], NOW)).toEqual({
      ok: false,
      message: 'this generic route has no signature settings',
    });
  });
});

describe('odd input is a refusal, never an exception', () => {
  const values = [
    '',
    ' ',
    '=',
    'sha256=',
    'v1,',
    'v1,===',
    '\u0000',
    'ä'.repeat(5000),
    'sha512=' + '0'.repeat(128),
  ];
  it.each(['github', 'gitlab', 'bitbucket', 'gitea', 'forgejo', 'gogs'] as const)('%s', (provider) => {
    for (const value of values) {
      const headers = Object.fromEntries(
        [
          'X-Hub-Signature-256',
          'X-Hub-Signature',
          'X-Gitea-Signature',
          'X-Forgejo-Signature',
          'X-Gogs-Signature',
          'X-Gitlab-Token',
          'webhook-id',
          'webhook-timestamp',
          'webhook-signature',
        ].map((name) => [name, value]),
      );
      for (const body of [Buffer.alloc(0), Buffer.from(value)]) {
        const result = verifySignature(
          route(provider),
          delivery(headers, body),
          [Buffer.from(SECRET), Buffer.from('whsec_AAAA')],
          NOW,
        );
        expect(result.ok).toBe(false);
      }
    }
  });
});
