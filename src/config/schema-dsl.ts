// A small schema language for routes.yaml: one description gives both the validator (run on the YAML nodes,
// so every problem knows its line and column, or on plain values for a quick yes) and the published JSON
// Schema (routes.schema.json). A JSON Schema validator such as ajv would give instance paths but unclear
// messages for unions and no positions; the `yaml` Document API gives positions, so we walk its nodes.
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair } from '../yaml.js';

interface Described {
  readonly description?: string;
}

export interface StringSchema extends Described {
  readonly type: 'string';
  readonly enum?: readonly string[];
  readonly pattern?: { readonly regex: RegExp; readonly message: string };
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Completions offered by editors (JSON Schema `examples`); not a restriction. */
  readonly examples?: readonly string[];
}
export interface IntegerSchema extends Described {
  readonly type: 'integer';
  readonly minimum?: number;
  readonly maximum?: number;
  /** v2: `false` is accepted too (turns an inherited setting off, e.g. `keep: false`). */
  readonly allowFalse?: boolean;
}
/** v2: true/false; `only` restricts it to one value (e.g. `status: false`). */
export interface BooleanSchema extends Described {
  readonly type: 'boolean';
  readonly only?: boolean;
}
export interface ObjectSchema extends Described {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
}
/** A mapping with user-chosen keys (reusable bindings and templates). */
export interface MapSchema extends Described {
  readonly type: 'map';
  readonly keys: StringSchema;
  readonly values: Schema;
}
export interface ArraySchema extends Described {
  readonly type: 'array';
  readonly items: Schema;
  readonly minItems?: number;
}
/** One of several shapes, told apart by the YAML node kind (a string, a mapping or a list). */
export interface EitherSchema extends Described {
  readonly type: 'either';
  readonly scalar?: Schema;
  readonly map?: Schema;
  readonly seq?: Schema;
  /** How the allowed shapes read in an error, e.g. "a template name or an inline template". */
  readonly expected: string;
}
/** Any mapping: Kubernetes objects in resourcetemplates, checked by the API server. */
export interface JsonObjectSchema extends Described {
  readonly type: 'json-object';
}

export type Schema =
  | StringSchema
  | IntegerSchema
  | ObjectSchema
  | MapSchema
  | ArraySchema
  | EitherSchema
  | JsonObjectSchema
  | BooleanSchema;

export type PathSegment = string | number;

export interface SchemaProblem<N = unknown> {
  readonly path: readonly PathSegment[];
  readonly message: string;
  /** The node the problem points at (the key for an unknown key, the value otherwise, the mapping for a missing key). */
  readonly node: N;
}

type Kind = 'scalar' | 'map' | 'seq' | 'null';

/**
 * How the walker sees a document: the `yaml` package's nodes (with positions, for reporting) or the plain
 * values js-yaml returns (fast, for the common case of a valid file). One walker over both keeps the two
 * from disagreeing about what is valid.
 */
interface NodeView<N> {
  resolve(node: N): N;
  kind(node: N): Kind;
  /** A scalar's value. */
  value(node: N): unknown;
  items(node: N): readonly N[];
  /** A mapping's entries; scalar keys as strings (as in a JS object), undefined for a non-scalar key. */
  entries(node: N): readonly { readonly key: string | undefined; readonly keyNode: N; readonly value: N }[];
}

function yamlView(doc: Document): NodeView<Node> {
  return {
    resolve: (node) => (isAlias(node) ? (node.resolve(doc) as Node) : node),
    kind: (node) =>
      isMap(node) ? 'map' : isSeq(node) ? 'seq' : isScalar(node) && node.value === null ? 'null' : 'scalar',
    value: (node) => (isScalar(node) ? node.value : undefined),
    items: (node) => (isSeq(node) ? (node.items as Node[]) : []),
    entries: (node) =>
      isMap(node)
        ? node.items.filter(isPair).map((pair: Pair) => ({
            key: isScalar(pair.key) ? String(pair.key.value) : undefined,
            keyNode: pair.key as Node,
            value: pair.value as Node,
          }))
        : [],
  };
}

