// Published and recomputed vectors from each host's webhook documentation, run over the exact bytes: each host's
// documented example, the go-playground/webhooks payload files, and Standard Webhooks' reference vector.
import { createHmac } from 'node:crypto';
import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import type { ProviderName } from '../../src/model.js';
import { verifySignature } from '../../src/pipeline/verify/index.js';
import { delivery, payload, route } from './support.js';

interface Vector {
  readonly name: string;
  readonly source: string;
  readonly provider: ProviderName;
  readonly secret: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  readonly nowMs?: number;
}

const GITEA_SECRET = 'IsWishesWereHorsesWedAllBeEatingSteak!';

const VECTORS: readonly Vector[] = [
  {
    name: "GitHub's documented example",
    source: 'github/docs validating-webhook-deliveries.md, "Testing the webhook payload validation"',
    provider: 'github',
    secret: "It's a Secret to Everybody",
    body: Buffer.from('Hello, World!'),
    headers: {
      'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    },
  },
  {
    name: 'GitHub push.json (recomputed)',
    source: 'providers.md §11b, github/push.json with the Gitea test secret',
    provider: 'github',
    secret: GITEA_SECRET,
    body: payload('github/push.json'),
    headers: {
      'X-Hub-Signature-256': 'sha256=abcee8ae5f5c28fc2e4d2a0ffe46115bf9dc9d7c2e34592846d9361fffb864d5',
    },
  },
  {
    name: 'Gitea create-event.json',
    source: 'go-playground/webhooks gitea tests, providers.md §11b',
    provider: 'gitea',
    secret: GITEA_SECRET,
    body: payload('gitea/create-event.json'),
    headers: { 'X-Gitea-Signature': '6f250ac7a090096574758e31bd31770eab63dfd0459404f0c18431f1c6b9024a' },
  },
  {
    name: 'Gitea push-event.json',
    source: 'go-playground/webhooks gitea tests, providers.md §11b',
    provider: 'gitea',
    secret: GITEA_SECRET,
    body: payload('gitea/push-event.json'),
    headers: { 'X-Gitea-Signature': '60fe446c74fa0cb9474f98cc557db79e10c7aaf22cf324ad65239600b9e4d915' },
  },
  {
    name: 'Bitbucket Data Center repo-refs-changed.json',
    source: 'go-playground/webhooks bitbucket-server tests, providers.md §11b',
    provider: 'bitbucket',
    secret: 'secret',
    body: payload('bitbucket-server/repo-refs-changed.json'),
    headers: {
      'X-Hub-Signature': 'sha256=8a60f7487d167f55886df87d4077192035d76f76a8e0b3a48fd8ae8cad25f391',
    },
  },
  {
    name: 'Standard Webhooks reference vector (GitLab signing token)',
    source: 'standard-webhooks and Svix library tests, providers.md §9a',
    provider: 'gitlab',
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    body: Buffer.from('{"test": 2432232314}'),
    headers: {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    },
    // The timestamp is from 2021: the clock is injected so the vector stays inside the 5-minute window.
    nowMs: 1614265330_000,
  },
];

describe.each(VECTORS)('$name', (vector) => {
  const verify = (body: Buffer, secrets: readonly string[], nowMs = vector.nowMs ?? Date.now()) =>
    verifySignature(
      route(vector.provider),
      delivery(vector.headers, body),
      secrets.map((s) => Buffer.from(s)),
      nowMs,
    );

  it(`verifies (${vector.source})`, () => {
    expect(verify(vector.body, [vector.secret])).toMatchObject({ ok: true });
  });

  it('fails with one byte appended to the body', () => {
    expect(verify(Buffer.concat([vector.body, Buffer.from('\n')]), [vector.secret]).ok).toBe(false);
  });

  it('fails with a secret that differs in its last character', () => {
    expect(verify(vector.body, [`${vector.secret.slice(0, -1)}X`]).ok).toBe(false);
  });
});

describe('Standard Webhooks reference vector and the clock', () => {
  const vector = VECTORS.find((v) => v.provider === 'gitlab')!;
  const at = (nowMs: number) =>
    verifySignature(
      route('gitlab'),
      delivery(vector.headers, vector.body),
      [Buffer.from(vector.secret)],
      nowMs,
    );

  it.each([
    { name: 'exactly 5 minutes later', offset: 300_000, ok: true },
    { name: 'exactly 5 minutes earlier', offset: -300_000, ok: true },
    { name: '5 minutes and 1 second later', offset: 301_000, ok: false },
    { name: '5 minutes and 1 second earlier', offset: -301_000, ok: false },
    { name: 'today (the real clock)', offset: Date.now() - vector.nowMs!, ok: false },
  ])('with the clock $name: ok=$ok', ({ offset, ok }) => {
    const result = at(vector.nowMs! + offset);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.message).toMatch(/^webhook-timestamp is more than 5 minutes from now/);
  });
});

// @octokit/webhooks-methods is GitHub's own implementation. It takes the payload as a string, so it serves as an
// oracle for UTF-8 bodies; src/pipeline/verify/github.ts explains why it cannot verify raw bytes.
describe('GitHub against @octokit/webhooks-methods as an oracle', () => {
  const secret = "It's a Secret to Everybody";
  const files = ['github/push.json', 'github/pull-request.json', 'github/ping.json', 'github/create.json'];

  it.each(files)('accepts what octokit signs for %s, and octokit accepts our inputs', async (file) => {
    const body = payload(file);
    const signature = await octokitSign(secret, body.toString('utf8'));
    const result = verifySignature(
      route('github'),
      delivery({ 'X-Hub-Signature-256': signature }, body),
      [Buffer.from(secret)],
      0,
    );
    expect(result).toMatchObject({ ok: true });
    expect(await octokitVerify(secret, body.toString('utf8'), signature)).toBe(true);
  });

  it('verifies a body that is not valid UTF-8 byte for byte, where a string-based check cannot', async () => {
    // 0xff can never appear in UTF-8; decoding turns it into U+FFFD, which re-encodes as three other bytes.
    const body = Buffer.concat([Buffer.from('{"ref":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const result = verifySignature(
      route('github'),
      delivery({ 'X-Hub-Signature-256': signature }, body),
      [Buffer.from(secret)],
      0,
    );
    expect(result).toMatchObject({ ok: true });
    expect(await octokitVerify(secret, body.toString('utf8'), signature)).toBe(false);
  });
});
