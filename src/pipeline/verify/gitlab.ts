// GitLab: a secret starting `whsec_` is a signing token, checked by the Standard Webhooks headers; any other
// secret is a plain token that `X-Gitlab-Token` must equal (GitLab sends it verbatim; there is no HMAC).
// A rotation list may mix both kinds, and a hook may carry both; a request passes when any one secret verifies
// it by that secret's own scheme (contract §4).
import type { HeaderMap } from '../../model.js';
import { headerBytes, requireHeader } from './headers.js';
import { tokensEqual } from './hmac.js';
import { VERIFIED, configuredSecrets, refuse, type VerifyResult } from './result.js';
import { isSigningKey, verifyStandardWebhook } from './standard-webhooks.js';

const TOKEN_HEADER = 'X-Gitlab-Token';

export function verifyGitlab(
  headers: HeaderMap,
  body: Buffer,
  secrets: readonly Buffer[],
  nowMs: number,
): VerifyResult {
  const signingKeys = secrets.filter(isSigningKey);
  const tokens = secrets.filter((secret) => !isSigningKey(secret));
  const refusals: string[] = [];
  if (tokens.length > 0) {
    const result = verifyToken(headers, tokens);
    if (result.ok) return result;
    refusals.push(result.message);
  }
  if (signingKeys.length > 0) {
    const result = verifyStandardWebhook(headers, body, signingKeys, nowMs);
    if (result.ok) return result;
    refusals.push(result.message);
  }
  return refuse(refusals.join('; '));
}

function verifyToken(headers: HeaderMap, tokens: readonly Buffer[]): VerifyResult {
  const value = requireHeader(headers, TOKEN_HEADER);
  if (typeof value !== 'string') return value;
  const given = headerBytes(value);
  if (tokens.some((token) => tokensEqual(given, token))) return VERIFIED;
  return refuse(`${TOKEN_HEADER} does not match ${configuredSecrets(tokens.length, 'token')}`);
}