const plainView: NodeView<unknown> = {
  resolve: (node) => node,
  kind: (node) =>
    node === null || node === undefined
      ? 'null'
      : Array.isArray(node)
        ? 'seq'
        : typeof node === 'object'
          ? 'map'
          : 'scalar',
  value: (node) => node,
  items: (node) => (Array.isArray(node) ? node : []),
  entries: (node) =>
    Object.entries(node as Record<string, unknown>).map(([key, value]) => ({ key, keyNode: key, value })),
};

/** Checks a YAML node against a schema and returns every problem, in document order, with its node. */
export function validateNode(doc: Document, node: unknown, schema: Schema): SchemaProblem<Node>[] {
  const problems: SchemaProblem<Node>[] = [];
  walk(yamlView(doc), node as Node, schema, [], problems);
  return problems;
}

/** The same checks on plain parsed values (no positions): used to accept a valid file quickly. */
export function validateValue(value: unknown, schema: Schema): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  walk(plainView, value, schema, [], problems);
  return problems;
}

const NOUN = { scalar: 'a value', map: 'a mapping', seq: 'a list', null: 'empty' } as const;

/** What is wrong with a string against a string schema, or undefined. */
function stringProblem(value: string, schema: StringSchema): string | undefined {
  if (schema.enum && !schema.enum.includes(value)) {
    return `must be one of ${schema.enum.join(', ')} (found ${JSON.stringify(value)})`;
  }
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    return schema.minLength === 1 ? 'must not be empty' : `must have at least ${schema.minLength} characters`;
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) {
    return `must be at most ${schema.maxLength} characters`;
  }
  if (schema.pattern && !schema.pattern.regex.test(value)) return schema.pattern.message;
  return undefined;
}

function walk<N>(
  view: NodeView<N>,
  raw: N,
  schema: Schema,
  path: PathSegment[],
  out: SchemaProblem<N>[],
): void {
  const node = view.resolve(raw);
  const kind = view.kind(node);
  const fail = (message: string) => out.push({ path, message, node });
  switch (schema.type) {
    case 'string': {
      const value = kind === 'scalar' ? view.value(node) : undefined;
      if (typeof value !== 'string') {
        const found =
          kind === 'scalar' ? ` (found ${JSON.stringify(value)}; quote it)` : `, not ${NOUN[kind]}`;
        fail(`must be a string${found}`);
        return;
      }
      const problem = stringProblem(value, schema);
      if (problem !== undefined) fail(problem);
      return;
    }
    case 'boolean': {
      const value = kind === 'scalar' ? view.value(node) : undefined;
      if (typeof value !== 'boolean' || (schema.only !== undefined && value !== schema.only)) {
        const found =
          kind === 'scalar' ? ` (found ${JSON.stringify(view.value(node))})` : `, not ${NOUN[kind]}`;
        fail(
          schema.only === undefined
            ? `must be true or false${found}`
            : `must be ${String(schema.only)}${found}`,
        );
      }
      return;
    }
    case 'integer': {
      const value = kind === 'scalar' ? view.value(node) : undefined;
      if (schema.allowFalse && value === false) return;
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        fail(`must be an integer${kind === 'scalar' ? '' : `, not ${NOUN[kind]}`}`);
      } else if (schema.minimum !== undefined && value < schema.minimum) {
        fail(`must be at least ${schema.minimum}`);
      } else if (schema.maximum !== undefined && value > schema.maximum) {
        fail(`must be at most ${schema.maximum}`);
      }
      return;
    }
    case 'json-object':
      if (kind !== 'map') fail(`must be a mapping (a Kubernetes object), not ${NOUN[kind]}`);
      return;
    case 'array': {
      if (kind !== 'seq') {
        fail(`must be a list, not ${NOUN[kind]}`);
        return;
      }
      const items = view.items(node);
      if (schema.minItems !== undefined && items.length < schema.minItems) {
        fail(
          schema.minItems === 1
            ? 'must list at least one entry'
            : `must list at least ${schema.minItems} entries`,
        );
      }
      items.forEach((item, i) => walk(view, item, schema.items, [...path, i], out));
      return;
    }
    case 'either': {
      const branch =
        kind === 'map'
          ? schema.map
          : kind === 'seq'
            ? schema.seq
            : kind === 'scalar'
              ? schema.scalar
              : undefined;
      if (!branch) {
        fail(`must be ${schema.expected}`);
        return;
      }
      walk(view, node, branch, path, out);
      return;
    }
    case 'map':
    case 'object': {
      if (kind !== 'map') {
        fail(`must be a mapping, not ${NOUN[kind]}`);
        return;
      }
      const seen = new Set<string>();
      for (const { key, keyNode, value } of view.entries(node)) {
        if (key === undefined) {
          out.push({ path, message: 'keys must be strings', node: keyNode });
          continue;
        }
        seen.add(key);
        const child = [...path, key];
        if (schema.type === 'map') {
          const problem = stringProblem(key, schema.keys);
          if (problem !== undefined) out.push({ path: child, message: problem, node: keyNode });
          walk(view, value, schema.values, child, out);
          continue;
        }
        const propertySchema = schema.properties[key];
        if (propertySchema === undefined) {
          const suggestion = closest(key, Object.keys(schema.properties));
          out.push({
            path: child,
            message: `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; allowed: ${Object.keys(schema.properties).join(', ')}`,
            node: keyNode,
          });
          continue;
        }
        walk(view, value, propertySchema, child, out);
      }
      if (schema.type === 'object') {
        for (const key of schema.required ?? []) {
          if (!seen.has(key)) out.push({ path: [...path, key], message: 'is required', node });
        }
      }
      return;
    }
  }
}

