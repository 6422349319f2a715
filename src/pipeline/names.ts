// Names derived from a delivery (contract §4, §6): the deterministic run name that makes redeliveries
// idempotent, the `$(uid)` that a redelivery renders identically, and the event-id label value.
import { createHash, randomInt } from 'node:crypto';

function digest(...parts: readonly string[]): Buffer {
  const hash = createHash('sha256');
  // NUL separators keep ("a", "bc") and ("ab", "c") apart.
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest();
}

const NAME_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SUFFIX_LENGTH = 10;
/** Tekton refuses run names longer than 63 characters even though Kubernetes allows 253. */
const MAX_PREFIX = 63 - SUFFIX_LENGTH;

/**
 * generateName cut to 53 characters plus 10 characters of [a-z0-9] derived from the delivery, so the same
 * delivery always renders the same name and the API's AlreadyExists tells us it was done before.
 */
export function deterministicName(
  generateName: string,
  dedupeKey: string,
  routePath: string,
  triggerName: string,
  index: number,
  /** The instance label (§12.0 item 2): two gateways sharing a namespace never claim each other's names. */
  instance: string,
): string {
  const bytes = digest('name', dedupeKey, routePath, triggerName, String(index), instance);
  let suffix = '';
  // 10 draws from 36 symbols; the modulo bias (256 % 36) is irrelevant for a collision-avoiding suffix.
  for (let i = 0; i < SUFFIX_LENGTH; i++) suffix += NAME_ALPHABET[bytes[i]! % NAME_ALPHABET.length];
  return generateName.slice(0, MAX_PREFIX) + suffix;
}

/** generateName cut to 53 characters plus 10 random characters of [a-z0-9] (§6 without a dedupe key). */
export function randomName(generateName: string): string {
  let suffix = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) suffix += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return generateName.slice(0, MAX_PREFIX) + suffix;
}

/** A UUID (RFC 9562 version 8, name-based on SHA-256) for `$(uid)`, stable for one delivery and trigger. */
export function deterministicUid(dedupeKey: string, routePath: string, triggerName: string): string {
  const b = digest('uid', dedupeKey, routePath, triggerName).subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isValidLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** The event id as a label value: itself when valid, else the first 63 hex characters of its SHA-256. */
export function eventIdLabel(eventId: string): string {
  return isValidLabelValue(eventId)
    ? eventId
    : createHash('sha256').update(eventId).digest('hex').slice(0, 63);
}
