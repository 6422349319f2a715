// Route matching (contract §3): exact path or a prefix at a `/` boundary, longest wins, `/` catches the rest.
// matchRoute looks up candidates in an index (issue #8); the reference below is the plain scan over routes
// sorted longest first, and both must agree on every path.
import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/model.js';
import { checkRoute, matchRoute } from '../../src/pipeline/match.js';

const route = (path: string) => ({ path }) as Route;
const sorted = (paths: readonly string[]) => paths.map(route).sort((a, b) => b.path.length - a.path.length);

function scan(routes: readonly Route[], path: string): Route | undefined {
  return routes.find((r) => r.path === '/' || path === r.path || path.startsWith(`${r.path}/`));
}

describe('matchRoute', () => {
  it.each([
    { name: 'exact', paths: ['/dev', '/prod'], path: '/dev', want: '/dev' },
    { name: 'prefix at a slash', paths: ['/dev'], path: '/dev/x/y', want: '/dev' },
    { name: 'not a prefix inside a segment', paths: ['/dev'], path: '/devx', want: undefined },
    { name: 'longest prefix wins', paths: ['/a', '/a/b', '/a/b/c'], path: '/a/b/x', want: '/a/b' },
    { name: 'root catches the rest', paths: ['/', '/a'], path: '/b/c', want: '/' },
    { name: 'a longer route still wins over the root', paths: ['/', '/a'], path: '/a/c', want: '/a' },
    { name: 'a route ending in a slash', paths: ['/dev/'], path: '/dev//x', want: '/dev/' },
    { name: 'a route ending in a slash is not /dev', paths: ['/dev/'], path: '/dev/x', want: undefined },
    { name: 'no route', paths: ['/a'], path: '/', want: undefined },
  ])('$name', ({ paths, path, want }) => {
    expect(matchRoute(sorted(paths), path)?.path).toBe(want);
  });

  it('agrees with a scan of the sorted routes on every path made of their segments', () => {
    const routes = sorted(['/', '/a', '/a/b', '/a/bc', '/b', '/b/', '/a/b/c/d', '/x//y', '/c.d']);
    const segments = ['', 'a', 'b', 'bc', 'c', 'd', 'x', 'y', 'c.d'];
    let checked = 0;
    for (const s1 of segments)
      for (const s2 of segments)
        for (const s3 of segments) {
          for (const path of [`/${s1}`, `/${s1}/${s2}`, `/${s1}/${s2}/${s3}`, `${s1}/${s2}`]) {
            expect(matchRoute(routes, path), path).toBe(scan(routes, path));
            checked++;
          }
        }
    expect(checked).toBeGreaterThan(2000);
  });

  it('finds the last of 1,000 routes and still answers 405 for a GET', () => {
    const routes = sorted(Array.from({ length: 1000 }, (_, i) => `/repo-${i}`));
    expect(matchRoute(routes, '/repo-999/push')?.path).toBe('/repo-999');
    expect(checkRoute(routes, 'GET', '/repo-999')).toMatchObject({
      ok: false,
      rejection: { kind: 'method' },
    });
  });
});
