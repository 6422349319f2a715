// What each Git host calls its event type and delivery id (contract §4), and the dedupe key (§6).
// Signatures are checked elsewhere (./verify/); this file only reads headers.
import { createHash } from 'node:crypto';
import type { HeaderMap, Route, ProviderName } from '../model.js';

interface ProviderHeaders {
  /** Header names tried in order; the first present one wins. */
  readonly event: readonly string[];
  readonly delivery: readonly string[];
  /**
   * How a redelivery of the same event can be recognised:
   * - `delivery`: the delivery id is stable across redeliveries (GitHub's "Redeliver", GitLab's Idempotency-Key);
   * - `body`: the host gives redeliveries a new id, so the key is the hash of event type + raw body;
   * - `none`: no key unless the route names a deliveryHeader.
   */
  readonly dedupe: 'delivery' | 'body' | 'none';
}

// Gitea and Forgejo also send X-GitHub-* and X-Gogs-* copies of their headers; each provider reads only its
// own names, so those copies never confuse the event type (Gitea's services/webhook/deliver.go sets all three).
const HEADERS: Record<Exclude<ProviderName, 'generic' | 'none'>, ProviderHeaders> = {
  github: { event: ['x-github-event'], delivery: ['x-github-delivery'], dedupe: 'delivery' },
  // GitLab keeps Idempotency-Key (= webhook-id) across retries and manual resends (gitlab MR !160952);
  // X-Gitlab-Webhook-UUID changes per request, so without Idempotency-Key we fall back to the body hash.
  gitlab: {
    event: ['x-gitlab-event'],
    delivery: ['idempotency-key', 'webhook-id', 'x-gitlab-webhook-uuid'],
    dedupe: 'delivery',
  },
  bitbucket: { event: ['x-event-key'], delivery: ['x-request-uuid', 'x-request-id'], dedupe: 'body' },
  gitea: { event: ['x-gitea-event'], delivery: ['x-gitea-delivery'], dedupe: 'body' },
  gogs: { event: ['x-gogs-event'], delivery: ['x-gogs-delivery'], dedupe: 'body' },
  forgejo: {
    event: ['x-forgejo-event', 'x-gitea-event'],
    delivery: ['x-forgejo-delivery', 'x-gitea-delivery'],
    dedupe: 'body',
  },
};

/** The first value of a header, or undefined when absent or empty. */
export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name.toLowerCase()]?.[0];
  return value === undefined || value === '' ? undefined : value;
}

function firstHeader(headers: HeaderMap, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headerValue(headers, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

function headerNames(route: Route, which: 'event' | 'delivery'): readonly string[] {
  if (route.provider === 'generic') {
    const name = which === 'event' ? route.eventHeader : route.deliveryHeader;
    return name === undefined ? [] : [name];
  }
  if (route.provider === 'none')
    return which === 'delivery' && route.deliveryHeader ? [route.deliveryHeader] : [];
  return HEADERS[route.provider][which];
}

/** The header that carries the event type for this route, for messages (`X-Gitlab-Event`). */
export function eventHeaderName(route: Route): string | undefined {
  return headerNames(route, 'event')[0];
}

export function eventType(route: Route, headers: HeaderMap): string | undefined {
  return firstHeader(headers, headerNames(route, 'event'));
}

export function deliveryId(route: Route, headers: HeaderMap): string | undefined {
  return firstHeader(headers, headerNames(route, 'delivery'));
}

/**
 * The key that makes a redelivery render the same names (§6), or undefined when the route does not dedupe
 * or the request carries nothing stable.
 */
export function dedupeKey(route: Route, headers: HeaderMap, body: Buffer): string | undefined {
  if (route.dedupe === 'off') return undefined;
  if (route.provider === 'generic' || route.provider === 'none') {
    const id = route.deliveryHeader ? headerValue(headers, route.deliveryHeader) : undefined;
    return id === undefined ? undefined : `delivery:${id}`;
  }
  const provider = HEADERS[route.provider];
  if (route.provider === 'gitlab') {
    const key = headerValue(headers, 'idempotency-key') ?? headerValue(headers, 'webhook-id');
    if (key !== undefined) return `delivery:${key}`;
  } else if (provider.dedupe === 'delivery') {
    const id = firstHeader(headers, provider.delivery);
    return id === undefined ? undefined : `delivery:${id}`;
  }
  // Hosts whose redeliveries get a new id: the same event type and the same bytes are the same delivery.
  const hash = createHash('sha256');
  hash.update(eventType(route, headers) ?? '');
  hash.update('\n');
  hash.update(body);
  return `body:${hash.digest('hex')}`;
}
