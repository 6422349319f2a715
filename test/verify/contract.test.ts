// One contract for every verifier (style guide habit 10): each Git host's scheme accepts what it signed and
// nothing else. Requests are signed here with node:crypto, independently of src/pipeline/verify/.
import { describe, expect, it } from 'vitest';
import type { GenericSignature, Route } from '../../src/model.js';
import { verifySignature } from '../../src/pipeline/verify/index.js';
import {
  delivery,
  genericSignature,
  hmacOf,
  payload,
  route,
  standardWebhookSignature,
  tamper,
} from './support.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

interface Scheme {
  readonly name: string;
  readonly route: Route;
  /** A real payload file under test/fixtures/payloads/. */
  readonly file: string;
  /** The header that carries the signature or token: the contract removes, empties and resizes it. */
  readonly header: string;
  /** What precedes the digest in that header (`sha256=`, `v1,`, nothing). */
  readonly prefix: string;
  /** False for a plain token, which says nothing about the body. */
  readonly signsBody: boolean;
  /** Two secrets as they would sit in the files: the current one and the next one of a rotation. */
  readonly secrets: readonly [string, string];
  /** Every header the host sends with a delivery signed with `secret`. */
  readonly sign: (body: Buffer, secret: string) => Record<string, string>;
  /** The signature header's value made one step too short and one too long. */
  readonly resize: (value: string) => readonly string[];
}

const hexResize = (value: string) => [value.slice(0, -2), `${value}ab`];
const base64Resize = (prefix: string) => (value: string) => {
  const digest = Buffer.from(value.slice(prefix.length), 'base64');
  return [
    prefix + digest.subarray(0, -1).toString('base64'),
    prefix + Buffer.concat([digest, Buffer.from([0])]).toString('base64'),
  ];
};

function hmacScheme(
  name: string,
  provider: Route['provider'],
  file: string,
  signature: GenericSignature,
  extra: (hex: string) => Record<string, string> = () => ({}),
): Scheme {
  return {
    name,
    route: route(provider, provider === 'generic' ? { signature } : {}),
    file,
    header: signature.header,
    prefix: signature.prefix,
    signsBody: true,
    secrets: [`${name}-current-secret`, `${name}-next-secret`],
    sign: (body, secret) => ({
      [signature.header]: genericSignature(signature, secret, body),
      ...extra(hmacOf('sha256', secret, body).toString('hex')),
    }),
    resize: signature.encoding === 'hex' ? hexResize : base64Resize(signature.prefix),
  };
}

// What Gitea sends besides its own signature (go-gitea/gitea services/webhook/deliver.go): copies for Gogs and
// GitHub. The gitea-family verifiers must decide by their own header only, so these copies stay valid while the
// contract removes or breaks the host's own header.
const githubStyleCopies = (hex: string) => ({
  'X-Hub-Signature-256': `sha256=${hex}`,
  'X-GitHub-Event': 'push',
  'X-GitHub-Delivery': 'f0d3c0de-0000-4000-8000-000000000001',
});

const whsec = (seed: string) => `whsec_${Buffer.from(seed.padEnd(32, '.')).toString('base64')}`;

