// Tekton's `parseURL()`: Go's url.Parse, shaped as triggers' urlToMap (pkg/interceptors/cel/triggers.go).
// The WHATWG URL parser would not do: it needs a base for `requestURL` (a path and query), normalises what Go
// keeps, and decodes differently (Go turns `+` into a space only in the query).
import type { JsonObject } from '../model.js';

const HEX = /^[0-9A-Fa-f]{2}$/;

function quoteGo(s: string): string {
  return JSON.stringify(s);
}

/** Go's url.unescape: `%XX` → byte (`+` → space in query mode); a bad escape is an error. */
function unescape(s: string, query: boolean): string {
  if (!s.includes('%') && !(query && s.includes('+'))) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length;) {
    const ch = s[i]!;
    if (ch === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!HEX.test(hex)) throw new Error(`invalid URL escape ${quoteGo(s.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (ch === '+' && query) {
      bytes.push(0x20);
      i++;
    } else {
      const cp = s.codePointAt(i)!;
      const encoded = Buffer.from(String.fromCodePoint(cp), 'utf8');
      for (const b of encoded) bytes.push(b);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Go's url.ParseQuery, ignoring malformed pairs as URL.Query() does. */
function parseQuery(raw: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const pair of raw.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = unescape(rawKey, true);
      value = unescape(rawValue, true);
    } catch {
      continue;
    }
    const list = values.get(key) ?? [];
    list.push(value);
    values.set(key, list);
  }
  return values;
}

/** Go's getScheme: a scheme is letters, then letters, digits, `+`, `-`, `.`, ended by `:`. */
function splitScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) return ['', raw];
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new Error('missing protocol scheme');
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ['', raw];
  }
  return ['', raw];
}

function checkPort(host: string): void {
  const bracket = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  if (colon > bracket) {
    const port = host.slice(colon);
    if (!/^:[0-9]*$/.test(port)) throw new Error(`invalid port ${quoteGo(port)} after host`);
  }
}

interface Authority {
  readonly host: string;
  readonly user: { readonly username: string; readonly password: string } | undefined;
}

function parseAuthority(authority: string): Authority {
  const at = authority.lastIndexOf('@');
  const host = unescape(at < 0 ? authority : authority.slice(at + 1), false);
  checkPort(host);
  if (at < 0) return { host, user: undefined };
  const userinfo = authority.slice(0, at);
  if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) throw new Error('net/url: invalid userinfo');
  const colon = userinfo.indexOf(':');
  if (colon < 0) return { host, user: { username: unescape(userinfo, false), password: '' } };
  return {
    host,
    user: {
      username: unescape(userinfo.slice(0, colon), false),
      password: unescape(userinfo.slice(colon + 1), false),
    },
  };
}

/**
 * `{scheme, host, path, rawQuery, fragment, query, queryStrings, auth?}` as Tekton returns it: `path` and
 * `fragment` decoded, `rawQuery` as sent, `query` with repeated keys joined by `,`, `auth` only with userinfo.
 * Throws with Go's message when url.Parse would fail.
 */
export function parseURLToMap(raw: string): JsonObject {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new Error('net/url: invalid control character in URL');
  const hash = raw.indexOf('#');
  const beforeFragment = hash < 0 ? raw : raw.slice(0, hash);
  const fragment = hash < 0 ? '' : unescape(raw.slice(hash + 1), false);

  let [scheme, rest] = splitScheme(beforeFragment);
  scheme = scheme.toLowerCase();
  let rawQuery = '';
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }

  let host = '';
  let user: Authority['user'];
  let path = '';
  if (!rest.startsWith('/') && scheme !== '') {
    // An opaque URL (`mailto:x`): Go keeps it in URL.Opaque, which urlToMap does not return.
  } else {
    if (!rest.startsWith('/') && (rest.split('/')[0] ?? '').includes(':')) {
      throw new Error('first path segment in URL cannot contain colon');
    }
    if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
      const authorityEnd = rest.indexOf('/', 2);
      const authority = authorityEnd < 0 ? rest.slice(2) : rest.slice(2, authorityEnd);
      rest = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
      ({ host, user } = parseAuthority(authority));
    }
    path = unescape(rest, false);
  }

  const query = parseQuery(rawQuery);
  const result: JsonObject = {
    scheme,
    host,
    path,
    rawQuery,
    fragment,
    queryStrings: Object.fromEntries(query),
    query: Object.fromEntries([...query].map(([k, v]) => [k, v.join(',')])),
  };
  if (user !== undefined) result['auth'] = { username: user.username, password: user.password };
  return result;
}
