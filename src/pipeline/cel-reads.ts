// What an expression reads, found in its syntax tree: the `extensions` keys it selects and the secrets its
// `compareSecret` calls name. Load-time checks use it (a filter reading what only an overlay sets; secret
// files `validate --secrets-dir` must find) and so does `import`'s report. Pure: the tree comes from
// cel.ts's celSyntaxTree.
import { childrenOf, type CelNode } from './cel-ast.js';

/** The dotted paths an expression reads under `extensions` (`extensions.a.b` and `extensions['a']` → `a.b`, `a`). */
export function extensionReads(root: CelNode): string[] {
  const out = new Set<string>();
  const visit = (node: CelNode): void => {
    const path = extensionPath(node);
    if (path !== undefined) {
      if (path !== '') out.add(path);
      return;
    }
    for (const child of childrenOf(node)) visit(child);
  };
  visit(root);
  return [...out];
}

/** `extensions.a.b` (selects and constant-string indexes) as `a.b`; `''` for bare `extensions`. */
function extensionPath(node: CelNode): string | undefined {
  if (node.kind === 'ident') return node.name === 'extensions' ? '' : undefined;
  let operand: CelNode | undefined;
  let field: string | undefined;
  if (node.kind === 'select' && !node.testOnly) {
    operand = node.operand;
    field = node.field;
  } else if (node.kind === 'call' && node.fn === '_[_]' && node.target === undefined) {
    const [o, key] = node.args;
    operand = o;
    if (key?.kind === 'const' && key.value.type === 'string') field = key.value.value;
    else if (o && extensionPath(o) !== undefined) return extensionPath(o);
  }
  if (operand === undefined || field === undefined) return undefined;
  const base = extensionPath(operand);
  if (base === undefined) return undefined;
  return base === '' ? field : `${base}.${field}`;
}

/** A `compareSecret(key, secretName)` call: literal names, or `dynamic` when either is computed. */
export type SecretUse =
  | { readonly kind: 'literal'; readonly secretName: string; readonly secretKey: string }
  | { readonly kind: 'dynamic' };

export function compareSecretUses(root: CelNode): SecretUse[] {
  const out: SecretUse[] = [];
  const visit = (node: CelNode): void => {
    if (node.kind === 'call' && node.fn === 'compareSecret' && node.target !== undefined) {
      const [key, name] = node.args;
      out.push(
        key?.kind === 'const' &&
          key.value.type === 'string' &&
          name?.kind === 'const' &&
          name.value.type === 'string'
          ? { kind: 'literal', secretName: name.value.value, secretKey: key.value.value }
          : { kind: 'dynamic' },
      );
    }
    for (const child of childrenOf(node)) visit(child);
  };
  visit(root);
  return out;
}

/** Whether reading `read` under extensions touches what setting `key` writes (one is a prefix of the other). */
export function overlaps(read: string, key: string): boolean {
  return read === key || read.startsWith(`${key}.`) || key.startsWith(`${read}.`);
}
