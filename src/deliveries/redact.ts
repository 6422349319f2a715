// What of a request the deliveries page may keep (contract §12.0 item 12): credentials never. Replaced by
// `<redacted>`: Authorization, Proxy-Authorization, Cookie, every header a provider's verifier reads a
// signature or token from (all providers', not only the route's: a request that matched no route, or the
// wrong one, still carries its sender's secret), the route's generic `signature.header`, every header an
// expression that calls compareSecret names, and every query value.
import type { HeaderMap, Route } from '../model.js';

export const REDACTED = '<redacted>';

/** Lower-case names; src/pipeline/verify/ reads these. */
const ALWAYS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-gitlab-token',
  'webhook-signature',
  'x-gitea-signature',
  'x-gogs-signature',
  'x-forgejo-signature',
];

const perRoute = new WeakMap<Route, ReadonlySet<string>>();

/** The header names (lower case) whose values are never stored for a request to `route`. */
export function secretHeaders(route: Route | undefined): ReadonlySet<string> {
  if (route === undefined) return ALWAYS_SET;
  let names = perRoute.get(route);
  if (names === undefined) {
    const set = new Set(ALWAYS);
    if (route.signature) set.add(route.signature.header.toLowerCase());
    for (const t of route.triggers) {
      const sources = [...t.filters.map((f) => f.source), ...t.overlays.map((o) => o.expression.source)];
      for (const source of sources) {
        if (source.includes('compareSecret')) for (const name of namesIn(source)) set.add(name);
      }
    }
    names = set;
    perRoute.set(route, names);
  }
  return names;
}

const ALWAYS_SET: ReadonlySet<string> = new Set(ALWAYS);

/**
 * Every string literal and every `header.<name>` in an expression: the header compareSecret reads is named
 * by one of them (`header.canonical('X-Token').compareSecret(…)`, `header['X-Token'][0]`). Over-matching
 * only hides a harmless header; under-matching would store a secret.
 */
function namesIn(source: string): string[] {
  const names: string[] = [];
  for (const m of source.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)) {
    names.push((m[1] ?? m[2] ?? '').toLowerCase());
  }
  for (const m of source.matchAll(/\bheader\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/g))
    names.push(m[1]!.toLowerCase());
  return names;
}

const perConfig = new WeakMap<readonly Route[], ReadonlySet<string>>();

/**
 * The secret headers of every route of the config: a request that matched no route, or another route than
 * its sender meant, may still carry a generic signature or a compareSecret token of some route.
 */
export function configSecretHeaders(routes: readonly Route[]): ReadonlySet<string> {
  let names = perConfig.get(routes);
  if (names === undefined) {
    names = new Set(routes.flatMap((r) => [...secretHeaders(r)]));
    perConfig.set(routes, names);
  }
  return names;
}

/** The headers with secret values replaced; names stay lower case as received. */
export function redactHeaders(
  headers: HeaderMap,
  route: Route | undefined,
  routes: readonly Route[] = [],
): Record<string, string[]> {
  const own = secretHeaders(route);
  const all = configSecretHeaders(routes);
  const secret = { has: (name: string) => own.has(name) || all.has(name) };
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(headers)) {
    // Own data properties only: a header named __proto__ must stay a plain key.
    Object.defineProperty(out, name, {
      value: secret.has(name) ? values.map(() => REDACTED) : [...values],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** `/p?a=1&b` → `/p?a=<redacted>&b`: query values may carry tokens (`?token=`). */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}
