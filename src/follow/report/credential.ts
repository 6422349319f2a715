// What a status post authenticates with (contract §12.1, §12.0 item 4): a token file, Bitbucket Cloud's
// user and app password, or a GitHub App's installation token bought with its private key for the
// installation written on the run at creation. Secrets are looked up on every post, so a rotated Secret
// file is used at once.
import type { SecretLookup, StatusConfig } from '../../model.js';
import { STATUS_INSTALLATION } from '../../pipeline/follow-stamp.js';
import type { RunView } from '../run-state.js';
import { installationToken } from './github-app.js';
import type { Answer } from './host.js';

export type Credential =
  { readonly kind: 'token'; readonly token: string } | Exclude<Answer, { kind: 'success' }>;

/** A file not there yet (a Secret still being mounted) is waited for rather than refused. */
const MISSING: Credential = {
  kind: 'retry',
  afterMs: 30_000,
  message: 'the status credential file is missing or empty',
};

export async function credentialOf(
  status: StatusConfig,
  run: RunView,
  secrets: SecretLookup,
  timeoutMs: number,
): Promise<Credential> {
  const text = (ref: Parameters<SecretLookup>[0]) => {
    const value = secrets(ref)?.toString('utf8');
    return value === '' ? undefined : value;
  };
  if (status.tokenRef) {
    const token = text(status.tokenRef);
    return token === undefined ? MISSING : { kind: 'token', token };
  }
  if (status.basicAuthRef) {
    const user = text(status.basicAuthRef.usernameRef);
    const password = text(status.basicAuthRef.passwordRef);
    return user === undefined || password === undefined
      ? MISSING
      : { kind: 'token', token: `${user}:${password}` };
  }
  if (status.app) {
    const installation = run.annotations[STATUS_INSTALLATION];
    if (installation === undefined)
      return { kind: 'failure', message: `the run has no ${STATUS_INSTALLATION} (GitHub App)` };
    const key = text(status.app.privateKeyRef);
    if (key === undefined) return MISSING;
    const result = await installationToken(status.app.id, key, installation, status.apiURL, { timeoutMs });
    return result.kind === 'token' ? { kind: 'token', token: result.token } : result;
  }
  return { kind: 'failure', message: 'status has no credential' };
}
