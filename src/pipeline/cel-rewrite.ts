// Tree rewrites between parsing and planning. Two kinds:
// - macros cel-go has and @bufbuild/cel's parser does not (`list.sortBy(v, key)`, `math.greatest(a, b, …)`),
//   expanded before the check so that their variables are in scope, exactly as cel-go's parser does;
// - evaluation fixes, applied after the check: the time budget, linear list building in comprehensions,
//   and Tekton's `has()` on JSON nulls. Each names a function cel.ts registers (the `@` names below cannot
//   be written in an expression, so users never see or call them).
import { maxNodeId, type CelNode } from './cel-ast.js';

/** Counts each loop iteration and stops the evaluation when its time budget is spent. */
export const BUDGET_FN = '@budget';
/** A fresh, mutable list for one run of a comprehension. */
export const ACCU_NEW_FN = '@accu_new';
/** Appends to that list in place (the library's `accu + [x]` copies, and nests past 10 000 items). */
export const ACCU_APPEND_FN = '@accu_append';
/** `has(m.f)` that is true for a key whose value is null, as in cel-go (JSON null fields are common). */
export const HAS_FN = '@has';
/** cel-go's `sortBy` expands to this (ext/lists.go). */
export const SORT_BY_KEYS_FN = '@sortByAssociatedKeys';

class Ids {
  private last: number;
  constructor(root: CelNode) {
    this.last = maxNodeId(root);
  }
  next(): number {
    return ++this.last;
  }
}

type Visit = (node: CelNode, ids: Ids) => CelNode;

/** Rebuilds the tree bottom-up, giving every rebuilt node to `visit`. */
function transform(node: CelNode, ids: Ids, visit: Visit): CelNode {
  const recur = (child: CelNode): CelNode => transform(child, ids, visit);
  let rebuilt: CelNode;
  switch (node.kind) {
    case 'const':
    case 'ident':
      rebuilt = node;
      break;
    case 'select':
      rebuilt = { ...node, operand: recur(node.operand) };
      break;
    case 'call':
      rebuilt = {
        ...node,
        target: node.target === undefined ? undefined : recur(node.target),
        args: node.args.map(recur),
      };
      break;
    case 'list':
      rebuilt = { ...node, elements: node.elements.map(recur) };
      break;
    case 'map':
      rebuilt = {
        ...node,
        entries: node.entries.map((e) => ({ ...e, key: recur(e.key), value: recur(e.value) })),
      };
      break;
    case 'object':
      rebuilt = { ...node, fields: node.fields.map((f) => ({ ...f, value: recur(f.value) })) };
      break;
    case 'comprehension':
      rebuilt = {
        ...node,
        iterRange: recur(node.iterRange),
        accuInit: recur(node.accuInit),
        loopCondition: recur(node.loopCondition),
        loopStep: recur(node.loopStep),
        result: recur(node.result),
      };
      break;
  }
  return visit(rebuilt, ids);
}

function ident(ids: Ids, name: string): CelNode {
  return { kind: 'ident', id: ids.next(), name };
}

function call(ids: Ids, fn: string, args: readonly CelNode[], target?: CelNode): CelNode {
  return { kind: 'call', id: ids.next(), fn, target, args };
}

const ACCU = '@result';

/** `range.map(v, step)` as cel-go's parser expands it. */
function mapComprehension(ids: Ids, range: CelNode, iterVar: string, step: CelNode): CelNode {
  return {
    kind: 'comprehension',
    id: ids.next(),
    iterVar,
    iterVar2: '',
    iterRange: range,
    accuVar: ACCU,
    accuInit: { kind: 'list', id: ids.next(), elements: [], optionalIndices: [] },
    loopCondition: { kind: 'const', id: ids.next(), value: { type: 'bool', value: true } },
    loopStep: call(ids, '_+_', [
      ident(ids, ACCU),
      { kind: 'list', id: ids.next(), elements: [step], optionalIndices: [] },
    ]),
    result: ident(ids, ACCU),
  };
}

const expandMacro: Visit = (node, ids) => {
  if (node.kind !== 'call' || node.target === undefined) return node;
  // list.sortBy(v, key) → @sortByAssociatedKeys(list, list.map(v, key))
  const [iterVar, key] = node.args;
  if (node.fn === 'sortBy' && node.args.length === 2 && iterVar?.kind === 'ident' && key !== undefined) {
    return call(ids, SORT_BY_KEYS_FN, [node.target, mapComprehension(ids, node.target, iterVar.name, key)]);
  }
  // math.greatest(a, b, c) → math.greatest([a, b, c]); the one-argument forms are functions already.
  if (
    (node.fn === 'greatest' || node.fn === 'least') &&
    node.target.kind === 'ident' &&
    node.target.name === 'math' &&
    node.args.length > 1
  ) {
    return { ...node, args: [{ kind: 'list', id: ids.next(), elements: node.args, optionalIndices: [] }] };
  }
  return node;
};

/** Expands the macros cel-go has and the library's parser lacks. Run before checking. */
export function expandMacros(root: CelNode): CelNode {
  return transform(root, new Ids(root), expandMacro);
}

/** In `step`, turns `accu + [x]` into an in-place append, leaving comprehensions that shadow `accu` alone. */
function appendInPlace(step: CelNode, accuVar: string, ids: Ids): CelNode {
  const isAccu = (n: CelNode): boolean => n.kind === 'ident' && n.name === accuVar;
  const visit = (node: CelNode): CelNode => {
    switch (node.kind) {
      case 'call': {
        const [left, right] = node.args;
        if (
          node.fn === '_+_' &&
          node.target === undefined &&
          left !== undefined &&
          isAccu(left) &&
          right?.kind === 'list' &&
          right.elements.length === 1 &&
          right.optionalIndices.length === 0
        ) {
          return call(ids, ACCU_APPEND_FN, [left, visit(right.elements[0]!)]);
        }
        return { ...node, target: node.target && visit(node.target), args: node.args.map(visit) };
      }
      case 'comprehension':
        // Its own accumulator has the same name: inside it, `accu` means the inner one.
        return node.accuVar === accuVar ? node : { ...node, loopStep: visit(node.loopStep) };
      case 'select':
        return { ...node, operand: visit(node.operand) };
      case 'list':
        return { ...node, elements: node.elements.map(visit) };
      case 'map':
        return {
          ...node,
          entries: node.entries.map((e) => ({ ...e, key: visit(e.key), value: visit(e.value) })),
        };
      default:
        return node;
    }
  };
  return visit(step);
}

const prepare: Visit = (node, ids) => {
  if (node.kind === 'select' && node.testOnly) {
    const field: CelNode = { kind: 'const', id: ids.next(), value: { type: 'string', value: node.field } };
    return { kind: 'call', id: node.id, fn: HAS_FN, target: undefined, args: [node.operand, field] };
  }
  if (node.kind !== 'comprehension') return node;
  const loopCondition = call(ids, BUDGET_FN, [node.loopCondition]);
  const buildsList =
    node.accuInit.kind === 'list' && node.accuInit.elements.length === 0 && node.accuVar !== node.iterVar;
  if (!buildsList) return { ...node, loopCondition };
  return {
    ...node,
    loopCondition,
    accuInit: call(ids, ACCU_NEW_FN, []),
    loopStep: appendInPlace(node.loopStep, node.accuVar, ids),
  };
};

/** The evaluation fixes described above. Run after checking, on the tree that will be planned. */
export function prepareForEvaluation(root: CelNode): CelNode {
  return transform(root, new Ids(root), prepare);
}
