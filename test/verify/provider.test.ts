// Event type, delivery id (contract §4) and dedupe key (§6) per provider: src/pipeline/provider.ts.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ProviderName, Route } from '../../src/model.js';
import { dedupeKey, deliveryId, eventHeaderName, eventType } from '../../src/pipeline/provider.js';
import { headerMap, payload, route } from './support.js';

// The headers each host really sends, including the copies Gitea and Forgejo add for Gogs and GitHub clients.
const GITEA_COPIES = {
  'X-Gogs-Event': 'push',
  'X-Gogs-Delivery': 'gogs-copy-id',
  'X-GitHub-Event': 'push',
  'X-GitHub-Delivery': 'github-copy-id',
};

const CASES: readonly {
  readonly name: string;
  readonly route: Route;
  readonly headers: Record<string, string>;
  readonly event: string | undefined;
  readonly delivery: string | undefined;
  readonly eventHeader: string | undefined;
}[] = [
  {
    name: 'github',
    route: route('github'),
    headers: { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' },
    event: 'push',
    delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    eventHeader: 'x-github-event',
  },
  {
    name: 'gitlab with Idempotency-Key (preferred over the UUIDs)',
    route: route('gitlab'),
    headers: {
      'X-Gitlab-Event': 'Push Hook',
      'Idempotency-Key': 'idem-1',
      'webhook-id': 'idem-1',
      'X-Gitlab-Webhook-UUID': 'uuid-1',
    },
    event: 'Push Hook',
    delivery: 'idem-1',
    eventHeader: 'x-gitlab-event',
  },
  {
    name: 'gitlab with webhook-id only',
    route: route('gitlab'),
    headers: { 'X-Gitlab-Event': 'Tag Push Hook', 'webhook-id': 'msg-2', 'X-Gitlab-Webhook-UUID': 'uuid-2' },
    event: 'Tag Push Hook',
    delivery: 'msg-2',
    eventHeader: 'x-gitlab-event',
  },
  {
    name: 'gitlab before Idempotency-Key',
    route: route('gitlab'),
    headers: { 'X-Gitlab-Event': 'Merge Request Hook', 'X-Gitlab-Webhook-UUID': 'uuid-3' },
    event: 'Merge Request Hook',
    delivery: 'uuid-3',
    eventHeader: 'x-gitlab-event',
  },
  {
    name: 'bitbucket cloud',
    route: route('bitbucket'),
    headers: { 'X-Event-Key': 'repo:push', 'X-Request-UUID': 'req-uuid', 'X-Hook-UUID': 'hook-uuid' },
    event: 'repo:push',
    delivery: 'req-uuid',
    eventHeader: 'x-event-key',
  },
  {
    name: 'bitbucket data center',
    route: route('bitbucket'),
    headers: { 'X-Event-Key': 'repo:refs_changed', 'X-Request-Id': 'dc-request-id' },
    event: 'repo:refs_changed',
    delivery: 'dc-request-id',
    eventHeader: 'x-event-key',
  },
  {
    name: 'gitea (reads its own headers, not the X-GitHub-*/X-Gogs-* copies)',
    route: route('gitea'),
    headers: {
      'X-Gitea-Event': 'push',
      'X-Gitea-Delivery': 'gitea-id',
      ...GITEA_COPIES,
      'X-GitHub-Event': 'other',
    },
    event: 'push',
    delivery: 'gitea-id',
    eventHeader: 'x-gitea-event',
  },
  {
    name: 'gogs',
    route: route('gogs'),
    headers: { 'X-Gogs-Event': 'create', 'X-Gogs-Delivery': 'gogs-id' },
    event: 'create',
    delivery: 'gogs-id',
    eventHeader: 'x-gogs-event',
  },
  {
    name: 'forgejo (its own headers first)',
    route: route('forgejo'),
    headers: {
      'X-Forgejo-Event': 'pull_request',
      'X-Forgejo-Delivery': 'forgejo-id',
      'X-Gitea-Event': 'pull_request',
      'X-Gitea-Delivery': 'forgejo-id',
      ...GITEA_COPIES,
    },
    event: 'pull_request',
    delivery: 'forgejo-id',
    eventHeader: 'x-forgejo-event',
  },
  {
    name: 'forgejo releases that send only X-Gitea-*',
    route: route('forgejo'),
    headers: { 'X-Gitea-Event': 'push', 'X-Gitea-Delivery': 'old-forgejo-id', ...GITEA_COPIES },
    event: 'push',
    delivery: 'old-forgejo-id',
    eventHeader: 'x-forgejo-event',
  },
  {
    name: 'generic with eventHeader and deliveryHeader',
    route: route('generic', { eventHeader: 'X-Event-Type', deliveryHeader: 'X-Delivery-Id' }),
    headers: { 'X-Event-Type': 'build', 'X-Delivery-Id': 'd-1' },
    event: 'build',
    delivery: 'd-1',
    eventHeader: 'X-Event-Type',
  },
  {
    name: 'generic without them',
    route: route('generic'),
    headers: { 'X-Event-Type': 'build', 'X-Delivery-Id': 'd-1', 'X-GitHub-Event': 'push' },
    event: undefined,
    delivery: undefined,
    eventHeader: undefined,
  },
  {
    name: 'none',
    route: route('none', { secretRefs: [] }),
    headers: { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': 'x' },
    event: undefined,
    delivery: undefined,
    eventHeader: undefined,
  },
];

describe.each(CASES)('$name', (c) => {
  const headers = headerMap(c.headers);
  it(`eventType → ${String(c.event)}, deliveryId → ${String(c.delivery)}`, () => {
    expect(eventType(c.route, headers)).toBe(c.event);
    expect(deliveryId(c.route, headers)).toBe(c.delivery);
    expect(eventHeaderName(c.route)?.toLowerCase()).toBe(c.eventHeader?.toLowerCase());
  });
});

it('an empty header counts as absent: gitlab falls through to the next delivery header', () => {
  const headers = headerMap({ 'Idempotency-Key': '', 'X-Gitlab-Webhook-UUID': 'uuid-4' });
  expect(deliveryId(route('gitlab'), headers)).toBe('uuid-4');
});

describe('dedupeKey (§6)', () => {
  const body = payload('gitea/push-event.json');
  const otherBody = payload('gitea/create-event.json');
  const key = (
    provider: ProviderName,
    headers: Record<string, string>,
    b = body,
    overrides: Partial<Route> = {},
  ) => dedupeKey(route(provider, overrides), headerMap(headers), b);

  it('github: the delivery id, which a redelivery keeps, whatever the body', () => {
    const headers = { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': 'gh-1' };
    expect(key('github', headers)).toBe('delivery:gh-1');
    expect(key('github', headers, otherBody)).toBe('delivery:gh-1');
    expect(key('github', { ...headers, 'X-GitHub-Delivery': 'gh-2' })).not.toBe(key('github', headers));
  });

  it('github without a delivery id: no key', () => {
    expect(key('github', { 'X-GitHub-Event': 'push' })).toBeUndefined();
  });

  it('gitlab: Idempotency-Key (kept across retries and resends), else webhook-id', () => {
    expect(key('gitlab', { 'Idempotency-Key': 'k1', 'X-Gitlab-Webhook-UUID': 'u1' })).toBe('delivery:k1');
    expect(key('gitlab', { 'Idempotency-Key': 'k1', 'X-Gitlab-Webhook-UUID': 'u2' }, otherBody)).toBe(
      'delivery:k1',
    );
    expect(key('gitlab', { 'webhook-id': 'w1' })).toBe('delivery:w1');
  });

  it('gitlab without Idempotency-Key: the body hash, since X-Gitlab-Webhook-UUID changes per request', () => {
    const first = key('gitlab', { 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Webhook-UUID': 'u1' });
    const resend = key('gitlab', { 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Webhook-UUID': 'u2' });
    expect(first).toMatch(/^body:[0-9a-f]{64}$/);
    expect(resend).toBe(first);
  });

  it.each([
    { provider: 'gitea', event: 'X-Gitea-Event', id: 'X-Gitea-Delivery' },
    { provider: 'forgejo', event: 'X-Forgejo-Event', id: 'X-Forgejo-Delivery' },
    { provider: 'gogs', event: 'X-Gogs-Event', id: 'X-Gogs-Delivery' },
    { provider: 'bitbucket', event: 'X-Event-Key', id: 'X-Request-UUID' },
  ] as const)('$provider: a replay gets a new $id, so the key is SHA-256 of event type + raw body', (p) => {
    const first = key(p.provider, { [p.event]: 'push', [p.id]: 'id-1' });
    const replay = key(p.provider, { [p.event]: 'push', [p.id]: 'id-2' });
    const expected = createHash('sha256').update('push').update('\n').update(body).digest('hex');
    expect(first).toBe(`body:${expected}`);
    expect(replay).toBe(first);
    expect(key(p.provider, { [p.event]: 'push', [p.id]: 'id-1' }, otherBody)).not.toBe(first);
    expect(key(p.provider, { [p.event]: 'create', [p.id]: 'id-1' })).not.toBe(first);
  });

  it('the event type and body are separated, so moving bytes between them changes the key', () => {
    const a = key('gitea', { 'X-Gitea-Event': 'push' }, Buffer.from('x{}'));
    const b = key('gitea', { 'X-Gitea-Event': 'pushx' }, Buffer.from('{}'));
    expect(a).not.toBe(b);
  });

  it('generic and none: only the route-configured deliveryHeader', () => {
    const headers = { 'X-Delivery-Id': 'd-9', 'X-GitHub-Delivery': 'gh' };
    expect(key('generic', headers)).toBeUndefined();
    expect(key('generic', headers, body, { deliveryHeader: 'X-Delivery-Id' })).toBe('delivery:d-9');
    expect(key('none', headers)).toBeUndefined();
    expect(key('none', headers, body, { deliveryHeader: 'X-Delivery-Id' })).toBe('delivery:d-9');
    expect(key('generic', {}, body, { deliveryHeader: 'X-Delivery-Id' })).toBeUndefined();
  });

  it.each(['github', 'gitlab', 'gitea', 'bitbucket', 'generic'] as const)(
    '%s with dedupe: off has no key',
    (p) => {
      const headers = { 'X-GitHub-Delivery': 'a', 'Idempotency-Key': 'b', 'X-Delivery-Id': 'c' };
      expect(key(p, headers, body, { dedupe: 'off', deliveryHeader: 'X-Delivery-Id' })).toBeUndefined();
    },
  );
});