const SCHEMES: readonly Scheme[] = [
  hmacScheme('github', 'github', 'github/push.json', {
    header: 'X-Hub-Signature-256',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
  }),
  {
    name: 'gitlab X-Gitlab-Token',
    route: route('gitlab'),
    file: 'gitlab/push-event.json',
    header: 'X-Gitlab-Token',
    prefix: '',
    signsBody: false,
    secrets: ['gitlab-current-token', 'gitlab-next-token'],
    sign: (_body, secret) => ({ 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Token': secret }),
    resize: (value) => [value.slice(0, -1), `${value}x`],
  },
  {
    name: 'gitlab signing token (Standard Webhooks)',
    route: route('gitlab'),
    file: 'gitlab/push-event.json',
    header: 'webhook-signature',
    prefix: 'v1,',
    signsBody: true,
    secrets: [whsec('gitlab current signing key'), whsec('gitlab next signing key')],
    sign: (body, secret) => {
      const id = 'a5461c4d-6a3e-4b47-9e0e-7d3b5c1f1a2b';
      const timestamp = Math.floor(NOW / 1000) - 2;
      return {
        'X-Gitlab-Event': 'Push Hook',
        'Idempotency-Key': id,
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': standardWebhookSignature(secret, id, timestamp, body),
      };
    },
    resize: base64Resize('v1,'),
  },
  hmacScheme('bitbucket cloud', 'bitbucket', 'bitbucket/repo-push.json', {
    header: 'X-Hub-Signature',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
  }),
  hmacScheme('bitbucket data center', 'bitbucket', 'bitbucket-server/repo-refs-changed.json', {
    header: 'X-Hub-Signature',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
  }),
  hmacScheme('bitbucket sha1=', 'bitbucket', 'bitbucket-server/pr-merged.json', {
    header: 'X-Hub-Signature',
    algorithm: 'sha1',
    encoding: 'hex',
    prefix: 'sha1=',
  }),
  hmacScheme('bitbucket sha512=', 'bitbucket', 'bitbucket/pull-request-merged.json', {
    header: 'X-Hub-Signature',
    algorithm: 'sha512',
    encoding: 'hex',
    prefix: 'sha512=',
  }),
  hmacScheme(
    'gitea',
    'gitea',
    'gitea/push-event.json',
    { header: 'X-Gitea-Signature', algorithm: 'sha256', encoding: 'hex', prefix: '' },
    (hex) => ({ 'X-Gitea-Event': 'push', 'X-Gogs-Signature': hex, ...githubStyleCopies(hex) }),
  ),
  hmacScheme(
    'gogs',
    'gogs',
    'gogs/push-event.json',
    { header: 'X-Gogs-Signature', algorithm: 'sha256', encoding: 'hex', prefix: '' },
    () => ({ 'X-Gogs-Event': 'push' }),
  ),
  hmacScheme(
    'forgejo',
    'forgejo',
    'gitea/pull-request-event.json',
    { header: 'X-Forgejo-Signature', algorithm: 'sha256', encoding: 'hex', prefix: '' },
    (hex) => ({ 'X-Forgejo-Event': 'pull_request', ...githubStyleCopies(hex) }),
  ),
  hmacScheme(
    'forgejo before X-Forgejo-Signature',
    'forgejo',
    'gitea/create-event.json',
    { header: 'X-Gitea-Signature', algorithm: 'sha256', encoding: 'hex', prefix: '' },
    (hex) => ({ 'X-Gitea-Event': 'create', ...githubStyleCopies(hex) }),
  ),
  hmacScheme('generic sha256 hex with prefix', 'generic', 'azuredevops/git.push.json', {
    header: 'X-Signature',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
  }),
  hmacScheme('generic sha512 base64', 'generic', 'azuredevops/git.pullrequest.merged.json', {
    header: 'X-Payload-Signature',
    algorithm: 'sha512',
    encoding: 'base64',
    prefix: '',
  }),
  hmacScheme('generic sha1 hex', 'generic', 'gitlab/tag-event.json', {
    header: 'X-Legacy-Signature',
    algorithm: 'sha1',
    encoding: 'hex',
    prefix: 'sha1=',
  }),
];

/** Runs one request through the public entry point with the given secret values. */
function verify(scheme: Scheme, headers: Record<string, string>, body: Buffer, secrets: readonly string[]) {
  return verifySignature(
    scheme.route,
    delivery(headers, body),
    secrets.map((secret) => Buffer.from(secret)),
    NOW,
  );
}

function without(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([key]) => key.toLowerCase() !== name.toLowerCase()),
  );
}

function withHeader(headers: Record<string, string>, name: string, value: string): Record<string, string> {
  return { ...without(headers, name), [name]: value };
}

