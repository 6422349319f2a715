// Header names as Go's textproto.CanonicalMIMEHeaderKey spells them, which is how Tekton exposes them.
import { describe, expect, it } from 'vitest';
import { canonicalHeaderKey, canonicalHeaders } from '../../src/pipeline/canonical-header.js';

describe('canonicalHeaderKey', () => {
  it.each([
    ['x-gitlab-event', 'X-Gitlab-Event'],
    ['X-GITHUB-EVENT', 'X-Github-Event'],
    ['content-type', 'Content-Type'],
    ['idempotency-key', 'Idempotency-Key'],
    ['webhook-id', 'Webhook-Id'],
    ['x_under_score', 'X_under_score'],
    ['bad header', 'bad header'],
  ])('%s → %s', (name, canonical) => {
    expect(canonicalHeaderKey(name)).toBe(canonical);
  });
});

describe('canonicalHeaders', () => {
  it('keeps every value list and stays right after more distinct names than it caches', () => {
    for (let i = 0; i < 3000; i++)
      expect(Object.keys(canonicalHeaders({ [`x-h-${i}`]: ['v'] }))).toEqual([`X-H-${i}`]);
    expect(canonicalHeaders({ 'x-gitlab-event': ['Push Hook'], accept: ['a', 'b'] })).toEqual({
      'X-Gitlab-Event': ['Push Hook'],
      Accept: ['a', 'b'],
    });
  });
});
