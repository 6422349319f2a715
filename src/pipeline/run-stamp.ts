// What the gateway writes on every object it creates so that it can later prove it made a run and find it
// again (contract §6, §12.0 items 2 and 3): the instance label, the route and received-at annotations, and
// the signature over all of it. Templates may not set any of these keys.
import { createHash } from 'node:crypto';
import type { JsonObject } from '../model.js';
import { bytesEqual, hmac } from './verify/hmac.js';
import { isValidLabelValue } from './names.js';

export const EVENTLISTENER_LABEL = 'triggers.tekton.dev/eventlistener';
export const TRIGGER_LABEL = 'triggers.tekton.dev/trigger';
export const EVENTID_LABEL = 'triggers.tekton.dev/triggers-eventid';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'tekton-gateway';
/** The §6 labels: Tekton Triggers' own, which the gateway writes exactly as an EventListener would. */
export const GATEWAY_LABELS: readonly string[] = [
  EVENTLISTENER_LABEL,
  TRIGGER_LABEL,
  EVENTID_LABEL,
  MANAGED_BY_LABEL,
];
export const KEY_PREFIX = 'tekton-gateway.dev/';
export const INSTANCE_LABEL = 'tekton-gateway.dev/instance';
export const ROUTE_ANNOTATION = 'tekton-gateway.dev/route';
export const RECEIVED_AT_ANNOTATION = 'tekton-gateway.dev/received-at';
export const SIGNATURE_ANNOTATION = 'tekton-gateway.dev/signature';
/** Written after creation (by the follower), so outside the signature. */
const UNSIGNED = new Set(
  ['signature', 'status-reported', 'status-failed', 'status-commit'].map((k) => KEY_PREFIX + k),
);

/** Keys a template may not set: the §6 labels and everything under tekton-gateway.dev/. */
export function isReservedKey(key: string): boolean {
  return GATEWAY_LABELS.includes(key) || key.startsWith(KEY_PREFIX);
}

/**
 * `<POD_NAMESPACE>.<gateway.name>` as a label value, or the first 63 hex characters of its SHA-256 when it is
 * not a valid one (too long): two gateways of one name in two namespaces never see each other's runs.
 */
export function instanceLabel(podNamespace: string, gatewayName: string): string {
  const value = `${podNamespace}.${gatewayName}`;
  return isValidLabelValue(value) ? value : createHash('sha256').update(value).digest('hex').slice(0, 63);
}

/** RFC 3339 with milliseconds, UTC: the received-at annotation (the ordering key of §12.3). */
export function receivedAtValue(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function signedText(object: JsonObject): string {
  const metadata = (object.metadata ?? {}) as JsonObject;
  const pairs: [string, string][] = [];
  for (const field of ['labels', 'annotations'] as const) {
    for (const [key, value] of Object.entries((metadata[field] ?? {}) as JsonObject)) {
      if (typeof value !== 'string' || UNSIGNED.has(key)) continue;
      if (GATEWAY_LABELS.includes(key) || key.startsWith(KEY_PREFIX)) pairs.push([key, value]);
    }
  }
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([object.kind, metadata.namespace, metadata.name, pairs]);
}

/** Unpadded base64url of HMAC-SHA256 over `[kind, namespace, name, [[key, value], …]]` (§12.0 item 3). */
export function runSignature(object: JsonObject, stateKey: Buffer): string {
  return hmac('sha256', stateKey, [signedText(object)]).toString('base64url');
}

/** Writes the signature annotation (after the name is final: the name is signed). */
export function signRun(object: JsonObject, stateKey: Buffer): void {
  const metadata = object.metadata as JsonObject;
  const annotations = { ...((metadata.annotations ?? {}) as JsonObject) };
  delete annotations[SIGNATURE_ANNOTATION];
  metadata.annotations = annotations;
  annotations[SIGNATURE_ANNOTATION] = runSignature(object, stateKey);
}

/** Whether a run read back from the cluster carries a valid signature; compared in constant time. */
export function hasValidSignature(object: JsonObject, stateKey: Buffer): 'valid' | 'missing' | 'wrong' {
  const metadata = (object.metadata ?? {}) as JsonObject;
  const given = ((metadata.annotations ?? {}) as JsonObject)[SIGNATURE_ANNOTATION];
  if (typeof given !== 'string' || given === '') return 'missing';
  // Compared as text: base64 decoding is lenient (padding, stray characters), the written form is exact.
  const expected = Buffer.from(runSignature(object, stateKey), 'utf8');
  return bytesEqual(Buffer.from(given, 'utf8'), expected) ? 'valid' : 'wrong';
}
