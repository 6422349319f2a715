// Tekton compatibility: the signature-related vectors of Tekton's github, gitlab and bitbucket interceptors
// (test/fixtures/vectors/tekton-interceptors.json, transcribed from tektoncd/triggers v0.37 tests). Tekton answers
// "continue" or a stop with a message; our verify stage answers ok or a 401 whose message names the same header.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ProviderName, SecretRef } from '../../src/model.js';
import { verifySignature } from '../../src/pipeline/verify/index.js';
import { delivery, route } from './support.js';

interface TektonVector {
  readonly id: string;
  readonly interceptor: 'github' | 'gitlab' | 'bitbucket';
  readonly input: {
    readonly body: string;
    readonly headers: Record<string, string[]>;
    readonly interceptorParams: { readonly secretRef?: Partial<SecretRef>; readonly eventTypes?: string[] };
    readonly secrets: readonly { readonly name: string; readonly data: Record<string, string> }[];
  };
  readonly expected: {
    readonly continue: boolean;
    readonly message?: string;
    readonly messageFromCode?: string;
  };
}

const FILE = new URL('../fixtures/vectors/tekton-interceptors.json', import.meta.url);
const VECTORS = (JSON.parse(readFileSync(FILE, 'utf8')) as { vectors: TektonVector[] }).vectors;

/** Vectors that do not concern signatures, and where that behaviour lives instead. */
const NOT_SIGNATURES: Record<string, string> = {
  'github/invalid content type':
    'content type is checked by the HTTP edge before the signature (contract §3 step 3)',
};

/**
 * Upstream stopped these on the event type before looking at the signature, so the test asserts nothing about
 * it; our verify stage runs first (contract §3) and must still judge the signature. The verdicts follow from the
 * inputs: HMAC-SHA256("secret", "{}") and HMAC-SHA1("secret", "{}") are valid, the token "foo" is not "secrettoken".
 */
const SIGNATURE_BEHIND_EVENT_STOP: Record<string, boolean> = {
  'github/valid header for secret, failing event': true,
  'gitlab/valid event, invalid secret': false,
  'bitbucket/valid header for secret, but no matching event': true,
};

const SIGNATURE_HEADER: Record<TektonVector['interceptor'], string> = {
  github: 'X-Hub-Signature-256',
  gitlab: 'X-Gitlab-Token',
  bitbucket: 'X-Hub-Signature',
};

const NO_SECRET = "none of this route's secret files can be read";

/** What our verify stage must answer for a Tekton vector, read from the vector itself. */
function expectation(vector: TektonVector): { ok: true } | { ok: false; mentions: string } {
  const ref = vector.input.interceptorParams.secretRef;
  // Tekton skips the check without a secretRef; our routes.yaml refuses such a route for any provider but
  // `none`, so should one reach the verifier anyway, it turns everything away.
  if (ref === undefined || !ref.secretKey) return { ok: false, mentions: NO_SECRET };
  const stop = vector.expected.messageFromCode ?? vector.expected.message ?? '';
  if (vector.expected.continue) return { ok: true };
  if (stop.startsWith('event type ')) {
    const ok = SIGNATURE_BEHIND_EVENT_STOP[vector.id];
    if (ok === undefined) throw new Error(`classify ${vector.id}: stopped on the event type`);
    return ok ? { ok: true } : { ok: false, mentions: SIGNATURE_HEADER[vector.interceptor] };
  }
  return { ok: false, mentions: SIGNATURE_HEADER[vector.interceptor] };
}

function secretsOf(vector: TektonVector): Buffer[] {
  const ref = vector.input.interceptorParams.secretRef;
  const value = vector.input.secrets.find((s) => s.name === ref?.secretName)?.data[ref?.secretKey ?? ''];
  return value === undefined ? [] : [Buffer.from(value)];
}

const RUN = VECTORS.filter((v) => !(v.id in NOT_SIGNATURES));

describe('tekton-interceptors.json', () => {
  it('has every vector either run here or set aside with a reason', () => {
    expect(RUN.length + Object.keys(NOT_SIGNATURES).length).toBe(VECTORS.length);
    expect(VECTORS.filter((v) => v.id in NOT_SIGNATURES)).toHaveLength(Object.keys(NOT_SIGNATURES).length);
    expect(Object.keys(SIGNATURE_BEHIND_EVENT_STOP).every((id) => RUN.some((v) => v.id === id))).toBe(true);
  });

  it.each(RUN.map((vector) => ({ name: vector.id, vector })))('$name', ({ vector }) => {
    const result = verifySignature(
      route(vector.interceptor as ProviderName),
      delivery(vector.input.headers, Buffer.from(vector.input.body)),
      secretsOf(vector),
      Date.now(),
    );
    const expected = expectation(vector);
    if (expected.ok) {
      expect(result).toMatchObject({ ok: true });
    } else {
      expect(result).toMatchObject({ ok: false, message: expect.stringContaining(expected.mentions) });
      // Without a usable secret, the refusal is the gateway's (503), not the sender's (401).
      expect('unavailable' in result).toBe(expected.mentions === NO_SECRET);
    }
  });
});
