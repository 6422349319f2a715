// Standard Webhooks (standardwebhooks.com; GitLab's signing tokens, gitlab MR !230944 and !231325):
//   webhook-signature: v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>")> [v1,… …]
// where the key is the base64-decoded part of a `whsec_…` secret, and the timestamp must lie within 5 minutes
// of now either way (the reference library's WEBHOOK_TOLERANCE_IN_SECONDS), which bounds replays.
import type { HeaderMap } from '../../model.js';
import { decodeDigest, isBase64 } from './generic.js';
import { headerBytes, requireHeader } from './headers.js';
import { DIGEST_BYTES, bytesEqual, hmac } from './hmac.js';
import { configuredSecrets, refuse, type VerifyResult } from './result.js';

export const SIGNING_KEY_PREFIX = 'whsec_';
const TOLERANCE_SECONDS = 5 * 60;
/**
 * `v1,` entries looked at. Senders list one per key they sign with (two during a rotation); the header's
 * size alone (Node's 16 KiB header limit) would allow hundreds, each costing a compare (issue #13).
 */
export const MAX_SIGNATURE_ENTRIES = 8;

/** True for a `whsec_…` secret: a Standard Webhooks signing key rather than a plain token. */
export function isSigningKey(secret: Buffer): boolean {
  return secret.subarray(0, SIGNING_KEY_PREFIX.length).toString('latin1') === SIGNING_KEY_PREFIX;
}

/** `secrets` are `whsec_…` values; the request passes when any one of them signed it. */
export function verifyStandardWebhook(
  headers: HeaderMap,
  body: Buffer,
  secrets: readonly Buffer[],
  nowMs: number,
): VerifyResult {
  const signatures = requireHeader(headers, 'webhook-signature');
  if (typeof signatures !== 'string') return signatures;
  const id = requireHeader(headers, 'webhook-id');
  if (typeof id !== 'string') return id;
  const timestamp = requireHeader(headers, 'webhook-timestamp');
  if (typeof timestamp !== 'string') return timestamp;

  if (!/^[0-9]{1,15}$/.test(timestamp)) return refuse('webhook-timestamp is not a number of seconds');
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > TOLERANCE_SECONDS) {
    return refuse('webhook-timestamp is more than 5 minutes from now (a replay, or clocks out of step)');
  }

  const keys = secrets.flatMap((secret) => {
    const text = secret.subarray(SIGNING_KEY_PREFIX.length).toString('latin1');
    return isBase64(text) && text !== '' ? [Buffer.from(text, 'base64')] : [];
  });
  if (keys.length === 0) return refuse('the configured whsec_ signing key is not valid base64');

  // A space-separated list; senders add entries for other versions or several keys during their own rotation.
  // Only the first MAX_SIGNATURE_ENTRIES `v1,` entries count, whatever else the header holds.
  const given: Buffer[] = [];
  for (const entry of signatures.split(' ', 4 * MAX_SIGNATURE_ENTRIES)) {
    if (!entry.startsWith('v1,')) continue;
    const digest = decodeDigest(entry.slice(3), 'base64', DIGEST_BYTES.sha256);
    if (digest !== undefined) given.push(digest);
    if (given.length === MAX_SIGNATURE_ENTRIES) break;
  }
  if (given.length === 0) return refuse('webhook-signature has no "v1," entry with the base64 of 32 bytes');

  // One HMAC over the body per configured key, however many entries the header carries (issue #13: one per
  // entry let one unsigned request with hundreds of entries and a 25 MiB body block the event loop).
  const signed = [headerBytes(`${id}.${timestamp}.`), body];
  const expected = keys.map((key) => hmac('sha256', key, signed));
  if (expected.some((mac) => given.some((digest) => bytesEqual(mac, digest)))) {
    // The signed webhook-id is the delivery id and dedupe key (contract §4, §12.0 item 15): an unsigned
    // Idempotency-Key could be changed on a replayed capture to create new runs.
    return { ok: true, signedId: id };
  }
  return refuse(
    `webhook-signature does not match the request signed with ${configuredSecrets(keys.length, 'signing key')}`,
  );
}