/** The allowed key nearest to a typo, when it is near enough to be a likely intent. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

// ------------------------------------------------------------------------------------------------
// JSON Schema (draft-07, which editors and Helm-era tooling all understand)

export type JsonSchema = { [key: string]: unknown };

export function toJsonSchema(schema: Schema): JsonSchema {
  const description = schema.description ? { description: schema.description } : {};
  switch (schema.type) {
    case 'string':
      return {
        type: 'string',
        ...description,
        ...(schema.enum ? { enum: [...schema.enum] } : {}),
        ...(schema.pattern ? { pattern: schema.pattern.regex.source } : {}),
        ...(schema.minLength !== undefined ? { minLength: schema.minLength } : {}),
        ...(schema.maxLength !== undefined ? { maxLength: schema.maxLength } : {}),
        ...(schema.examples ? { examples: [...schema.examples] } : {}),
      };
    case 'integer': {
      const integer = {
        type: 'integer',
        ...description,
        ...(schema.minimum !== undefined ? { minimum: schema.minimum } : {}),
        ...(schema.maximum !== undefined ? { maximum: schema.maximum } : {}),
      };
      return schema.allowFalse ? { ...description, oneOf: [integer, { const: false }] } : integer;
    }
    case 'boolean':
      return schema.only === undefined
        ? { type: 'boolean', ...description }
        : { const: schema.only, ...description };
    case 'json-object':
      return { type: 'object', ...description };
    case 'array':
      return {
        type: 'array',
        ...description,
        items: toJsonSchema(schema.items),
        ...(schema.minItems !== undefined ? { minItems: schema.minItems } : {}),
      };
    case 'map':
      return {
        type: 'object',
        ...description,
        propertyNames: toJsonSchema(schema.keys),
        additionalProperties: toJsonSchema(schema.values),
      };
    case 'object':
      return {
        type: 'object',
        ...description,
        properties: Object.fromEntries(
          Object.entries(schema.properties).map(([k, v]) => [k, toJsonSchema(v)]),
        ),
        ...(schema.required?.length ? { required: [...schema.required] } : {}),
        additionalProperties: false,
      };
    case 'either':
      return {
        ...description,
        oneOf: [schema.scalar, schema.map, schema.seq].filter((s) => s !== undefined).map(toJsonSchema),
      };
  }
}
