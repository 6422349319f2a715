// The load-time check of a CEL expression: what cel-go's type checker would reject in Tekton's environment
// (undeclared variables and functions, overloads that cannot match), plus our static cost limits.
//
// @bufbuild/cel 0.6.1 does not export its checker, and without one an unknown function or a misspelt
// variable would only fail when a webhook arrives. Types here are coarse on purpose: `body` and `header`
// are `map(string, dyn)` in Tekton, so nearly every interesting value is `dyn` and only literal-typed
// mistakes (`'a' + 1`, `size(1)`) can be caught before run time, as in cel-go. Where we are unsure we
// accept: evaluation still reports the error, naming the expression.
import { qualifiedName, type CelNode } from './cel-ast.js';

export type CelTypeName =
  | 'int'
  | 'uint'
  | 'double'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'null_type'
  | 'list'
  | 'map'
  | 'type'
  | 'timestamp'
  | 'duration'
  | 'object'
  | 'dyn';

export interface CelSignature {
  readonly fn: string;
  /** Called as `target.fn(params)` rather than `fn(params)`. */
  readonly member: boolean;
  /** For a member, the receiver's type comes first. */
  readonly params: readonly CelTypeName[];
  readonly result: CelTypeName;
}

export interface CheckEnv {
  readonly variables: ReadonlyMap<string, CelTypeName>;
  readonly functions: readonly CelSignature[];
}

export interface CelLimits {
  /** How deep comprehensions (`exists`, `map`, …) may nest inside each other's loop bodies. */
  readonly maxComprehensionNesting: number;
  readonly maxNodes: number;
}

/** Identifiers that name types (`type(x) == string`). */
const TYPE_NAMES = new Set([
  'int',
  'uint',
  'double',
  'bool',
  'string',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
  'dyn',
]);

/** Functions the evaluator implements itself rather than through its function table. */
const BUILTIN_OPERATORS = new Set([
  '_&&_',
  '_||_',
  '_?_:_',
  '_[_]',
  '@not_strictly_false',
  'not_strictly_false',
]);

function compatible(actual: CelTypeName, expected: CelTypeName): boolean {
  return actual === 'dyn' || expected === 'dyn' || actual === expected;
}

function describeCall(fn: string, member: boolean, types: readonly CelTypeName[]): string {
  if (!member) return `found no matching overload for '${fn}' applied to '(${types.join(', ')})'`;
  return `found no matching overload for '${fn}' applied to '${types[0]}.(${types.slice(1).join(', ')})'`;
}

class Checker {
  readonly problems: string[] = [];
  private readonly byName = new Map<string, CelSignature[]>();
  private nodes = 0;
  private deepest = 0;

  constructor(
    private readonly env: CheckEnv,
    private readonly limits: CelLimits,
  ) {
    for (const sig of env.functions) {
      const list = this.byName.get(sig.fn) ?? [];
      list.push(sig);
      this.byName.set(sig.fn, list);
    }
  }

  finish(): void {
    if (this.nodes > this.limits.maxNodes) {
      this.report(
        `expression is too large (${this.nodes} nodes, at most ${this.limits.maxNodes}): split it into several filters or overlays`,
      );
    }
    if (this.deepest > this.limits.maxComprehensionNesting) {
      this.report(
        `comprehensions (exists, all, map, filter, …) nest ${this.deepest} deep, at most ${this.limits.maxComprehensionNesting} are allowed, so one webhook cannot keep the gateway busy`,
      );
    }
  }

  private report(problem: string): void {
    if (!this.problems.includes(problem)) this.problems.push(problem);
  }

  typeOf(node: CelNode, scope: ReadonlyMap<string, CelTypeName>, nesting: number): CelTypeName {
    this.nodes++;
    switch (node.kind) {
      case 'const':
        return node.value.type === 'null' ? 'null_type' : node.value.type;
      case 'ident':
        return this.identType(node.name, scope);
      case 'select':
        return this.selectType(node, scope, nesting);
      case 'call':
        return this.callType(node, scope, nesting);
      case 'list':
        for (const element of node.elements) this.typeOf(element, scope, nesting);
        return 'list';
      case 'map':
        for (const entry of node.entries) {
          this.typeOf(entry.key, scope, nesting);
          this.typeOf(entry.value, scope, nesting);
        }
        return 'map';
      case 'object':
        for (const field of node.fields) this.typeOf(field.value, scope, nesting);
        return 'dyn';
      case 'comprehension':
        return this.comprehensionType(node, scope, nesting);
    }
  }

  private identType(name: string, scope: ReadonlyMap<string, CelTypeName>): CelTypeName {
    const local = scope.get(name) ?? this.env.variables.get(name);
    if (local !== undefined) return local;
    if (TYPE_NAMES.has(name)) return 'type';
    this.report(`undeclared reference to '${name}'`);
    return 'dyn';
  }

