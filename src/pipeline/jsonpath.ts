// The relaxed Kubernetes JSONPath that Tekton bindings use inside `$(…)` (tektoncd/triggers
// pkg/template/jsonpath.go on top of k8s.io/client-go/util/jsonpath): `body.a`, `.body.a` and `{.body.a}`
// are the same path; `[n]`, `[a:b:c]`, `[n,m]`, `[*]`, `..name` and `[?(@.a == 'b')]` select; `\.` escapes a
// dot inside a key. Parsed once at load into PathStep data; evaluated per request without re-parsing.
import type { FilterOperand, JsonPrimitive, JsonValue, PathFilter, PathStep } from '../model.js';

export class JsonPathSyntaxError extends Error {}

// tektoncd/triggers relaxedJSONPathExpression: `{.a.b}`, `{a.b}`, `.a.b` or `a.b`, with no braces inside.
const RELAXED = /^\{\.?([^{}]+)\}$|^\.?([^{}]+)$/;

/** Tekton's conversion of the inside of `$(…)` to canonical k8s JSONPath (`a.b` → `{.a.b}`). */
export function relaxedToJsonPath(inside: string): string {
  if (inside === '') return '';
  const m = RELAXED.exec(inside);
  if (!m) {
    throw new JsonPathSyntaxError(
      `unexpected path ${JSON.stringify(inside)}: expected 'a.b', '.a.b', '{a.b}' or '{.a.b}'`,
    );
  }
  return `{.${m[1] ?? m[2]}}`;
}

/** Parses the inside of `$(…)` into steps. The first step is the root (`body`, `header`…). */
export function parsePath(inside: string): PathStep[] {
  const canonical = relaxedToJsonPath(inside);
  if (canonical === '') throw new JsonPathSyntaxError('empty expression');
  return new Parser(canonical.slice(1, -1)).parseSteps();
}

const FIELD_END = new Set([
  '.',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  ' ',
  '\t',
  '\n',
  '\r',
  ',',
  '=',
  '!',
  '<',
  '>',
  '&',
  '|',
]);

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseSteps(stopAt?: (ch: string) => boolean): PathStep[] {
    const steps: PathStep[] = [];
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (stopAt?.(ch)) break;
      if (ch === '.') {
        if (this.text[this.pos + 1] === '.') {
          this.pos += 2;
          const name = this.readField();
          steps.push({ kind: 'recursive', name: name === '*' || name === '' ? undefined : name });
          continue;
        }
        this.pos++;
        const name = this.readField();
        steps.push(name === '*' ? { kind: 'wildcard' } : { kind: 'field', name });
      } else if (ch === '[') {
        steps.push(this.parseBracket());
      } else {
        throw this.error(`unexpected ${JSON.stringify(ch)}`);
      }
    }
    return steps;
  }

  private readField(): string {
    let name = '';
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (ch === '\\' && this.pos + 1 < this.text.length) {
        name += this.text[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if (FIELD_END.has(ch)) break;
      name += ch;
      this.pos++;
    }
    return name;
  }

  private parseBracket(): PathStep {
    this.pos++; // [
    const close = this.findClosingBracket();
    const inner = this.text.slice(this.pos, close).trim();
    this.pos = close + 1;
    if (inner.startsWith('?')) return { kind: 'filter', filter: parseFilter(inner.slice(1).trim()) };
    if (inner === '*') return { kind: 'wildcard' };
    if (/^'.*'$|^".*"$/.test(inner)) return { kind: 'field', name: inner.slice(1, -1) };
    if (inner.includes(':')) {
      const parts = inner.split(':');
      if (parts.length > 3) throw this.error(`invalid slice [${inner}]`);
      const [start, end, step] = parts.map((p) => parseIntOrEmpty(p.trim(), inner));
      if (step === 0) throw this.error(`slice step cannot be 0 in [${inner}]`);
      return { kind: 'slice', start, end, step };
    }
    if (inner.includes(',')) {
      const indexes = inner.split(',').map((p) => parseIntOrEmpty(p.trim(), inner));
      if (indexes.some((i) => i === undefined)) throw this.error(`invalid index list [${inner}]`);
      return { kind: 'union', indexes: indexes as number[] };
    }
    const index = parseIntOrEmpty(inner, inner);
    if (index === undefined) throw this.error('empty brackets []');
    return { kind: 'index', index };
  }

  private findClosingBracket(): number {
    let depth = 0;
    let quote: string | undefined;
    for (let i = this.pos; i < this.text.length; i++) {
      const ch = this.text[i]!;
      if (quote) {
        if (ch === quote) quote = undefined;
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '[' || ch === '(') depth++;
      else if (ch === ')') depth--;
      else if (ch === ']') {
        if (depth === 0) return i;
        depth--;
      }
    }
    throw this.error('unclosed [');
  }

  private error(message: string): JsonPathSyntaxError {
    return new JsonPathSyntaxError(`${message} at position ${this.pos + 1} of ${JSON.stringify(this.text)}`);
  }
}

