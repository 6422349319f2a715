// `s.translate(regex, replacement)` is Go's regexp.MustCompile(regex).ReplaceAllString(s, replacement).
// Expected values are what Go 1.22 prints for the same call.
import { describe, expect, it } from 'vitest';
import { compileCel } from '../../src/pipeline/cel.js';
import { celInput } from './tekton-input.js';

function translate(s: string, regex: string, replacement: string) {
  const source = `body.s.translate(body.re, body.repl)`;
  const compiled = compileCel(source);
  if (!compiled.ok) throw new Error(compiled.error);
  return compiled.program.evaluate(celInput({ body: { s, re: regex, repl: replacement } }));
}

const cases: { name: string; s: string; re: string; repl: string; want: string }[] = [
  {
    name: 'Tekton vector: strip non-alphanumerics',
    s: 'this is $an invalid5string',
    re: '[^a-z0-9]+',
    repl: '',
    want: 'thisisaninvalid5string',
  },
  {
    name: 'numbered groups',
    s: 'refs/tags/v1.2.3',
    re: '^refs/tags/v(\\d+)\\.(\\d+).*$',
    repl: '$1-$2',
    want: '1-2',
  },
  {
    name: 'named groups with braces',
    s: '2024-01-02',
    re: '(?P<y>\\d+)-(?P<m>\\d+)-(?P<d>\\d+)',
    repl: '${d}/${m}/${y}',
    want: '02/01/2024',
  },
  { name: '$1x names group "1x", which does not exist', s: 'abc', re: '(b)', repl: '$1x', want: 'ac' },
  { name: '${1}x is group 1 then x', s: 'abc', re: '(b)', repl: '${1}x', want: 'abxc' },
  { name: '$$ is a dollar', s: 'abc', re: 'b', repl: '$$', want: 'a$c' },
  { name: 'a lone $ stays literal', s: 'abc', re: 'b', repl: '$', want: 'a$c' },
  { name: 'a group that did not take part is empty', s: 'abab', re: '(a)(x)?b', repl: '[$2]', want: '[][]' },
  { name: 'empty matches between characters', s: 'abc', re: 'x*', repl: '-', want: '-a-b-c-' },
  { name: 'no empty match right after a match', s: 'baaac', re: 'a*', repl: 'X', want: 'XbXcX' },
  { name: 'leftmost-first alternation', s: 'aaa', re: 'a|aa', repl: 'X', want: 'XXX' },
  { name: 'non-greedy repetition', s: '<a><b>', re: '<.+?>', repl: '[]', want: '[][]' },
  { name: 'case-insensitive flag', s: 'Hello', re: '(?i)h', repl: 'J', want: 'Jello' },
  { name: '^ is start of text without (?m)', s: 'a\nb', re: '^b', repl: 'X', want: 'a\nb' },
  { name: '^ is start of line with (?m)', s: 'a\nb', re: '(?m)^b', repl: 'X', want: 'a\nX' },
  { name: 'word boundaries', s: 'bar foobar bar', re: '\\bbar\\b', repl: 'baz', want: 'baz foobar baz' },
  {
    name: 'classes match characters, not UTF-16 units',
    s: 'héllo wörld',
    re: '[^a-z ]',
    repl: '_',
    want: 'h_llo w_rld',
  },
  { name: 'astral characters stay whole', s: '😀a😀', re: '.', repl: '<$0>', want: '<😀><a><😀>' },
  { name: 'Unicode classes', s: 'Grüße 42', re: '\\p{L}+', repl: 'w', want: 'w 42' },
  { name: 'POSIX classes', s: 'a1-b2', re: '[[:digit:]]', repl: '#', want: 'a#-b#' },
  { name: 'no match leaves the string', s: 'main', re: '^v\\d', repl: '', want: 'main' },
];

describe('translate() is Go ReplaceAllString on RE2', () => {
  it.each(cases)('$name', ({ s, re, repl, want }) => {
    expect(translate(s, re, repl)).toEqual({ ok: true, value: want });
  });

  it.each([
    { re: '[^a-z0-9+', message: 'missing closing ]: `[^a-z0-9+`' },
    { re: 'a**', message: 'invalid nested repetition operator: `**`' },
    { re: 'a{1001}', message: 'invalid repeat count: `{1001}`' },
    { re: '\\C', message: 'invalid escape sequence: `\\C`' },
  ])('rejects what RE2 rejects: $re', ({ re, message }) => {
    expect(translate('x', re, '')).toEqual({
      ok: false,
      error:
        `failed to parse regular expression for translation: error parsing regexp: ${message}` +
        (re === '(?<n>a)' ? ': `(?<`' : ''),
    });
  });

  it('runs in linear time on patterns that make backtracking engines explode', () => {
    const started = performance.now();
    const result = translate('a'.repeat(5_000) + '!', '(a+)+$', 'x');
    expect(result).toEqual({ ok: true, value: 'a'.repeat(5_000) + '!' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
