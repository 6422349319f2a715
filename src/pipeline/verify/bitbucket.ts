// Bitbucket Cloud and Data Center: `X-Hub-Signature: sha256=<hex HMAC(secret, raw body)>`. Both default to
// SHA-256; the prefix names the algorithm, and sha1= and sha512= are accepted as Tekton's bitbucket interceptor
// does (go-github ValidateSignature). GitHub uses the same header name for SHA-1, so the prefix decides, never
// the header name.
import type { HeaderMap } from '../../model.js';
import { checkSignedHeader } from './generic.js';
import { requireHeader } from './headers.js';
import type { HmacAlgorithm } from './hmac.js';
import { refuse, type VerifyResult } from './result.js';

const HEADER = 'X-Hub-Signature';
const PREFIX = /^(sha1|sha256|sha512)=/;

export function verifyBitbucket(headers: HeaderMap, body: Buffer, secrets: readonly Buffer[]): VerifyResult {
  const value = requireHeader(headers, HEADER);
  if (typeof value !== 'string') return value;
  const algorithm = PREFIX.exec(value)?.[1] as HmacAlgorithm | undefined;
  if (algorithm === undefined) {
    return refuse(`${HEADER} is not "sha256=" (or "sha1=", "sha512=") followed by a hex HMAC`);
  }
  return checkSignedHeader(
    { header: HEADER, algorithm, encoding: 'hex', prefix: `${algorithm}=` },
    value,
    body,
    secrets,
  );
}
