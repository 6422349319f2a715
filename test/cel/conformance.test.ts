// The CEL conformance suite (cel-spec, as shipped in @bufbuild/cel-spec) for the sections Tekton users touch,
// run through compileCel as a regression net for our wrapper: the checker, the rewrites and the value
// conversion must not break what the library gets right. math_ext and encoders_ext cover the extension
// functions we wrote ourselves.
//
// Each case compiles `[type(E), E]`, so the result's CEL type is compared as well as its JSON value.
import {
  getConformanceSuite,
  type IncrementalTest,
  type IncrementalTestSuite,
} from '@bufbuild/cel-spec/testdata/tests.js';
import type { Value } from '@bufbuild/cel-spec/cel/expr/value_pb.js';
import { describe, expect, it } from 'vitest';
import { compileCel } from '../../src/pipeline/cel.js';
import type { CelResult, JsonValue } from '../../src/model.js';
import { celInput } from './tekton-input.js';

const SECTIONS = [
  'basic',
  'comparisons',
  'conversions',
  'lists',
  'logic',
  'macros',
  'string',
  'string_ext',
  'fields',
  'math_ext',
  'encoders_ext',
];

/** Cases that test something Tekton's environment does not have: they cannot run here, by design. */
const NOT_APPLICABLE: readonly { readonly why: string; readonly applies: (t: IncrementalTest) => boolean }[] =
  [
    {
      why: "declares variables; Tekton's environment has only body, header, requestURL and extensions",
      applies: (t) => Object.keys(t.original.bindings).length > 0 || t.original.typeEnv.length > 0,
    },
    {
      why: "needs the conformance suite's proto messages (a container or TestAllTypes), which Tekton does not register",
      applies: (t) => t.original.container !== '' || /TestAllTypes/.test(t.original.expr),
    },
  ];

/**
 * Cases that disable cel-go's type check to test run-time behaviour. Tekton checks every expression, and we do
 * so at load time, so these must be load errors here.
 */
const REJECTED_AT_LOAD = new Set([
  'basic/variables/unbound_is_runtime_error',
  'basic/functions/unbound_is_runtime_error',
  'logic/AND/short_circuit_type_left',
  'logic/AND/short_circuit_type_right',
  'logic/OR/short_circuit_type_left',
  'logic/OR/short_circuit_type_right',
]);

/** Documented gaps of @bufbuild/cel 0.6.1 (docs/cel.md). Each test below checks the gap is still there. */
const LIBRARY_GAPS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    [
      'field_access_slash',
      'field_access_dash',
      'field_access_dot',
      'has_field_slash',
      'has_field_dash',
      'has_field_dot',
    ].map((name) => [
      `fields/quoted_map_fields/${name}`,
      'backtick-quoted field names (cel-spec 0.24) do not parse; cel-go needs an option Tekton does not set, so Tekton users cannot write them either',
    ]),
  ),
  'fields/qualified_identifier_resolution/map_value_repeat_key_heterogeneous':
    'a map literal whose keys 0 and 0u collide should be an error; the library keeps the first entry',
};

function flatten(suite: IncrementalTestSuite, path: string): { name: string; test: IncrementalTest }[] {
  return [
    ...suite.tests.map((test) => ({ name: `${path}/${test.name}`, test })),
    ...suite.suites.flatMap((s) => flatten(s, `${path}/${s.name}`)),
  ];
}

const all = getConformanceSuite()
  .suites.filter((s) => SECTIONS.includes(s.name))
  .flatMap((s) => flatten(s, s.name));
const notApplicable = all.filter(({ test }) => NOT_APPLICABLE.some((n) => n.applies(test)));
const applicable = all.filter((c) => !notApplicable.includes(c));
const passing = applicable.filter(
  ({ name }) => !REJECTED_AT_LOAD.has(name) && LIBRARY_GAPS[name] === undefined,
);

const VALUE_TYPES: Readonly<Record<string, string>> = {
  nullValue: 'null_type',
  boolValue: 'bool',
  int64Value: 'int',
  uint64Value: 'uint',
  doubleValue: 'double',
  stringValue: 'string',
  bytesValue: 'bytes',
  listValue: 'list',
  mapValue: 'map',
  typeValue: 'type',
};

/** A conformance Value in the JSON form our programs return (same rules as Tekton's overlays). */
function valueToJson(v: Value): JsonValue {
  const kind = v.kind;
  switch (kind.case) {
    case 'nullValue':
      return null;
    case 'boolValue':
    case 'stringValue':
    case 'typeValue':
      return kind.value;
    case 'int64Value':
    case 'uint64Value':
      return Number(kind.value);
    case 'doubleValue':
      return Number.isFinite(kind.value) ? kind.value : String(kind.value);
    case 'bytesValue':
      return Buffer.from(kind.value).toString('base64');
    case 'listValue':
      return kind.value.values.map(valueToJson);
    case 'mapValue':
      return Object.fromEntries(
        kind.value.entries.map((e) => [String(valueToJson(e.key!)), valueToJson(e.value!)]),
      );
    default:
      throw new Error(`no JSON form for an expected ${String(kind.case)}`);
  }
}

type Expectation = { readonly value: JsonValue } | { readonly error: true };

function expectation(test: IncrementalTest): Expectation {
  const matcher = test.original.resultMatcher;
  if (matcher.case === undefined) return { value: ['bool', true] }; // the suite's default result is `true`
  if (matcher.case === 'value')
    return { value: [VALUE_TYPES[matcher.value.kind.case!]!, valueToJson(matcher.value)] };
  if (matcher.case === 'evalError' || matcher.case === 'anyEvalErrors') return { error: true };
  throw new Error(`unsupported result matcher ${matcher.case}`);
}

function run(expr: string): CelResult {
  const compiled = compileCel(`[type(${expr}), ${expr}]`);
  return compiled.ok ? compiled.program.evaluate(celInput({})) : { ok: false, error: compiled.error };
}

describe('cel-spec conformance through compileCel', () => {
  it.each(passing)('$name', ({ test }) => {
    const expected = expectation(test);
    const result = run(test.original.expr);
    if ('error' in expected) expect(result.ok).toBe(false);
    else expect(result).toEqual({ ok: true, value: expected.value });
  });

  it.each([...REJECTED_AT_LOAD].map((name) => ({ name, test: all.find((c) => c.name === name)!.test })))(
    '$name is a load error (the case disables the type check; Tekton never does)',
    ({ test }) => {
      expect(test.original.disableCheck).toBe(true);
      expect(compileCel(test.original.expr).ok).toBe(false);
    },
  );

  it.each(
    Object.entries(LIBRARY_GAPS).map(([name, why]) => ({
      name,
      why,
      test: all.find((c) => c.name === name)!.test,
    })),
  )('known library gap still present: $name ($why)', ({ test }) => {
    const expected = expectation(test);
    const result = run(test.original.expr);
    if ('error' in expected) expect(result.ok).toBe(true);
    else expect(result).not.toEqual({ ok: true, value: expected.value });
  });

  it.each(
    NOT_APPLICABLE.map((n) => ({ why: n.why, count: notApplicable.filter((c) => n.applies(c.test)).length })),
  )('not applicable to Tekton ($count cases): $why', ({ count }) => {
    expect(count).toBeGreaterThan(0);
  });
});
