// Every vector of test/fixtures/vectors/tekton-templates.json. Tekton substitutes bytes in the template's JSON
// text; we substitute inside the parsed object's strings. So each vector is compared on the parsed result:
// our param value is the string Tekton's output JSON ends up holding (test/fixtures/vectors/README.md). Cases
// that splice raw JSON where no string is (`{"foo": $(tt.params.p1)}`) cannot be written in a YAML
// template and have no equivalent; the test asserts that they are indeed not a parseable template.
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/model.js';
import { escapeParamValue, substitute } from '../../src/pipeline/render.js';
import { vectors } from '../helpers/shared.js';

interface Vector {
  id: string;
  kind: string;
  input: Record<string, unknown>;
  expected: Record<string, unknown>;
}

const all = vectors<Vector>('tekton-templates.json');
const ofKind = (kind: string) => all.filter((v) => v.kind === kind).map((v) => [v.id, v] as const);

/** The string a Tekton-rendered JSON string literal holds for this param value. */
function heldValue(value: string, oldEscapeQuotes: boolean): string {
  const text = oldEscapeQuotes ? value.replaceAll('"', '\\"') : value;
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return value;
  }
}

/** Parses a template text, closing the truncated objects some upstream cases use; undefined if not JSON. */
function parseTemplate(text: string): { value: JsonValue; closed: boolean } | undefined {
  for (const [candidate, closed] of [
    [text, false],
    [`${text}}`, true],
  ] as const) {
    try {
      return { value: JSON.parse(candidate) as JsonValue, closed };
    } catch {
      // try the next form
    }
  }
  return undefined;
}

function params(list: { name: string; value: string }[], oldEscapeQuotes: boolean): Map<string, string> {
  return new Map(list.map((p) => [p.name, heldValue(p.value, oldEscapeQuotes)]));
}

describe('tekton-templates.json', () => {
  it('has the vectors this suite maps', () => {
    expect(all.length).toBe(25);
  });

  it.each(ofKind('escapeParamValue'))('escapeParamValue %s', (_id, v) => {
    expect(escapeParamValue(v.input.value as string)).toBe(v.expected.value);
  });

  it.each(ofKind('applyUID'))('applyUID %s', (_id, v) => {
    const template = JSON.parse(v.input.template as string) as JsonValue;
    const expected = JSON.parse(v.expected.template as string) as JsonValue;
    expect(substitute(template, new Map(), v.input.uid as string)).toEqual(expected);
  });

  it.each(ofKind('applyParams'))('applyParams %s', (_id, v) => {
    const old = v.input.oldEscapeQuotes === true;
    const template = parseTemplate(v.input.template as string);
    if (template === undefined) {
      // Raw JSON spliced outside a string: not expressible as a parsed template.
      expect(v.input.template as string).toMatch(/:\s*\$\(tt\.params\.[^)]+\)\s*}/);
      return;
    }
    const expected = parseTemplate(v.expected.template as string);
    expect(expected?.closed).toBe(template.closed);
    const p = params(v.input.params as { name: string; value: string }[], old);
    expect(substitute(template.value, p, 'uid')).toEqual(expected!.value);
  });

  it.each(ofKind('resolveResources'))('resolveResources %s', (_id, v) => {
    const annotations = v.input.annotations as Record<string, string>;
    const old = 'triggers.tekton.dev/old-escape-quotes' in annotations;
    const p = params(v.input.params as { name: string; value: string }[], old);
    const uid = v.input.uid as string;
    const rendered = (v.input.resourceTemplates as string[]).map((t) =>
      substitute(JSON.parse(t) as JsonValue, p, uid),
    );
    expect(rendered).toEqual((v.expected.resources as string[]).map((t) => JSON.parse(t) as JsonValue));
  });

  it('inserted values are never scanned again: a payload $(uid) stays inert', () => {
    const out = substitute({ a: '$(tt.params.p) $(uid)' }, new Map([['p', 'x $(uid) $(tt.params.p)']]), 'U');
    expect(out).toEqual({ a: 'x $$(uid) $$(tt.params.p) U' });
  });
});
