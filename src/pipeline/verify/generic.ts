// The route-configured HMAC header (provider: generic): `<prefix><encoding of HMAC(secret, raw body)>`.
// GitHub, Bitbucket, Gitea, Forgejo and Gogs are this scheme with fixed settings, so they all share
// checkSignedHeader and its messages.
import type { GenericSignature, HeaderMap } from '../../model.js';
import { requireHeader } from './headers.js';
import { DIGEST_BYTES, signedByAny } from './hmac.js';
import { VERIFIED, configuredSecrets, refuse, type VerifyResult } from './result.js';

export function verifyGeneric(
  signature: GenericSignature,
  headers: HeaderMap,
  body: Buffer,
  secrets: readonly Buffer[],
): VerifyResult {
  const value = requireHeader(headers, signature.header);
  if (typeof value !== 'string') return value;
  return checkSignedHeader(signature, value, body, secrets);
}

/** Checks one header value against the HMAC of the raw body under each secret. */
export function checkSignedHeader(
  signature: GenericSignature,
  value: string,
  body: Buffer,
  secrets: readonly Buffer[],
): VerifyResult {
  const digest = value.startsWith(signature.prefix)
    ? decodeDigest(
        value.slice(signature.prefix.length),
        signature.encoding,
        DIGEST_BYTES[signature.algorithm],
      )
    : undefined;
  if (digest === undefined) return refuse(`${signature.header} is not ${describe(signature)}`);
  if (signedByAny(signature.algorithm, secrets, [body], digest)) return VERIFIED;
  return refuse(
    `${signature.header} does not match the body signed with ${configuredSecrets(secrets.length)}`,
  );
}

/** What a well-formed value looks like, for messages: `"sha256=" followed by 64 hex digits`. */
function describe({ prefix, encoding, algorithm }: GenericSignature): string {
  const bytes = DIGEST_BYTES[algorithm];
  const digits = encoding === 'hex' ? `${bytes * 2} hex digits` : `the base64 of ${bytes} bytes`;
  return prefix === '' ? digits : `"${prefix}" followed by ${digits}`;
}

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard, padded base64 and nothing else. */
export function isBase64(text: string): boolean {
  return BASE64.test(text);
}

/**
 * Decodes a digest strictly: Buffer.from(…, 'hex' | 'base64') silently drops what it cannot read, so the text is
 * checked first, and a digest of the wrong length is no digest at all.
 */
export function decodeDigest(text: string, encoding: 'hex' | 'base64', bytes: number): Buffer | undefined {
  const valid = encoding === 'hex' ? HEX.test(text) && text.length === bytes * 2 : isBase64(text);
  if (!valid) return undefined;
  const digest = Buffer.from(text, encoding);
  return digest.length === bytes ? digest : undefined;
}