describe.each(SCHEMES)('$name', (scheme) => {
  const body = payload(scheme.file);
  const [secret, next] = scheme.secrets;
  const signed = scheme.sign(body, secret);
  const value = signed[scheme.header] ?? '';

  it('accepts a delivery signed with the configured secret', () => {
    expect(verify(scheme, signed, body, [secret])).toMatchObject({ ok: true });
  });

  it('accepts a delivery signed with any secret of a rotation list', () => {
    expect(verify(scheme, signed, body, [next, secret])).toMatchObject({ ok: true });
    expect(verify(scheme, scheme.sign(body, next), body, [secret, next])).toMatchObject({ ok: true });
  });

  it(scheme.signsBody ? 'rejects a tampered body' : 'does not cover the body (a plain token)', () => {
    const result = verify(scheme, signed, tamper(body), [secret]);
    if (scheme.signsBody) {
      expect(result).toEqual({
        ok: false,
        message: expect.stringContaining(`${scheme.header} does not match`),
      });
    } else {
      // GitLab's legacy secret token is sent verbatim and signs nothing; docs/providers.md recommends signing tokens.
      expect(result).toMatchObject({ ok: true });
    }
  });

  it(`rejects a delivery without ${scheme.header}, naming the header`, () => {
    const result = verify(scheme, without(signed, scheme.header), body, [secret]);
    // Forgejo names both of the headers it would have taken: `missing X-Forgejo-Signature header (or X-Gitea-Signature)`.
    expect(result).toEqual({ ok: false, message: expect.stringMatching(/^missing /) });
    expect(result.ok || result.message).toContain(scheme.header);
  });

  it(`rejects an empty ${scheme.header}`, () => {
    expect(verify(scheme, withHeader(signed, scheme.header, ''), body, [secret])).toEqual({
      ok: false,
      message: expect.stringContaining(`${scheme.header} header is empty`),
    });
  });

  it('rejects a delivery signed with another secret', () => {
    expect(verify(scheme, scheme.sign(body, next), body, [secret])).toEqual({
      ok: false,
      message: expect.stringContaining(`${scheme.header} does not match`),
    });
  });

  it('rejects a signature of the wrong length', () => {
    for (const resized of scheme.resize(value)) {
      const result = verify(scheme, withHeader(signed, scheme.header, resized), body, [secret]);
      expect(result).toEqual({ ok: false, message: expect.stringContaining(scheme.header) });
    }
  });

  it('rejects everything when no secret is available, as the gateway fault (503)', () => {
    for (const secrets of [[], ['']]) {
      expect(verify(scheme, signed, body, secrets)).toEqual({
        ok: false,
        unavailable: true,
        message:
          "none of this route's secret files can be read (missing or empty); the gateway's operator must fix its secretRef",
      });
    }
  });

  it('never puts a secret or the expected signature in a message', () => {
    const digest = value.slice(scheme.prefix.length);
    const forbidden = [
      secret,
      next,
      secret.replace(/^whsec_/, ''),
      next.replace(/^whsec_/, ''),
      value,
      digest,
    ];
    if (/^[0-9a-f]+$/.test(digest)) forbidden.push(digest.toUpperCase());
    const failures = [
      verify(scheme, signed, tamper(body), [secret, next]),
      verify(scheme, without(signed, scheme.header), body, [secret]),
      verify(scheme, withHeader(signed, scheme.header, ''), body, [secret]),
      verify(scheme, scheme.sign(body, 'an attacker guess'), body, [secret, next]),
      verify(scheme, withHeader(signed, scheme.header, `${value}0`), body, [secret]),
      ...scheme
        .resize(value)
        .map((resized) => verify(scheme, withHeader(signed, scheme.header, resized), body, [secret])),
      verify(scheme, signed, body, []),
    ];
    const messages = failures.flatMap((result) => (result.ok ? [] : [result.message]));
    expect(messages.length).toBeGreaterThanOrEqual(failures.length - (scheme.signsBody ? 0 : 1));
    for (const message of messages) {
      for (const text of forbidden) expect(message).not.toContain(text);
    }
  });
});
