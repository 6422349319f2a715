// parseURL() follows Go's url.Parse, shaped as Tekton's urlToMap.
import { describe, expect, it } from 'vitest';
import { parseURLToMap } from '../../src/pipeline/go-url.js';

describe('parseURLToMap', () => {
  it.each([
    {
      name: 'a request path with a query (requestURL)',
      url: '/gitlab?a=1&b=x+y&b=z%21',
      want: {
        scheme: '',
        host: '',
        path: '/gitlab',
        rawQuery: 'a=1&b=x+y&b=z%21',
        fragment: '',
        query: { a: '1', b: 'x y,z!' },
        queryStrings: { a: ['1'], b: ['x y', 'z!'] },
      },
    },
    {
      name: 'userinfo, port, escaped path and fragment',
      url: 'HTTPS://me:p%40ss@example.com:8443/a%20b/c+d#frag%20ment',
      want: {
        scheme: 'https',
        host: 'example.com:8443',
        path: '/a b/c+d',
        rawQuery: '',
        fragment: 'frag ment',
        query: {},
        queryStrings: {},
        auth: { username: 'me', password: 'p@ss' },
      },
    },
    {
      name: 'an IPv6 host',
      url: 'http://[::1]:80/x',
      want: {
        scheme: 'http',
        host: '[::1]:80',
        path: '/x',
        rawQuery: '',
        fragment: '',
        query: {},
        queryStrings: {},
      },
    },
    {
      name: 'an opaque URL keeps no path',
      url: 'mailto:dev@example.com',
      want: { scheme: 'mailto', host: '', path: '', rawQuery: '', fragment: '', query: {}, queryStrings: {} },
    },
    {
      name: 'malformed query pairs are skipped, as URL.Query() does',
      url: '/?ok=1&bad=%zz&semi=a;b',
      want: {
        scheme: '',
        host: '',
        path: '/',
        rawQuery: 'ok=1&bad=%zz&semi=a;b',
        fragment: '',
        query: { ok: '1' },
        queryStrings: { ok: ['1'] },
      },
    },
  ])('$name', ({ url, want }) => {
    expect(parseURLToMap(url)).toEqual(want);
  });

  it.each([
    { url: 'http://x/%zz', error: 'invalid URL escape "%zz"' },
    { url: 'http://x:port/', error: 'invalid port ":port" after host' },
    { url: ':no-scheme', error: 'missing protocol scheme' },
    { url: 'http://x/\u0001', error: 'net/url: invalid control character in URL' },
  ])('rejects $url like Go: $error', ({ url, error }) => {
    expect(() => parseURLToMap(url)).toThrow(error);
  });
});
