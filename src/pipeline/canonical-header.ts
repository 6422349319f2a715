// Go's textproto.CanonicalMIMEHeaderKey: Tekton exposes headers under these names (`X-Gitlab-Event`) to CEL
// (`header['X-Gitlab-Event']`) and to bindings (`$(header)`), so we must spell them the same way.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function canonicalHeaderKey(name: string): string {
  // Go leaves keys with characters outside the HTTP token set untouched.
  if (!TOKEN.test(name)) return name;
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

// Senders repeat the same dozen header names on every request, so each is canonicalised once. The cache is
// emptied when it grows past a bound, so a sender inventing names cannot grow it without limit.
const CACHE_LIMIT = 1024;
const cache = new Map<string, string>();

function cachedCanonical(name: string): string {
  let canonical = cache.get(name);
  if (canonical === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    canonical = canonicalHeaderKey(name);
    cache.set(name, canonical);
  }
  return canonical;
}

/** Lower-case header map → canonical names, values kept as lists (Go's http.Header). */
export function canonicalHeaders(
  headers: Readonly<Record<string, readonly string[]>>,
): Record<string, readonly string[]> {
  // Null prototype: a header named `__proto__` is an entry like any other, not a new prototype (issue #13).
  const out = Object.create(null) as Record<string, readonly string[]>;
  for (const name in headers) out[cachedCanonical(name)] = headers[name]!;
  return out;
}
