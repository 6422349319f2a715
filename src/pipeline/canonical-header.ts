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

/** Lower-case header map → canonical names, values kept as lists (Go's http.Header). */
export function canonicalHeaders(
  headers: Readonly<Record<string, readonly string[]>>,
): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const [name, values] of Object.entries(headers)) out[canonicalHeaderKey(name)] = values;
  return out;
}
