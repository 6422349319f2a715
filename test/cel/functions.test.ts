// The environment of contract §5, expression by expression: Tekton's functions, cel-go's extensions as Tekton
// enables them, and the places where our wrapper corrects the library towards cel-go.
import { describe, expect, it } from 'vitest';
import { compileCel } from '../../src/pipeline/cel.js';
import type { CelInput, JsonValue } from '../../src/model.js';
import { celInput } from './tekton-input.js';

const SECRET = 'sup3r-s3cret-t0ken';

const input = celInput({
  body: {
    ref: 'refs/tags/v1.1.0',
    count: 1,
    nothing: null,
    unicode: 'héllo wörld',
    commits: [
      { id: 'a1', modified: ['docs/readme.md'], author: { name: 'Ann' } },
      { id: 'b2', modified: ['src/main.go'], author: { name: 'Bob' } },
    ],
    // JSON.parse makes `__proto__` an own key; an object literal would set the prototype instead.
    tricky: JSON.parse('{"constructor": "not a function", "__proto__": "data"}') as JsonValue,
    html: '<a href="x">&</a>',
    yaml: 'name: app\nenabled: yes\nwhen: 2001-12-14\nports: [80, 443]\n',
    b64: 'aGVsbG8=',
  },
  headers: {
    'x-gitlab-event': ['Push Hook'],
    'x-gitlab-token': [SECRET],
    'content-type': ['application/json'],
  },
  requestURL: '/gitlab?project=app&tag=a&tag=b',
  secrets: [{ name: 'gitlab-webhook', data: { token: SECRET } }],
});

function evaluate(source: string, with_: CelInput = input) {
  const compiled = compileCel(source);
  return compiled.ok ? compiled.program.evaluate(with_) : compiled;
}