function parseIntOrEmpty(text: string, context: string): number | undefined {
  if (text === '') return undefined;
  if (!/^-?\d+$/.test(text))
    throw new JsonPathSyntaxError(`invalid array index ${JSON.stringify(text)} in [${context}]`);
  return Number(text);
}

// ------------------------------------------------------------------------------------------------
// Filters: `?(@.a == 'b')`, `?(@.a)`, combined with && and ||.

function parseFilter(text: string): PathFilter {
  if (!text.startsWith('(') || !text.endsWith(')')) {
    throw new JsonPathSyntaxError(`a filter must look like [?(@.a == 'b')], got [?${text}]`);
  }
  const tokens = tokenizeFilter(text.slice(1, -1));
  let i = 0;
  const peek = () => tokens[i];
  const operand = (): FilterOperand => {
    const t = tokens[i++];
    if (t === undefined) throw new JsonPathSyntaxError(`incomplete filter (${text})`);
    if (t.kind === 'path') return { kind: 'path', steps: new Parser(t.text).parseSteps() };
    if (t.kind === 'literal') return { kind: 'literal', value: t.value };
    throw new JsonPathSyntaxError(`unexpected ${JSON.stringify(t.text)} in filter (${text})`);
  };
  const comparison = (): PathFilter => {
    const left = operand();
    const t = peek();
    if (t?.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      i++;
      return { kind: 'compare', op: t.text as '==', left, right: operand() };
    }
    return { kind: 'exists', operand: left };
  };
  const conjunction = (): PathFilter => {
    let left = comparison();
    while (peek()?.text === '&&') {
      i++;
      left = { kind: 'and', left, right: comparison() };
    }
    return left;
  };
  let filter = conjunction();
  while (peek()?.text === '||') {
    i++;
    filter = { kind: 'or', left: filter, right: conjunction() };
  }
  if (i !== tokens.length)
    throw new JsonPathSyntaxError(`unexpected ${JSON.stringify(tokens[i]!.text)} in filter (${text})`);
  return filter;
}

type FilterToken =
  | { kind: 'path'; text: string }
  | { kind: 'literal'; text: string; value: JsonPrimitive }
  | { kind: 'op'; text: string };

function tokenizeFilter(text: string): FilterToken[] {
  const tokens: FilterToken[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '@') {
      let j = i + 1;
      let depth = 0;
      while (j < text.length) {
        const c = text[j]!;
        if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (depth === 0 && /[\s=!<>&|]/.test(c)) break;
        j++;
      }
      tokens.push({ kind: 'path', text: text.slice(i + 1, j) });
      i = j;
    } else if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) throw new JsonPathSyntaxError(`unterminated string in filter (${text})`);
      tokens.push({ kind: 'literal', text: text.slice(i, end + 1), value: text.slice(i + 1, end) });
      i = end + 1;
    } else if (/[=!<>&|]/.test(ch)) {
      const two = text.slice(i, i + 2);
      const op = ['==', '!=', '<=', '>=', '&&', '||'].includes(two) ? two : ch;
      if (!['==', '!=', '<', '<=', '>', '>=', '&&', '||'].includes(op)) {
        throw new JsonPathSyntaxError(`unknown operator ${JSON.stringify(op)} in filter (${text})`);
      }
      tokens.push({ kind: 'op', text: op });
      i += op.length;
    } else {
      const m = /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!m) throw new JsonPathSyntaxError(`unexpected ${JSON.stringify(ch)} in filter (${text})`);
      tokens.push({ kind: 'literal', text: m[0], value: JSON.parse(m[0]) as JsonPrimitive });
      i += m[0].length;
    }
  }
  return tokens;
}

// ------------------------------------------------------------------------------------------------
// Evaluation

