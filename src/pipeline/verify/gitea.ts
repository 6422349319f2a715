// Gitea, Forgejo and Gogs: a bare hex HMAC-SHA256 of the raw body in their own header
// (go-gitea/gitea services/webhook/deliver.go). They also send X-Hub-Signature(-256) and X-GitHub-* copies;
// only the host's own header is read, so those copies never decide anything here.
import type { HeaderMap } from '../../model.js';
import { checkSignedHeader } from './generic.js';
import { hasHeader, requireHeader } from './headers.js';
import type { VerifyResult } from './result.js';

export type GiteaFamily = 'gitea' | 'forgejo' | 'gogs';

const OWN_HEADER: Record<GiteaFamily, string> = {
  gitea: 'X-Gitea-Signature',
  gogs: 'X-Gogs-Signature',
  forgejo: 'X-Forgejo-Signature',
};

export function verifyGitea(
  provider: GiteaFamily,
  headers: HeaderMap,
  body: Buffer,
  secrets: readonly Buffer[],
): VerifyResult {
  const own = OWN_HEADER[provider];
  // Forgejo sends X-Forgejo-Signature; releases that predate it only send the X-Gitea-Signature they inherited.
  const header =
    provider === 'forgejo' && !hasHeader(headers, own) && hasHeader(headers, OWN_HEADER.gitea)
      ? OWN_HEADER.gitea
      : own;
  const missing =
    provider === 'forgejo' ? `missing ${own} header (or ${OWN_HEADER.gitea})` : `missing ${own} header`;
  const value = requireHeader(headers, header, missing);
  if (typeof value !== 'string') return value;
  return checkSignedHeader(
    { header, algorithm: 'sha256', encoding: 'hex', prefix: '' },
    value,
    body,
    secrets,
  );
}
