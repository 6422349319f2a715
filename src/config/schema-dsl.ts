// A small schema language for routes.yaml: one description gives both the validator (run on the YAML nodes,
// so every problem knows its line and column) and the published JSON Schema (routes.schema.json).
// A JSON Schema validator such as ajv would give instance paths but unclear messages for unions and no
// positions; the `yaml` Document API gives positions, so we walk its nodes ourselves.
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
}
export interface IntegerSchema extends Described {
  readonly type: 'integer';
  readonly minimum?: number;
  readonly maximum?: number;
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
  StringSchema | IntegerSchema | ObjectSchema | MapSchema | ArraySchema | EitherSchema | JsonObjectSchema;

export type PathSegment = string | number;

export interface SchemaProblem {
  readonly path: readonly PathSegment[];
  readonly message: string;
  /** The node the problem points at (the key for an unknown key, the value otherwise, the mapping for a missing key). */
  readonly node: Node | Pair['key'];
}

/** Checks a YAML node against a schema and returns every problem, in document order. */
export function validateNode(
  doc: Document,
  node: unknown,
  schema: Schema,
  path: PathSegment[] = [],
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  walk(doc, node, schema, path, problems);
  return problems;
}

function kindOf(node: unknown): 'scalar' | 'map' | 'seq' | 'null' {
  if (isMap(node)) return 'map';
  if (isSeq(node)) return 'seq';
  if (isScalar(node) && node.value === null) return 'null';
  return 'scalar';
}

const NOUN = { scalar: 'a value', map: 'a mapping', seq: 'a list', null: 'empty' } as const;

function walk(doc: Document, raw: unknown, schema: Schema, path: PathSegment[], out: SchemaProblem[]): void {
  const node = (isAlias(raw) ? raw.resolve(doc) : raw) as Node;
  const kind = kindOf(node);
  const fail = (message: string) => out.push({ path, message, node });
  switch (schema.type) {
    case 'string': {
      if (!isScalar(node) || typeof node.value !== 'string') {
        const found =
          isScalar(node) && node.value !== null ? ` (found ${JSON.stringify(node.value)}; quote it)` : '';
        fail(`must be a string${kind === 'scalar' ? found : `, not ${NOUN[kind]}`}`);
        return;
      }
      const value = node.value;
      if (schema.enum && !schema.enum.includes(value)) {
        fail(`must be one of ${schema.enum.join(', ')} (found ${JSON.stringify(value)})`);
      } else if (schema.minLength !== undefined && value.length < schema.minLength) {
        fail(
          schema.minLength === 1 ? 'must not be empty' : `must have at least ${schema.minLength} characters`,
        );
      } else if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        fail(`must be at most ${schema.maxLength} characters`);
      } else if (schema.pattern && !schema.pattern.regex.test(value)) {
        fail(schema.pattern.message);
      }
      return;
    }
    case 'integer': {
      const value = isScalar(node) ? node.value : undefined;
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
      if (!isSeq(node)) {
        fail(`must be a list, not ${NOUN[kind]}`);
        return;
      }
      if (schema.minItems !== undefined && node.items.length < schema.minItems) {
        fail(
          schema.minItems === 1
            ? 'must list at least one entry'
            : `must list at least ${schema.minItems} entries`,
        );
      }
      node.items.forEach((item, i) => walk(doc, item, schema.items, [...path, i], out));
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
      walk(doc, node, branch, path, out);
      return;
    }
    case 'map':
    case 'object': {
      if (!isMap(node)) {
        fail(`must be a mapping, not ${NOUN[kind]}`);
        return;
      }
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (typeof key !== 'string') {
          out.push({ path, message: 'keys must be strings', node: pair.key as Node });
          continue;
        }
        seen.add(key);
        const child = [...path, key];
        if (schema.type === 'map') {
          walk(doc, pair.key, schema.keys, child, out);
          walk(doc, pair.value, schema.values, child, out);
          continue;
        }
        const propertySchema = schema.properties[key];
        if (propertySchema === undefined) {
          const suggestion = closest(key, Object.keys(schema.properties));
          out.push({
            path: child,
            message: `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; allowed: ${Object.keys(schema.properties).join(', ')}`,
            node: pair.key as Node,
          });
          continue;
        }
        walk(doc, pair.value, propertySchema, child, out);
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
function closest(word: string, candidates: readonly string[]): string | undefined {
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
      };
    case 'integer':
      return {
        type: 'integer',
        ...description,
        ...(schema.minimum !== undefined ? { minimum: schema.minimum } : {}),
        ...(schema.maximum !== undefined ? { maximum: schema.maximum } : {}),
      };
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
