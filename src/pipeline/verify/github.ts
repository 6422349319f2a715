// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`
// (docs.github.com, "Validating webhook deliveries"). The legacy SHA-1 `X-Hub-Signature` is ignored, as in
// Tekton's github interceptor since v0.34.
//
// @octokit/webhooks-methods' verify(secret, payload, signature) is not used here: it takes the payload as a
// *string*, so the raw bytes would have to be decoded first. Decoding replaces every invalid UTF-8 sequence
// with U+FFFD, so a correctly signed body that is not valid UTF-8 would fail, and two different byte strings
// would verify alike; it also throws on an empty body and is async. The tests use it as an oracle instead.
import type { GenericSignature, HeaderMap } from '../../model.js';
import { verifyGeneric } from './generic.js';
import type { VerifyResult } from './result.js';

const GITHUB: GenericSignature = {
  header: 'X-Hub-Signature-256',
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'sha256=',
};

export function verifyGithub(headers: HeaderMap, body: Buffer, secrets: readonly Buffer[]): VerifyResult {
  return verifyGeneric(GITHUB, headers, body, secrets);
}
