// Signature verification: does the configured Git host vouch for these exact bytes? The pipeline's verify
// stage calls verifySignature on the raw body before anything is parsed; `{ok: false}` becomes a 401.
import type { Delivery, Route } from '../../model.js';
import { verifyBitbucket } from './bitbucket.js';
import { verifyGeneric } from './generic.js';
import { verifyGitea } from './gitea.js';
import { verifyGithub } from './github.js';
import { verifyGitlab } from './gitlab.js';
import { VERIFIED, refuse, type VerifyResult } from './result.js';

export type { VerifyResult } from './result.js';

/** secrets: the current values of route.secretRefs, in order (already looked up; absent ones dropped). nowMs: injected clock. */
export function verifySignature(
  route: Route,
  delivery: Delivery,
  secrets: readonly Buffer[],
  nowMs: number,
): VerifyResult {
  // Explicitly insecure; the config loader warns about such routes at start-up.
  if (route.provider === 'none') return VERIFIED;
  // An empty secret file would make every HMAC forgeable and match an empty token: treat it as absent
  // (contract §12.0 item 17). None left is the gateway's fault (a Secret unmounted or emptied), not the
  // sender's: 503, so the sender retries once the operator has fixed it.
  const usable = secrets.filter((secret) => secret.length > 0);
  if (usable.length === 0) {
    return {
      ok: false,
      unavailable: true,
      message:
        "none of this route's secret files can be read (missing or empty); the gateway's operator must fix its secretRef",
    };
  }
  const { headers, body } = delivery;
  switch (route.provider) {
    case 'github':
      return verifyGithub(headers, body, usable);
    case 'gitlab':
      return verifyGitlab(headers, body, usable, nowMs);
    case 'bitbucket':
      return verifyBitbucket(headers, body, usable);
    case 'gitea':
    case 'forgejo':
    case 'gogs':
      return verifyGitea(route.provider, headers, body, usable);
    case 'generic':
      // The config loader requires `signature` for generic routes; fail closed should one slip through.
      if (route.signature === undefined) return refuse('this generic route has no signature settings');
      return verifyGeneric(route.signature, headers, body, usable);
    default: {
      // Unreachable for a loaded config; a compile error here means a provider was added without a verifier.
      const unknown: never = route.provider;
      return refuse(`provider "${String(unknown)}" has no signature verifier`);
    }
  }
}
