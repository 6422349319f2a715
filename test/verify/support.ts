// Test helpers shared by the verify suites: routes as plain data, deliveries from real payload files, and
// each Git host's signing scheme computed independently with node:crypto (not with the code under test).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Delivery, GenericSignature, HeaderMap, ProviderName, Route } from '../../src/model.js';

const PAYLOADS = new URL('../fixtures/payloads/', import.meta.url);

/** The exact bytes of a go-playground/webhooks payload file, e.g. `gitea/push-event.json`. */
export function payload(file: string): Buffer {
  return readFileSync(new URL(file, PAYLOADS));
}

export function route(provider: ProviderName, overrides: Partial<Route> = {}): Route {
  return {
    path: `/${provider}`,
    provider,
    secretRefs: [{ secretName: `${provider}-webhook`, secretKey: 'secret' }],
    namespace: undefined,
    serviceAccountName: undefined,
    dedupe: 'auto',
    events: undefined,
    signature: undefined,
    eventHeader: undefined,
    deliveryHeader: undefined,
    triggers: [],
    ...overrides,
  };
}

/** Headers as the HTTP edge hands them over: lower-case names, each with its list of values. */
export function headerMap(headers: Readonly<Record<string, string | readonly string[]>>): HeaderMap {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name.toLowerCase(),
      typeof value === 'string' ? [value] : value,
    ]),
  );
}

export function delivery(
  headers: Readonly<Record<string, string | readonly string[]>>,
  body: Buffer,
): Delivery {
  return {
    method: 'POST',
    path: '/hook',
    requestURL: '/hook',
    headers: headerMap(headers),
    body,
  };
}

export function hmacOf(
  algorithm: 'sha1' | 'sha256' | 'sha512',
  key: Buffer | string,
  data: Buffer | string,
): Buffer {
  return createHmac(algorithm, key).update(data).digest();
}

/** Standard Webhooks' signature header for a `whsec_…` secret (standardwebhooks.com spec, §Signature scheme). */
export function standardWebhookSignature(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: Buffer,
): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${hmacOf('sha256', key, Buffer.concat([Buffer.from(`${id}.${timestampSeconds}.`), body])).toString('base64')}`;
}

export function genericSignature(signature: GenericSignature, secret: Buffer | string, body: Buffer): string {
  return signature.prefix + hmacOf(signature.algorithm, secret, body).toString(signature.encoding);
}

/** A copy of the body with one byte changed. */
export function tamper(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  const at = Math.floor(copy.length / 2);
  copy[at] = copy[at] === 0x61 ? 0x62 : 0x61;
  return copy;
}
