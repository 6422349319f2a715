// Issue #13's bounds as pure functions: the value count read from the bytes, printing within a limit, the
// Content-Type rule, and the API server's address kept out of answers.
import { describe, expect, it } from 'vitest';
import { hideAddresses } from '../../src/http/hide-cluster-address.js';
import type { JsonValue } from '../../src/model.js';
import { checkContentType, hasMoreValues } from '../../src/pipeline/parse.js';
import {
  ValueTooLargeError,
  stableStringify,
  stableStringifyWithin,
} from '../../src/pipeline/stable-json.js';

/** The number of JSON values in a parsed document: every scalar, object and array. */
function countValues(v: JsonValue): number {
  if (Array.isArray(v)) return 1 + v.reduce<number>((n, x) => n + countValues(x), 0);
  if (v !== null && typeof v === 'object')
    return 1 + Object.values(v).reduce<number>((n, x) => n + countValues(x), 0);
  return 1;
}

describe('hasMoreValues counts JSON values from the bytes', () => {
  it.each([
    ['an empty object', '{}'],
    ['members and an empty array', '{"a":1,"b":[],"c":"x"}'],
    ['nested arrays', '[[1,2],[3,[4,5,[]]],{"k":[{"z":null}]}]'],
    ['strings holding structural characters', '{"a":"[1,2]:{,}","b\\\\":"\\\\\\"[","c":[" , "]}'],
    ['whitespace everywhere', ' { "a" : [ 1 , 2 ] , "b" : { } } '],
  ])('%s: exactly at its count is not more, one less is', (_name, text) => {
    const body = Buffer.from(text);
    const n = countValues(JSON.parse(text) as JsonValue);
    // hasMoreValues skips bodies shorter than 2·max: compare with a max small enough to scan.
    expect(hasMoreValues(body, n)).toBe(false);
    if (n > 1 && body.length >= 2 * (n - 1)) expect(hasMoreValues(body, n - 1)).toBe(true);
  });

  it('refuses a body of many keys long before parsing it', () => {
    const body = Buffer.from(`{${Array.from({ length: 5000 }, (_, i) => `"k${i}":0`).join(',')}}`);
    expect(hasMoreValues(body, 4000)).toBe(true);
    expect(hasMoreValues(body, 5001)).toBe(false);
  });
});

describe('stableStringifyWithin', () => {
  it('prints what stableStringify prints, shared objects included', () => {
    const shared = { z: [1, 'a'], a: { b: null } };
    const value = { list: [shared, shared, { x: true }], shared } as unknown as JsonValue;
    expect(stableStringifyWithin(value, 10_000)).toBe(stableStringify(value));
  });

  it('stops with ValueTooLargeError past the limit, before printing the rest', () => {
    let nested: Record<string, unknown> = { url: 'u' };
    for (let i = 0; i < 400; i++) nested = { url: nested, pad: 'p'.repeat(1000) };
    expect(() => stableStringifyWithin(nested as JsonValue, 65_536)).toThrow(ValueTooLargeError);
    expect(() => stableStringifyWithin('x'.repeat(100), 50)).toThrow('gateway.maxValueBytes (50 bytes)');
  });
});

describe('checkContentType (contract §12.0 item 14)', () => {
  const check = (type: string | undefined, body: string) =>
    checkContentType(type === undefined ? {} : { 'content-type': [type] }, Buffer.from(body)).ok;
  it.each([
    ['a form body', 'application/x-www-form-urlencoded', 'payload=%7B%7D', false],
    ['a multipart body', 'multipart/form-data; boundary=x', '--x\r\n', false],
    ['a form type on a JSON body', 'application/x-www-form-urlencoded', '\uFEFF \n {"a":1}', true],
    ['text/plain', 'text/plain', 'anything', true],
    ['no type', undefined, 'anything', true],
    ['application/json', 'application/json', '[1]', true],
  ])('%s → %s', (_name, type, body, ok) => {
    expect(check(type, body)).toBe(ok);
  });
});

describe('hideAddresses', () => {
  it('removes the server, IPs with ports and URLs from a network error', () => {
    const message =
      'cannot reach the Kubernetes API: request to https://10.96.0.1:443/apis/tekton.dev/v1/namespaces/a/pipelineruns failed, reason: connect ECONNREFUSED 10.96.0.1:443';
    const hidden = hideAddresses(message, 'https://10.96.0.1:443');
    expect(hidden).not.toMatch(/10\.96|https?:/);
    expect(hidden).toContain('<the Kubernetes API>');
    expect(hideAddresses('getaddrinfo ENOTFOUND kubernetes.default.svc:443', undefined)).not.toContain(
      'kubernetes.default',
    );
  });

  it('in a refusal, hides only the configured server', () => {
    const refusal =
      'admission webhook denied: image registry.local:5000/app is not allowed by https://api.example:6443';
    expect(hideAddresses(refusal, 'https://api.example:6443', false)).toBe(
      'admission webhook denied: image registry.local:5000/app is not allowed by <the Kubernetes API>',
    );
  });
});