const cases: { name: string; source: string; value: JsonValue }[] = [
  // Tekton's functions (triggers.go)
  {
    name: 'header.match canonicalises the name',
    source: "header.match('X-GITLAB-EVENT', 'Push Hook')",
    value: true,
  },
  {
    name: 'header.match compares the first value exactly',
    source: "header.match('x-gitlab-event', 'push hook')",
    value: false,
  },
  {
    name: 'header.canonical gives the first value',
    source: "header.canonical('content-type')",
    value: 'application/json',
  },
  { name: 'header.canonical of a missing header is ""', source: "header.canonical('x-missing')", value: '' },
  {
    name: "header['Name'] uses Go's canonical key",
    source: "header['X-Gitlab-Event'][0]",
    value: 'Push Hook',
  },
  { name: 'truncate counts UTF-8 bytes', source: 'body.unicode.truncate(3)', value: 'hé' },
  {
    name: 'truncate past the end keeps the string',
    source: 'body.ref.truncate(100)',
    value: 'refs/tags/v1.1.0',
  },
  {
    name: 'compareSecret is true for the secret',
    source: "header.canonical('X-Gitlab-Token').compareSecret('token', 'gitlab-webhook')",
    value: true,
  },
  {
    name: 'compareSecret is false for another string',
    source: "'guess'.compareSecret('token', 'gitlab-webhook')",
    value: false,
  },
  { name: 'parseJSON of an object', source: `'{"a": {"b": [1, 2]}}'.parseJSON().a.b[1]`, value: 2 },
  { name: 'parseJSON of null is an empty map (Go)', source: "'null'.parseJSON().size()", value: 0 },
  { name: 'parseYAML reads YAML 1.1 booleans', source: 'body.yaml.parseYAML().enabled', value: true },
  {
    name: 'parseYAML keeps timestamps as strings',
    source: 'body.yaml.parseYAML().when',
    value: '2001-12-14',
  },
  { name: 'parseYAML numbers are doubles', source: 'body.yaml.parseYAML().ports[1] == 443.0', value: true },
  {
    name: 'parseURL of requestURL (a path and query)',
    source: 'requestURL.parseURL().path',
    value: '/gitlab',
  },
  {
    name: 'parseURL joins repeated query values',
    source: "requestURL.parseURL().query['tag']",
    value: 'a,b',
  },
  {
    name: 'parseURL keeps every value in queryStrings',
    source: "requestURL.parseURL().queryStrings['tag']",
    value: ['a', 'b'],
  },
  {
    name: 'parseURL has auth only with userinfo',
    source: "has('https://x.test/a'.parseURL().auth)",
    value: false,
  },
  {
    name: 'marshalJSON sorts keys and escapes HTML like Go',
    source: "{'b': body.html, 'a': [true, null, 1.5]}.marshalJSON()",
    value: '{"a":[true,null,1.5],"b":"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"}',
  },
  { name: 'first of a list', source: 'body.commits.first().id', value: 'a1' },
  { name: 'last of a list', source: 'body.commits.last().id', value: 'b2' },
  { name: 'first of an empty list is null', source: '[].first()', value: null },
  {
    name: 'translate expands $1 (Go ReplaceAllString)',
    source: "body.ref.translate('^refs/tags/v(.*)$', '$1')",
    value: '1.1.0',
  },
  // cel-go extensions
  { name: 'strings: split and index', source: "body.ref.split('/')[2]", value: 'v1.1.0' },
  { name: "strings: the seed's replace", source: "body.ref.split('/')[2].replace('v', '')", value: '1.1.0' },
  { name: 'strings: replace with a count', source: "'a-b-c'.replace('-', '+', 1)", value: 'a+b-c' },
  {
    name: 'strings: replace of "" inserts between characters (Go)',
    source: "'ab'.replace('', '-')",
    value: '-a-b-',
  },
  { name: 'strings: lowerAscii leaves non-ASCII alone', source: "'ÀB'.lowerAscii()", value: 'Àb' },
  { name: 'strings: reverse keeps characters whole', source: "'a😀b'.reverse()", value: 'b😀a' },
  { name: 'strings: size counts characters', source: "size('a😀b')", value: 3 },
  { name: 'strings: join', source: "['a', 'b'].join('/')", value: 'a/b' },
  { name: 'strings: format', source: "'%s-%d'.format(['v', 2])", value: 'v-2' },
  { name: 'strings: quote', source: 'strings.quote(\'say "hi"\\n\')', value: '"say \\"hi\\"\\n"' },
  {
    name: 'encoders: base64.decode gives bytes (rendered as base64)',
    source: 'base64.decode(body.b64)',
    value: 'aGVsbG8=',
  },
  {
    name: 'encoders: base64.decode accepts missing padding',
    source: "string(base64.decode('aGVsbG8'))",
    value: 'hello',
  },
  { name: 'encoders: base64.encode', source: "base64.encode(b'hello')", value: 'aGVsbG8=' },
  { name: 'encoders: json.encode', source: "json.encode({'b': 1, 'a': 'x'})", value: '{"a":"x","b":1}' },
  { name: 'sets.contains uses CEL equality', source: 'sets.contains([1, 2, 3], [3.0, 1u])', value: true },
  {
    name: 'sets.intersects',
    source: "sets.intersects(body.commits.map(c, c.author.name), ['Bob'])",
    value: true,
  },
  {
    name: 'sets.equivalent ignores order and repeats',
    source: 'sets.equivalent([1, 2, 2], [2, 1])',
    value: true,
  },
  { name: 'lists.range', source: 'lists.range(3)', value: [0, 1, 2] },
  { name: 'lists: slice', source: "['a', 'b', 'c'].slice(1, 3)", value: ['b', 'c'] },
  { name: 'lists: flatten one level', source: '[[1], [2, [3]]].flatten()', value: [1, 2, [3]] },
  { name: 'lists: flatten(depth)', source: '[[1], [2, [3]]].flatten(2)', value: [1, 2, 3] },
  { name: 'lists: sort', source: "['b', 'c', 'a'].sort()", value: ['a', 'b', 'c'] },
  {
    name: 'lists: sortBy (macro)',
    source: 'body.commits.sortBy(c, c.author.name).map(c, c.id)',
    value: ['a1', 'b2'],
  },
  { name: 'lists: reverse', source: '[1, 2, 3].reverse()', value: [3, 2, 1] },
  {
    name: 'lists: distinct keeps the first of equal values',
    source: '[1, 2.0, 1u, 2].distinct()',
    value: [1, 2],
  },
  { name: 'math.greatest of several arguments (macro)', source: 'math.greatest(1, 7.5, 3u)', value: 7.5 },
  { name: 'math.least of a list', source: 'math.least([4, 2, 9])', value: 2 },
  { name: 'math.round rounds half away from zero', source: 'math.round(-2.5)', value: -3 },
  { name: 'math.abs', source: 'math.abs(-4)', value: 4 },
  { name: 'math.bitShiftRight is logical', source: 'math.bitShiftRight(-1, 62)', value: 3 },
  // macros and the standard library
  {
    name: 'nested exists over a payload',
    source: "body.commits.exists(c, c.modified.exists(f, f.startsWith('docs/')))",
    value: true,
  },
  {
    name: 'map with a filter (3-argument map)',
    source: "body.commits.map(c, c.id != 'a1', c.id)",
    value: ['b2'],
  },
  { name: 'exists_one', source: "body.commits.exists_one(c, c.author.name == 'Ann')", value: true },
  {
    name: 'matches also works as a global function',
    source: "matches(body.ref, '^refs/tags/')",
    value: true,
  },
  {
    name: 'matches uses RE2',
    source: "body.ref.matches('^refs/tags/v[0-9]+\\\\.[0-9]+\\\\.[0-9]+$')",
    value: true,
  },
  {
    name: 'timestamps render as RFC 3339',
    source: "timestamp('2024-01-02T03:04:05Z')",
    value: '2024-01-02T03:04:05Z',
  },
  { name: 'type values render as their names', source: 'type(body)', value: 'map' },
  {
    name: 'maps with non-string keys render string keys',
    source: "{1: 'a', true: 'b'}",
    value: { '1': 'a', true: 'b' },
  },
  // JSON numbers and fields
  { name: 'JSON numbers are doubles', source: 'type(body.count)', value: 'double' },
  { name: 'double arithmetic works', source: 'body.count + 1.0', value: 2 },
  { name: 'int() converts a JSON number', source: 'int(body.count) + 1', value: 2 },
  { name: 'has() is true for a JSON null (as in cel-go)', source: 'has(body.nothing)', value: true },
  { name: '`in` sees a JSON null key (as in cel-go)', source: "'nothing' in body", value: true },
  { name: 'has() is false for a missing field', source: 'has(body.missing)', value: false },
  {
    name: 'an object with a "constructor" key still works',
    source: 'body.tricky.constructor',
    value: 'not a function',
  },
  { name: 'an object with a "__proto__" key still works', source: "body.tricky['__proto__']", value: 'data' },
  { name: 'extensions starts empty', source: 'extensions.size()', value: 0 },
];

