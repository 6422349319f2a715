// A plain, library-free view of a parsed CEL expression. cel.ts converts the library's protobuf AST to this
// and back, so that checking (cel-check.ts) and rewriting (cel-rewrite.ts) are pure code we can test alone.

export type CelConstant =
  | { readonly type: 'null' }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'uint'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'bytes'; readonly value: Uint8Array };

export interface CelMapEntry {
  readonly id: number;
  readonly key: CelNode;
  readonly value: CelNode;
  readonly optional: boolean;
}

export interface CelFieldEntry {
  readonly id: number;
  readonly field: string;
  readonly value: CelNode;
  readonly optional: boolean;
}

export type CelNode =
  | { readonly kind: 'const'; readonly id: number; readonly value: CelConstant }
  | { readonly kind: 'ident'; readonly id: number; readonly name: string }
  | {
      readonly kind: 'select';
      readonly id: number;
      readonly operand: CelNode;
      readonly field: string;
      /** `has(operand.field)` */
      readonly testOnly: boolean;
    }
  | {
      readonly kind: 'call';
      readonly id: number;
      readonly fn: string;
      /** The receiver of a method call (`target.fn(args)`), absent for a global call. */
      readonly target: CelNode | undefined;
      readonly args: readonly CelNode[];
    }
  | {
      readonly kind: 'list';
      readonly id: number;
      readonly elements: readonly CelNode[];
      readonly optionalIndices: readonly number[];
    }
  | { readonly kind: 'map'; readonly id: number; readonly entries: readonly CelMapEntry[] }
  | {
      readonly kind: 'object';
      readonly id: number;
      readonly typeName: string;
      readonly fields: readonly CelFieldEntry[];
    }
  | {
      readonly kind: 'comprehension';
      readonly id: number;
      readonly iterVar: string;
      readonly iterVar2: string;
      readonly iterRange: CelNode;
      readonly accuVar: string;
      readonly accuInit: CelNode;
      readonly loopCondition: CelNode;
      readonly loopStep: CelNode;
      readonly result: CelNode;
    };

/** The largest node id in the tree, so rewrites can number new nodes without clashes. */
export function maxNodeId(node: CelNode): number {
  let max = node.id;
  for (const child of childrenOf(node)) max = Math.max(max, maxNodeId(child));
  return max;
}

export function childrenOf(node: CelNode): readonly CelNode[] {
  switch (node.kind) {
    case 'const':
    case 'ident':
      return [];
    case 'select':
      return [node.operand];
    case 'call':
      return node.target === undefined ? node.args : [node.target, ...node.args];
    case 'list':
      return node.elements;
    case 'map':
      return node.entries.flatMap((e) => [e.key, e.value]);
    case 'object':
      return node.fields.map((f) => f.value);
    case 'comprehension':
      return [node.iterRange, node.accuInit, node.loopCondition, node.loopStep, node.result];
  }
}

/** `a.b.c` as a dotted name when the node is only identifiers and field selections, else undefined. */
export function qualifiedName(node: CelNode): string | undefined {
  if (node.kind === 'ident') return node.name;
  if (node.kind === 'select' && !node.testOnly) {
    const operand = qualifiedName(node.operand);
    return operand === undefined ? undefined : `${operand}.${node.field}`;
  }
  return undefined;
}
