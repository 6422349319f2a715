// Route matching (contract §3): a route's path matches the request path exactly or as a prefix at a `/`
// boundary (`/dev` matches `/dev/x`, not `/devx`); routes are sorted longest first, so the first match wins.
import type { Rejection, Route } from '../model.js';

/** Each config's routes by path, built on first use (a config's routes array lives as long as the config). */
const indexes = new WeakMap<readonly Route[], ReadonlyMap<string, Route>>();

/**
 * The route whose path is the request path, else the longest one that is a prefix of it ending just before a
 * `/`, else `/`. Looking up those few candidates costs the same for 1 route or 1,000; scanning every route
 * did not (issue #8). Same answer as the scan: the candidates are tried longest first, as the routes are sorted.
 */
export function matchRoute(routes: readonly Route[], path: string): Route | undefined {
  let index = indexes.get(routes);
  if (index === undefined) indexes.set(routes, (index = new Map(routes.map((r) => [r.path, r]))));
  const exact = index.get(path);
  if (exact !== undefined) return exact;
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
    const route = index.get(path.slice(0, slash));
    if (route !== undefined) return route;
  }
  return index.get('/');
}

export type RouteCheck =
  | { readonly ok: true; readonly route: Route }
  | { readonly ok: false; readonly rejection: Rejection; readonly route: Route | undefined };

/** 404 when nothing matches, 405 when a route matches but the method is not POST. */
export function checkRoute(routes: readonly Route[], method: string, path: string): RouteCheck {
  const route = matchRoute(routes, path);
  if (!route)
    return { ok: false, route, rejection: { kind: 'no-route', message: `no route for path ${path}` } };
  if (method !== 'POST') {
    return {
      ok: false,
      route,
      rejection: {
        kind: 'method',
        message: `${method} is not allowed: webhooks to ${route.path} must be POST`,
      },
    };
  }
  return { ok: true, route };
}
