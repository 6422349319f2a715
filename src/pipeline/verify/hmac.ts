// HMACs and constant-time comparison. This is the only node:crypto import under verify/, so every place the
// gateway compares something secret can be audited in one file.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** Digest size in bytes. A signature of any other length cannot match and is turned away before comparing. */
export const DIGEST_BYTES: Readonly<Record<HmacAlgorithm, number>> = { sha1: 20, sha256: 32, sha512: 64 };

/** HMAC of the concatenated parts, each part taken as its exact bytes (strings as UTF-8). */
export function hmac(algorithm: HmacAlgorithm, key: Buffer, parts: readonly (Buffer | string)[]): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Constant-time equality of two byte strings. */
export function bytesEqual(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual throws a RangeError when the lengths differ, which would turn a malformed header into an
  // exception. Every caller compares digests, whose length is public (DIGEST_BYTES), so checking the length
  // first discloses nothing.
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** True when `signature` is the HMAC of `parts` under any one of `keys` (rotation: old and new both pass). */
export function signedByAny(
  algorithm: HmacAlgorithm,
  keys: readonly Buffer[],
  parts: readonly (Buffer | string)[],
  signature: Buffer,
): boolean {
  return keys.some((key) => bytesEqual(hmac(algorithm, key, parts), signature));
}

/** Constant-time equality of a plain-text token (GitLab's X-Gitlab-Token) with a configured one. */
export function tokensEqual(given: Buffer, secret: Buffer): boolean {
  // A token's length is secret, unlike a digest's. Comparing SHA-256 digests of both sides gives two 32-byte
  // values, so neither a length check nor the comparison's timing reveals how long the configured token is.
  return timingSafeEqual(sha256(given), secretDigest(secret));
}

function sha256(value: Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

// The secret store hands out the same Buffer until the file changes, so each configured token is hashed once,
// not on every request; a rotated secret is a new Buffer and gets its own entry.
const secretDigests = new WeakMap<Buffer, Buffer>();

function secretDigest(secret: Buffer): Buffer {
  let digest = secretDigests.get(secret);
  if (digest === undefined) {
    digest = sha256(secret);
    secretDigests.set(secret, digest);
  }
  return digest;
}