/** The result of following a path: every selected value, plus whether a slice/wildcard/filter was involved. */
export interface PathResult {
  readonly values: JsonValue[];
  /** Results of a slice, wildcard, union or filter are printed as a JSON array unless there is exactly one. */
  readonly multi: boolean;
}

export class PathNotFoundError extends Error {}

export function evaluatePath(root: JsonValue, steps: readonly PathStep[]): PathResult {
  let current: JsonValue[] = [root];
  let multi = false;
  for (const step of steps) {
    const next: JsonValue[] = [];
    for (const value of current) applyStep(value, step, next);
    if (step.kind !== 'field' && step.kind !== 'index') multi = true;
    if (next.length === 0 && (step.kind === 'field' || step.kind === 'index')) {
      throw new PathNotFoundError(
        step.kind === 'field' ? `${step.name} is not found` : `array index ${step.index} is out of bounds`,
      );
    }
    current = next;
  }
  return { values: current, multi };
}

function applyStep(value: JsonValue, step: PathStep, out: JsonValue[]): void {
  switch (step.kind) {
    case 'field':
      if (isObject(value) && Object.hasOwn(value, step.name)) out.push(value[step.name]!);
      return;
    // Loops, not out.push(...list): spreading a 200k-element array overflows the stack (issue #13).
    case 'wildcard':
      if (Array.isArray(value)) for (const item of value) out.push(item);
      else if (isObject(value)) for (const k of Object.keys(value).sort()) out.push(value[k]!);
      return;
    case 'index': {
      if (!Array.isArray(value)) return;
      const i = step.index < 0 ? value.length + step.index : step.index;
      if (i >= 0 && i < value.length) out.push(value[i]!);
      return;
    }
    case 'union':
      if (!Array.isArray(value)) return;
      for (const index of step.indexes) {
        const i = index < 0 ? value.length + index : index;
        if (i >= 0 && i < value.length) out.push(value[i]!);
      }
      return;
    case 'slice':
      if (Array.isArray(value))
        for (const item of slice(value, step.start, step.end, step.step)) out.push(item);
      return;
    case 'filter': {
      const items = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : [];
      for (const item of items) if (testFilter(item, step.filter)) out.push(item);
      return;
    }
    case 'recursive':
      collectRecursive(value, step.name, out);
      return;
  }
}

function slice(list: JsonValue[], start?: number, end?: number, step = 1): JsonValue[] {
  const len = list.length;
  const clamp = (n: number) => Math.min(Math.max(n < 0 ? len + n : n, 0), len);
  const out: JsonValue[] = [];
  if (step > 0) {
    for (let i = clamp(start ?? 0); i < clamp(end ?? len); i += step) out.push(list[i]!);
  } else {
    const from = start === undefined ? len - 1 : Math.min(clamp(start), len - 1);
    const to = end === undefined ? -1 : clamp(end);
    for (let i = from; i > to; i += step) out.push(list[i]!);
  }
  return out;
}

function collectRecursive(value: JsonValue, name: string | undefined, out: JsonValue[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (name === undefined) out.push(item);
      collectRecursive(item, name, out);
    }
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      const child = value[key]!;
      if (name === undefined || key === name) out.push(child);
      collectRecursive(child, name, out);
    }
  }
}

function testFilter(item: JsonValue, filter: PathFilter): boolean {
  switch (filter.kind) {
    case 'and':
      return testFilter(item, filter.left) && testFilter(item, filter.right);
    case 'or':
      return testFilter(item, filter.left) || testFilter(item, filter.right);
    case 'exists':
      return operandValues(item, filter.operand).length > 0;
    case 'compare': {
      const left = operandValues(item, filter.left);
      const right = operandValues(item, filter.right);
      return left.some((l) => right.some((r) => compare(l, r, filter.op)));
    }
  }
}

function operandValues(item: JsonValue, operand: FilterOperand): JsonValue[] {
  if (operand.kind === 'literal') return [operand.value];
  try {
    return evaluatePath(item, operand.steps).values;
  } catch (e) {
    if (e instanceof PathNotFoundError) return [];
    throw e;
  }
}

function compare(a: JsonValue, b: JsonValue, op: string): boolean {
  if (op === '==') return a === b;
  if (op === '!=') return a !== b;
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false;
  const x = a as number | string;
  const y = b as number | string;
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