describe('the CEL environment (contract §5)', () => {
  it.each(cases)('$name: $source', ({ source, value }) => {
    expect(evaluate(source)).toEqual({ ok: true, value });
  });
});

const evaluationErrors: { name: string; source: string; error: RegExp }[] = [
  { name: 'a missing field', source: 'body.missing', error: /^no such key: missing$/ },
  {
    name: 'has() through a missing field (as in cel-go)',
    source: 'has(body.missing.x)',
    error: /no such key: missing/,
  },
  {
    name: 'int arithmetic on a JSON number, with a hint',
    source: 'body.count + 1',
    error: /no matching overload.*JSON numbers are doubles/,
  },
  {
    name: 'match on a map that is not a header',
    source: "body.canonical('ref')",
    error: /failed to convert to http.Header/,
  },
  {
    name: 'parseJSON of an array',
    source: "'[1]'.parseJSON()",
    error: /failed to decode '\[1\]' in parseJSON/,
  },
  {
    name: 'parseJSON of invalid JSON',
    source: "'testing'.parseJSON()",
    error: /failed to decode 'testing' in parseJSON/,
  },
  { name: 'parseYAML of invalid YAML', source: "'a: b: c'.parseYAML()", error: /in parseYAML/ },
  {
    name: 'parseURL with a bad escape',
    source: "'http://x/%zz'.parseURL()",
    error: /invalid URL escape "%zz"/,
  },
  {
    name: 'a bad regular expression',
    source: "'x'.translate('[', '')",
    error: /failed to parse regular expression for translation: error parsing regexp: missing closing \]/,
  },
  { name: 'base64 that is not base64', source: "base64.decode('a!b')", error: /illegal base64 data/ },
  { name: 'a negative truncate', source: "'x'.truncate(-1)", error: /must not be negative/ },
  { name: 'sort of mixed types', source: "[1, 'a'].sort()", error: /same type/ },
  { name: 'an index out of range', source: 'body.commits[5]', error: /out of bounds/ },
  {
    name: 'a missing secret names it, not a value',
    source: "'x'.compareSecret('token', 'nope')",
    error: /^failed to find secret 'nope' \(key 'token'\) in compareSecret$/,
  },
];

