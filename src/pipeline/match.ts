// Route matching (contract §3): a route's path matches the request path exactly or as a prefix at a `/`
// boundary (`/dev` matches `/dev/x`, not `/devx`); routes are sorted longest first, so the first match wins.
import type { Rejection, Route } from '../model.js';

export function matchRoute(routes: readonly Route[], path: string): Route | undefined {
  for (const route of routes) {
    if (route.path === '/' || path === route.path || path.startsWith(`${route.path}/`)) return route;
  }
  return undefined;
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
