// Reading the headers a verifier needs. Delivery.headers maps lower-case names to their values; messages use
// the spelling the Git host documents (`X-Hub-Signature-256`), so users can find the header in its UI.
import type { HeaderMap } from '../../model.js';
import { refuse } from './result.js';

/** True when the request carries the header at all (even with an empty value). */
export function hasHeader(headers: HeaderMap, name: string): boolean {
  return (headers[name.toLowerCase()]?.length ?? 0) > 0;
}

/**
 * The first value of a header the verifier cannot do without, or the refusal to answer when it is missing or
 * empty. Only the first value counts, as with Go's Header.Get in Tekton's interceptors.
 */
export function requireHeader(
  headers: HeaderMap,
  name: string,
  missing = `missing ${name} header`,
): string | { ok: false; message: string } {
  const value = headers[name.toLowerCase()]?.[0];
  if (value === undefined) return refuse(missing);
  // Gitea and Forgejo send their signature headers empty when the hook has no secret.
  if (value === '') return refuse(`${name} header is empty (is a secret set on the webhook?)`);
  return value;
}

/**
 * The bytes of a header value as they arrived. Node decodes header bytes as latin1, one character per byte, so
 * encoding back as latin1 (not UTF-8) restores them exactly; a token or id with non-ASCII characters then
 * compares and signs byte for byte.
 */
export function headerBytes(value: string): Buffer {
  return Buffer.from(value, 'latin1');
}