describe('evaluation errors (the trigger fails with 422)', () => {
  it.each(evaluationErrors)('$name: $source', ({ source, error }) => {
    expect(evaluate(source)).toEqual({ ok: false, error: expect.stringMatching(error) });
  });
});

const loadErrors: { name: string; source: string; error: RegExp }[] = [
  {
    name: 'a syntax error, with its column',
    source: "body.value = 'testing'",
    error: /^syntax error at column 12: /,
  },
  { name: 'an unknown variable', source: 'test.value', error: /^undeclared reference to 'test'$/ },
  { name: 'an unknown function', source: 'trunca(body.sha, 7)', error: /^undeclared reference to 'trunca'$/ },
  {
    name: 'an unknown namespaced function',
    source: 'math.median([1])',
    error: /undeclared reference to 'math.median'/,
  },
  {
    name: 'a literal type mismatch',
    source: "'a' + 1",
    error: /found no matching overload for '_\+_' applied to '\(string, int\)'/,
  },
  {
    name: 'marshalJSON of a string (no such overload)',
    source: "'x'.marshalJSON()",
    error: /no matching overload for 'marshalJSON'/,
  },
  { name: 'field selection on a string', source: "'x'.y", error: /does not support field selection/ },
  {
    name: 'the 3-argument compareSecret (contract §2)',
    source: "'x'.compareSecret('token', 'name', 'ns')",
    error: /compareSecret takes \(key, secretName\)/,
  },
  { name: 'an empty expression', source: '  ', error: /empty/ },
  {
    name: 'comprehensions nested 4 deep',
    source: '[[[[1]]]].all(a, a.all(b, b.all(c, c.all(d, true))))',
    error: /nest 4 deep, at most 3/,
  },
  {
    name: 'an expression over 10 000 characters',
    source: `'${'x'.repeat(10_000)}' == ''`,
    error: /at most 10000/,
  },
];

describe('load errors (compileCel reports them when the config loads)', () => {
  it.each(loadErrors)('$name', ({ source, error }) => {
    expect(compileCel(source)).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  it('compiles once and evaluates many times with different inputs', () => {
    const compiled = compileCel('body.n * 2.0');
    if (!compiled.ok) throw new Error(compiled.error);
    expect([1, 2, 3].map((n) => compiled.program.evaluate(celInput({ body: { n } })))).toEqual([
      { ok: true, value: 2 },
      { ok: true, value: 4 },
      { ok: true, value: 6 },
    ]);
    expect(compiled.program.source).toBe('body.n * 2.0');
  });
});

describe('secrets never appear in results or messages', () => {
  const probes = [
    "header.canonical('X-Gitlab-Token').compareSecret('token', 'gitlab-webhook')",
    "'wrong'.compareSecret('token', 'gitlab-webhook')",
    "'wrong'.compareSecret('missing-key', 'gitlab-webhook')",
    "'wrong'.compareSecret(1, 'gitlab-webhook')",
  ];
  it.each(probes)('%s', (source) => {
    const compiled = compileCel(source);
    const text = JSON.stringify(compiled.ok ? compiled.program.evaluate(input) : compiled);
    expect(text).not.toContain(SECRET);
  });
});

describe('large inputs', () => {
  it('map and filter build lists of any length (the library alone overflows the stack past ~10 000)', () => {
    const items = Array.from({ length: 12_000 }, (_, i) => i);
    const result = evaluate('body.items.map(i, i * 2.0).size()', celInput({ body: { items } }));
    expect(result).toEqual({ ok: true, value: 12_000 });
  });
});