  private selectType(
    node: Extract<CelNode, { kind: 'select' }>,
    scope: ReadonlyMap<string, CelTypeName>,
    nesting: number,
  ): CelTypeName {
    const name = qualifiedName(node);
    if (name !== undefined && name.startsWith('google.protobuf.') && !scope.has('google')) return 'type';
    const operand = this.typeOf(node.operand, scope, nesting);
    if (operand !== 'dyn' && operand !== 'map' && operand !== 'object') {
      this.report(`type '${operand}' does not support field selection (.${node.field})`);
    }
    return node.testOnly ? 'bool' : 'dyn';
  }

  private isVariable(name: string, scope: ReadonlyMap<string, CelTypeName>): boolean {
    return scope.has(name) || this.env.variables.has(name);
  }

  private callType(
    node: Extract<CelNode, { kind: 'call' }>,
    scope: ReadonlyMap<string, CelTypeName>,
    nesting: number,
  ): CelTypeName {
    // `math.greatest(x)`, `base64.decode(s)`: a namespaced global function, unless `math` is a variable.
    if (node.target !== undefined) {
      const prefix = qualifiedName(node.target);
      const root = prefix?.split('.')[0];
      if (prefix !== undefined && root !== undefined && !this.isVariable(root, scope)) {
        const fn = `${prefix}.${node.fn}`;
        const args = node.args.map((a) => this.typeOf(a, scope, nesting));
        if (!this.byName.has(fn)) {
          this.report(`undeclared reference to '${fn}'`);
          return 'dyn';
        }
        return this.resolve(fn, false, args);
      }
    }
    const target = node.target === undefined ? undefined : this.typeOf(node.target, scope, nesting);
    const args = node.args.map((a) => this.typeOf(a, scope, nesting));
    switch (node.fn) {
      case '_&&_':
      case '_||_':
        for (const t of args) if (!compatible(t, 'bool')) this.report(describeCall(node.fn, false, args));
        return 'bool';
      case '_?_:_': {
        const [cond, whenTrue, whenFalse] = args;
        if (cond !== undefined && !compatible(cond, 'bool')) this.report(describeCall(node.fn, false, args));
        return whenTrue === whenFalse && whenTrue !== undefined ? whenTrue : 'dyn';
      }
      case '_[_]': {
        const [operand] = args;
        if (operand !== undefined && !['dyn', 'list', 'map'].includes(operand)) {
          this.report(describeCall(node.fn, false, args));
        }
        return 'dyn';
      }
      case '@not_strictly_false':
      case 'not_strictly_false':
        return 'bool';
    }
    if (node.fn === 'compareSecret' && target !== undefined && args.length === 3) {
      this.report(
        'compareSecret takes (key, secretName): the gateway reads secrets from its secrets directory, so the third (namespace) argument is not supported',
      );
      return 'bool';
    }
    const member = target !== undefined;
    return this.resolve(node.fn, member, member ? [target, ...args] : args);
  }

  private resolve(fn: string, member: boolean, types: readonly CelTypeName[]): CelTypeName {
    const candidates = this.byName.get(fn);
    if (candidates === undefined) {
      if (!BUILTIN_OPERATORS.has(fn)) this.report(`undeclared reference to '${fn}'`);
      return 'dyn';
    }
    const matching = candidates.filter(
      (sig) =>
        sig.member === member &&
        sig.params.length === types.length &&
        sig.params.every((p, i) => compatible(types[i]!, p)),
    );
    if (matching.length === 0) {
      this.report(describeCall(fn, member, types));
      return 'dyn';
    }
    const results = new Set(matching.map((sig) => sig.result));
    return results.size === 1 ? matching[0]!.result : 'dyn';
  }

  private comprehensionType(
    node: Extract<CelNode, { kind: 'comprehension' }>,
    scope: ReadonlyMap<string, CelTypeName>,
    nesting: number,
  ): CelTypeName {
    const range = this.typeOf(node.iterRange, scope, nesting);
    if (!['dyn', 'list', 'map'].includes(range)) {
      this.report(
        `expression of type '${range}' cannot be the range of a comprehension (must be list, map, or dyn)`,
      );
    }
    const accu = this.typeOf(node.accuInit, scope, nesting);
    const inner = new Map(scope);
    inner.set(node.accuVar, accu);
    inner.set(node.iterVar, 'dyn');
    if (node.iterVar2 !== '') inner.set(node.iterVar2, 'dyn');
    const depth = nesting + 1;
    this.deepest = Math.max(this.deepest, depth);
    this.typeOf(node.loopCondition, inner, depth);
    this.typeOf(node.loopStep, inner, depth);
    const resultScope = new Map(scope);
    resultScope.set(node.accuVar, accu);
    return this.typeOf(node.result, resultScope, nesting);
  }
}

/**
 * The problems cel-go's checker (or our cost limits) would report for this expression; empty when it may run.
 * Messages follow cel-go's wording where there is one (`undeclared reference to 'x'`).
 */
export function checkCel(root: CelNode, env: CheckEnv, limits: CelLimits): string[] {
  const checker = new Checker(env, limits);
  checker.typeOf(root, new Map(), 0);
  checker.finish();
  return checker.problems;
}
