// `$(…)` in binding values: found with Tekton's balanced-parenthesis rule (tektoncd/triggers
// pkg/template/jsonpath.go findTektonExpressions) and compiled once at load into text parts and path references.
import type { BindingExpression, BindingRoot, PathRef, PathStep } from '../model.js';
import { canonicalHeaderKey } from './canonical-header.js';
import { JsonPathSyntaxError, parsePath } from './jsonpath.js';

export interface FoundExpression {
  /** Offset of `$(` in the text. */
  readonly start: number;
  /** Offset just past the closing `)`. */
  readonly end: number;
  /** The text between `$(` and `)`. */
  readonly inside: string;
}

export interface ScanResult {
  readonly found: readonly FoundExpression[];
  /** Offsets of `$(` that no `)` closes before the end of the text. */
  readonly unterminated: readonly number[];
}

/**
 * Finds every `$(…)`: after `$(`, the first `)` that is not balanced by a `(` closes it. A `$(` met before
 * that restarts the search there, as Tekton's split on `$(` does (`$($(a))` finds `$(a)`).
 */
export function scanExpressions(text: string): ScanResult {
  const found: FoundExpression[] = [];
  const unterminated: number[] = [];
  let i = text.indexOf('$(');
  while (i >= 0) {
    let depth = 0;
    let j = i + 2;
    let close = -1;
    let restart = -1;
    for (; j < text.length; j++) {
      if (text.startsWith('$(', j)) {
        restart = j;
        break;
      }
      const ch = text[j];
      if (ch === '(') depth++;
      else if (ch === ')') {
        if (depth === 0) {
          close = j;
          break;
        }
        depth--;
      }
    }
    if (close >= 0) {
      found.push({ start: i, end: close + 1, inside: text.slice(i + 2, close) });
      i = text.indexOf('$(', close + 1);
    } else if (restart >= 0) {
      i = restart;
    } else {
      unterminated.push(i);
      break;
    }
  }
  return { found, unterminated };
}

const ROOTS: readonly BindingRoot[] = ['body', 'header', 'extensions', 'context'];
/** `scheduledTime` exists only for schedules (§13); the loader refuses it in a route's bindings. */
const CONTEXT: readonly string[] = ['eventID', 'scheduledTime'];

export class BindingSyntaxError extends Error {
  constructor(
    message: string,
    /** Offset in the binding value where the problem starts. */
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Compiles one `$(…)` reference. Header names after `header.` are canonicalised, as Tekton does. */
export function compileRef(inside: string, offset = 0): PathRef {
  let steps: PathStep[];
  try {
    steps = parsePath(inside);
  } catch (e) {
    if (e instanceof JsonPathSyntaxError) throw new BindingSyntaxError(`$(${inside}): ${e.message}`, offset);
    throw e;
  }
  const [first, ...rest] = steps;
  if (first?.kind !== 'field' || !(ROOTS as readonly string[]).includes(first.name)) {
    throw new BindingSyntaxError(
      `$(${inside}): a binding reads body, header, extensions or context (e.g. $(body.ref), $(header.X-GitHub-Event))`,
      offset,
    );
  }
  const root = first.name as BindingRoot;
  if (root === 'header' && rest[0]?.kind === 'field') {
    rest[0] = { kind: 'field', name: canonicalHeaderKey(rest[0].name) };
  }
  if (
    root === 'context' &&
    !(rest.length === 1 && rest[0]?.kind === 'field' && CONTEXT.includes(rest[0].name))
  ) {
    throw new BindingSyntaxError(
      `$(${inside}): context offers only $(context.eventID) and, in schedules, $(context.scheduledTime)`,
      offset,
    );
  }
  return { source: inside, root, steps: rest };
}

/** Compiles a binding value into literal text and references; throws BindingSyntaxError on a bad `$(`. */
export function compileBindingValue(text: string): BindingExpression {
  const { found, unterminated } = scanExpressions(text);
  if (unterminated.length > 0) {
    throw new BindingSyntaxError(
      `"$(" at character ${unterminated[0]! + 1} has no closing ")"`,
      unterminated[0]!,
    );
  }
  const parts: (string | PathRef)[] = [];
  let last = 0;
  for (const expr of found) {
    if (expr.start > last) parts.push(text.slice(last, expr.start));
    parts.push(compileRef(expr.inside, expr.start));
    last = expr.end;
  }
  if (last < text.length) parts.push(text.slice(last));
  return { text, parts };
}
