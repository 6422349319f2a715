// The admin token (contract §7 `--admin-token-file`, §14, §12.0 items 12 and 17): what the admin port asks of
// requests that change state (PUT /loglevel; the deliveries page of #19 uses the same check). The token is
// read from its file, re-read when the file changes (a rotated Secret needs no restart), and compared in
// constant time. A file that cannot be read, or holds nothing, accepts no request: the feature is off until
// it is fixed, never open.
import { readFileSync, statSync } from 'node:fs';
import { tokensEqual } from '../pipeline/verify/hmac.js';
import { trimTrailingNewline } from '../secrets.js';

export type AdminAuth =
  | { readonly ok: true }
  /** missing: no or wrong credentials (401); unavailable: the token file cannot be read (503). */
  | { readonly ok: false; readonly reason: 'missing' | 'unavailable'; readonly message: string };

export interface AdminTokenCheck {
  /** Checks an `Authorization` header: `Bearer <token>`, or Basic with the token as password (browsers). */
  (authorization: string | undefined): AdminAuth;
  /** Undefined when the file holds a usable token, else why not (for the start-up log line). */
  problem(): string | undefined;
}

interface Loaded {
  readonly stamp: string;
  readonly token: Buffer | undefined;
  readonly problem: string | undefined;
}

export function adminTokenCheck(file: string): AdminTokenCheck {
  let loaded: Loaded | undefined;
  const current = (): Loaded => {
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (error) {
      return { stamp: '', token: undefined, problem: `cannot read ${file} (${codeOf(error)})` };
    }
    if (loaded?.stamp === stamp) return loaded;
    try {
      const token = trimTrailingNewline(readFileSync(file));
      loaded =
        token.length === 0
          ? { stamp, token: undefined, problem: `${file} is empty` }
          : { stamp, token, problem: undefined };
    } catch (error) {
      loaded = { stamp, token: undefined, problem: `cannot read ${file} (${codeOf(error)})` };
    }
    return loaded;
  };
  const check = (authorization: string | undefined): AdminAuth => {
    const { token } = current();
    if (token === undefined) {
      return {
        ok: false,
        reason: 'unavailable',
        message: 'the admin token file cannot be read; see the gateway logs',
      };
    }
    const given = credential(authorization);
    // tokensEqual hashes both sides first: neither the length nor the timing says anything about the token.
    if (given !== undefined && tokensEqual(Buffer.from(given, 'utf8'), token)) return { ok: true };
    return {
      ok: false,
      reason: 'missing',
      message: 'send the admin token: Authorization: Bearer <token>',
    };
  };
  return Object.assign(check, { problem: () => current().problem });
}

function credential(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const space = authorization.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === 'bearer') return value;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'unknown';
}
