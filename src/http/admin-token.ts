// The admin token (contract §14, §12.0 items 12 and 17): the file named by --admin-token-file holds the token
// that the deliveries endpoints (and PUT /loglevel, #13) require. One trailing newline is removed, as for
// every Secret file (§2). The file is re-read when it changes (a Secret volume's symlink swap included), so
// rotating the token needs no restart. A missing or empty file only turns the protected endpoints off (404):
// it never stops `serve`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** What a request's credentials came to. */
export type AdminAuth =
  /** No usable token file: the protected endpoints do not exist (404). */
  | { readonly kind: 'disabled' }
  | { readonly kind: 'ok'; readonly scheme: 'bearer' | 'basic' }
  /** 401; `message` says what to send, never what was expected. */
  | { readonly kind: 'denied'; readonly message: string };

export interface AdminTokenCheck {
  /** The file as configured, for messages; undefined without --admin-token-file. */
  readonly file: string | undefined;
  /**
   * Checks an `Authorization` header. `basic` allows Basic with the token as password (browsers on GET); POST
   * passes false, since a browser attaches cached Basic credentials to any request, a cross-site form included.
   */
  check(authorization: string | undefined, options: { readonly basic: boolean }): AdminAuth;
  /** Checks a token presented directly (the page's replay form); constant time, like check(). */
  checkToken(token: string): AdminAuth;
  /** Whether a usable token is loaded now (re-reads the file if it changed). */
  enabled(): boolean;
}

export interface AdminTokenEvents {
  /** The file became usable, changed, or stopped being usable; `problem` says why when it is unusable. */
  readonly onChange?: (change: { readonly file: string; readonly problem: string | undefined }) => void;
}

/** The digest of the token: compared instead of the token, so the compare takes the same time for any length. */
const digest = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();

export function adminTokenCheck(file: string | undefined, events: AdminTokenEvents = {}): AdminTokenCheck {
  let stamp = '';
  let expected: Buffer | undefined;
  let problem: string | undefined = file === undefined ? 'no --admin-token-file' : undefined;

  /** Re-reads the file when its identity, size or time changed since the last look (a stat per request). */
  const current = (): Buffer | undefined => {
    if (file === undefined) return undefined;
    let next: string;
    try {
      const s = statSync(file);
      next = `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch (e) {
      next = `missing:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
    }
    if (next === stamp) return expected;
    stamp = next;
    const before = problem;
    try {
      const token = readFileSync(file)
        .toString('utf8')
        .replace(/\r?\n$/, '');
      // An empty token would let an empty password in: it turns the feature off instead (§12.0 item 17).
      expected = token === '' ? undefined : digest(Buffer.from(token, 'utf8'));
      problem = token === '' ? 'the admin token file is empty' : undefined;
    } catch (e) {
      expected = undefined;
      problem = `cannot read the admin token file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
    }
    if (before !== problem || problem === undefined) events.onChange?.({ file, problem });
    return expected;
  };

  const compare = (given: string, scheme: 'bearer' | 'basic'): AdminAuth => {
    const want = current();
    if (want === undefined) return { kind: 'disabled' };
    // Both sides are SHA-256 digests, so lengths match and timingSafeEqual compares in constant time.
    return timingSafeEqual(digest(Buffer.from(given, 'utf8')), want)
      ? { kind: 'ok', scheme }
      : { kind: 'denied', message: 'the admin token is wrong' };
  };

  return {
    file,
    enabled: () => current() !== undefined,
    checkToken: (token) => compare(token, 'bearer'),
    check(authorization, { basic }) {
      if (current() === undefined) return { kind: 'disabled' };
      const send = basic
        ? 'send Authorization: Bearer <admin token> (or Basic with the token as password)'
        : 'send Authorization: Bearer <admin token>';
      if (authorization === undefined || authorization === '') {
        return { kind: 'denied', message: `no credentials: ${send}` };
      }
      const space = authorization.indexOf(' ');
      const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
      const rest = space < 0 ? '' : authorization.slice(space + 1).trim();
      if (scheme === 'bearer') return compare(rest, 'bearer');
      if (scheme === 'basic' && basic) {
        const decoded = Buffer.from(rest, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) return { kind: 'denied', message: `malformed Basic credentials: ${send}` };
        return compare(decoded.slice(colon + 1), 'basic');
      }
      return {
        kind: 'denied',
        message:
          scheme === 'basic' ? `Basic is accepted for GET only: ${send}` : `unsupported scheme: ${send}`,
      };
    },
  };
}
