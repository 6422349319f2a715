// Tekton-compatible CEL (contract §5) on @bufbuild/cel. This is the only file that imports the CEL library and
// its RE2 engine; everything else sees `compileCel(source)` and plain JSON values.
//
// An expression is compiled once, when the config loads: parsed, macros the library lacks expanded, checked
// against Tekton's environment (cel-check.ts), rewritten for safe evaluation (cel-rewrite.ts) and planned.
// Evaluation runs on the caller's thread within a time budget (cel-budget.ts).
import {
  CelScalar,
  celEnv,
  celFunc,
  celList,
  celMethod,
  celType,
  celUint,
  isCelError,
  isCelList,
  isCelMap,
  isCelType,
  isCelUint,
  listType,
  mapType,
  parse,
  plan,
  type CelFunc,
  type CelInput as LibraryInput,
  type CelList,
  type CelMap,
  type CelResult as LibraryResult,
  type CelType,
  type CelUint,
  type CelValue,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { RE2JS } from '@bufbuild/re2';
import type { CelInput, CelProgram, CelResult, JsonObject, JsonValue, SecretLookup } from '../model.js';
import type { CelConstant, CelNode } from './cel-ast.js';
import { BudgetExceeded, EvaluationBudget } from './cel-budget.js';
import { checkCel, type CelSignature, type CelTypeName, type CheckEnv } from './cel-check.js';
import {
  asciiCase,
  countRunes,
  decodeBase64,
  encodeBase64,
  marshalGoJSON,
  parseJSONObject,
  parseYAMLObject,
  quoteCel,
  quoteForError,
  replaceGo,
  reverseRunes,
  truncateUtf8,
} from './cel-functions.js';
import {
  ACCU_APPEND_FN,
  ACCU_NEW_FN,
  BUDGET_FN,
  HAS_FN,
  SORT_BY_KEYS_FN,
  expandMacros,
  prepareForEvaluation,
} from './cel-rewrite.js';
import { canonicalHeaderKey } from './canonical-header.js';
import { parseURLToMap } from './go-url.js';
import { replaceAllRE2 } from './re2-replace.js';
import { tokensEqual } from './verify/hmac.js';

export type CelCompileResult = { ok: true; program: CelProgram } | { ok: false; error: string };

// ---------------------------------------------------------------------------------------------------
// Static limits: the shape of an expression, checked when it compiles. The run-time guard is cel-budget.ts.

const MAX_SOURCE_CHARS = 10_000;
const LIMITS = { maxComprehensionNesting: 3, maxNodes: 2_500 } as const;

interface Evaluation {
  readonly secrets: SecretLookup;
  readonly budget: EvaluationBudget;
  /** The longest string a function may flatten or build (see flatLimit). */
  readonly maxString: number;
}

/**
 * Strings longer than this were built by the expression (`a + b` links its operands without copying), not read
 * from a body (at most gateway.maxBodyBytes, 25 MiB by default): functions that copy a string refuse them,
 * rather than allocate hundreds of megabytes the time budget would not stop in time (issue #13).
 */
const BODY_STRING_CHARS = 25 * 1024 * 1024;

function flatLimit(maxValueBytes: number | undefined): number {
  return maxValueBytes === undefined ? Infinity : Math.max(maxValueBytes, BODY_STRING_CHARS);
}

/** Throws when a function is about to copy (or produce) `length` characters past the evaluation's limit. */
function checkLength(length: number): void {
  const limit = evaluation().maxString;
  if (length > limit) throw new Error(`${RESULT_TOO_LARGE}: a string of ${length} characters was built`);
}

/** The evaluation in progress. Evaluation is synchronous, so there is at most one at a time. */
let active: Evaluation | undefined;

/** The message of anything thrown (libraries may throw non-Error values). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function evaluation(): Evaluation {
  if (active === undefined) throw new Error('a CEL function was called outside an evaluation');
  return active;
}

function checkBudget(): void {
  evaluation().budget.check();
}

function tick(): void {
  evaluation().budget.tick();
}

// ---------------------------------------------------------------------------------------------------
// Values

const { BOOL, BYTES, DOUBLE, DYN, INT, STRING, UINT } = CelScalar;
const LIST = listType(DYN);
const MAP = mapType(DYN, DYN);

type Numeric = bigint | number | CelUint;

function isNumeric(v: CelValue): v is Numeric {
  return typeof v === 'bigint' || typeof v === 'number' || isCelUint(v);
}

function numericValue(v: Numeric): bigint | number {
  return isCelUint(v) ? v.value : v;
}

function typeName(v: CelValue): string {
  return celType(v).toString();
}

/** JSON numbers, strings, arrays and objects as CEL inputs: objects become Maps (see sanitize below). */
function jsonToCel(value: JsonValue): LibraryInput {
  if (Array.isArray(value)) return value.map(jsonToCel);
  if (value !== null && typeof value === 'object') {
    return new Map(Object.entries(value).map(([k, v]) => [k, jsonToCel(v)]));
  }
  return value;
}

const NON_FINITE_JSON: Readonly<Record<string, string>> = {
  NaN: 'NaN',
  Infinity: 'Infinity',
  '-Infinity': '-Infinity',
};

function protoTime(v: CelValue, kind: 'timestamp' | 'duration'): string {
  const message = (v as { message?: { seconds?: bigint; nanos?: number } }).message;
  const seconds = message?.seconds ?? 0n;
  const nanos = message?.nanos ?? 0;
  const fraction =
    nanos === 0
      ? ''
      : `.${String(Math.abs(nanos))
          .padStart(9, '0')
          .replace(/(000)+$/, '')}`;
  if (kind === 'duration') {
    const sign = seconds < 0n || nanos < 0 ? '-' : '';
    return `${sign}${seconds < 0n ? -seconds : seconds}${fraction}s`;
  }
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.000Z$/, `${fraction}Z`);
}

/**
 * A CEL value as JSON, the way Tekton renders overlays: bytes as base64, ints and doubles as numbers, map keys
 * as strings. `strict` (for marshalJSON) refuses NaN and infinities, as Go's json.Marshal does; otherwise they
 * become strings, as protojson writes them.
 */
function celToJson(v: CelValue, strict: boolean): JsonValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
    if (strict) throw new Error(`json: unsupported value: ${v}`);
    return NON_FINITE_JSON[String(v)]!;
  }
  if (typeof v === 'bigint') return Number(v);
  if (isCelUint(v)) return Number(v.value);
  if (v instanceof Uint8Array) return encodeBase64(v);
  if (isCelList(v)) {
    const out: JsonValue[] = [];
    for (const item of v) {
      tick();
      out.push(celToJson(item, strict));
    }
    return out;
  }
  if (isCelMap(v)) {
    const out: JsonObject = {};
    for (const [key, item] of v) {
      tick();
      const name = isCelUint(key) ? String(key.value) : String(key);
      Object.defineProperty(out, name, { value: celToJson(item, strict), enumerable: true, writable: true });
    }
    return out;
  }
  if (isCelType(v)) return v.name;
  const type = typeName(v);
  if (type === 'google.protobuf.Timestamp') return protoTime(v, 'timestamp');
  if (type === 'google.protobuf.Duration') return protoTime(v, 'duration');
  throw new Error(`a value of type ${type} cannot be converted to JSON`);
}

/**
 * True when the JSON text of `v` would be longer than `limit`, measured without building it: a string's length
 * is known without flattening it, so a result built from millions of references to the same string (which
 * the time budget lets through, as it costs no time until printed) is refused before anything prints it.
 */
function largerThan(v: CelValue, limit: number): boolean {
  let size = 0;
  const visit = (x: CelValue): boolean => {
    if (typeof x === 'string') size += x.length + 2;
    else if (x instanceof Uint8Array) size += Math.ceil(x.length / 3) * 4 + 2;
    else if (isCelList(x)) {
      size += 2;
      for (const item of x) {
        tick();
        if (visit(item)) return true;
        size += 1;
      }
    } else if (isCelMap(x)) {
      size += 2;
      for (const [key, item] of x) {
        tick();
        size += String(isCelUint(key) ? key.value : key).length + 4;
        if (visit(item)) return true;
      }
    } else size += 24;
    return size > limit;
  };
  return visit(v);
}

/** The elements of a list, one budget tick each (converting a multi-million element list takes a while). */
function listItems(list: CelList): CelValue[] {
  const items: CelValue[] = [];
  for (const item of list) {
    tick();
    items.push(item);
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------
// Equality and ordering for the sets and lists extensions

function celEquals(a: CelValue, b: CelValue): boolean {
  return EQUALS.call(0, undefined, [a, b]) === true;
}

/** A key equal values share (CEL equality: 1 == 1u == 1.0), or undefined for values compared pairwise. */
function hashKey(v: CelValue): string | undefined {
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'boolean') return `b${v}`;
  if (isNumeric(v)) {
    const n = numericValue(v);
    if (typeof n === 'bigint') return `n${n}`;
    if (Number.isNaN(n)) return undefined; // NaN equals nothing
    return Number.isInteger(n) && Math.abs(n) < 2 ** 63 ? `n${BigInt(n)}` : `n${n}`;
  }
  if (v === null) return 'null';
  return undefined;
}

/** Membership in a list by CEL equality, in O(1) for scalars. */
class Membership {
  private readonly keys = new Set<string>();
  private readonly others: CelValue[] = [];

  constructor(items: Iterable<CelValue>) {
    for (const item of items) this.add(item);
  }

  add(item: CelValue): void {
    const key = hashKey(item);
    if (key === undefined) this.others.push(item);
    else this.keys.add(key);
  }

  has(item: CelValue): boolean {
    const key = hashKey(item);
    if (key !== undefined) return this.keys.has(key);
    return this.others.some((other) => {
      tick();
      return celEquals(other, item);
    });
  }
}

function compareValues(a: CelValue, b: CelValue): number {
  if (isNumeric(a) && isNumeric(b)) {
    const x = numericValue(a);
    const y = numericValue(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  throw new Error(`values of type ${typeName(a)} and ${typeName(b)} cannot be ordered`);
}

/** `list` reordered by `keys` (cel-go's lists.sort / sortBy): keys must share one orderable type. */
function sortByKeys(list: CelList, keys: CelList): CelList {
  if (list.size !== keys.size) throw new Error('sortBy: the list and its keys differ in size');
  checkBudget();
  const items = listItems(list);
  const sortKeys = listItems(keys);
  const first = sortKeys[0];
  if (first !== undefined) {
    const type = typeName(first);
    if (!['int', 'uint', 'double', 'string', 'bool', 'bytes'].includes(type)) {
      throw new Error(`list elements of type ${type} cannot be sorted`);
    }
    if (sortKeys.some((k) => typeName(k) !== type)) throw new Error('list elements must have the same type');
  }
  const order = items.map((_, i) => i);
  order.sort((i, j) => compareValues(sortKeys[i]!, sortKeys[j]!) || i - j);
  return celList(order.map((i) => items[i]!));
}

function extreme(values: readonly CelValue[], fn: string, wantGreater: boolean): CelValue {
  if (values.length === 0) throw new Error(`${fn}(): the list must not be empty`);
  let best: CelValue | undefined;
  for (const v of values) {
    if (!isNumeric(v)) throw new Error(`${fn}(): ${typeName(v)} is not a number`);
    if (best === undefined) {
      best = v;
      continue;
    }
    const order = compareValues(v, best);
    if (wantGreater ? order > 0 : order < 0) best = v;
  }
  return best!;
}

function flatten(list: CelList, depth: bigint): CelList {
  if (depth < 0n) throw new Error('flatten(): level must be non-negative');
  const out: CelValue[] = [];
  const visit = (items: CelList, level: bigint): void => {
    for (const item of items) {
      tick();
      if (isCelList(item) && level > 0n) visit(item, level - 1n);
      else out.push(item);
    }
  };
  visit(list, depth);
  return celList(out);
}

// ---------------------------------------------------------------------------------------------------
// Tekton's functions on headers and secrets

/** Go's `ConvertToNative(http.Header)`: every value must be a list of strings. */
function headerFrom(map: CelMap): Map<string, readonly string[]> {
  const header = new Map<string, readonly string[]>();
  for (const [key, value] of map) {
    const values = isCelList(value) ? listItems(value) : undefined;
    if (typeof key !== 'string' || values === undefined || values.some((v) => typeof v !== 'string')) {
      throw new Error(
        `failed to convert to http.Header: the value of ${JSON.stringify(String(key))} is not a list of strings (match and canonical work on header)`,
      );
    }
    header.set(key, values as string[]);
  }
  return header;
}

/** Go's Header.Get: the first value of the canonical name, or "". */
function headerGet(map: CelMap, name: string): string {
  return headerFrom(map).get(canonicalHeaderKey(name))?.[0] ?? '';
}

function compareSecret(given: string, secretKey: string, secretName: string): boolean {
  const secret = evaluation().secrets({ secretName, secretKey });
  if (secret === undefined) {
    // Names the secret, never a value: this message reaches the webhook's response.
    throw new Error(`failed to find secret '${secretName}' (key '${secretKey}') in compareSecret`);
  }
  // tokensEqual compares SHA-256 digests of both sides in constant time, so neither the comparison's timing
  // nor a length check tells a sender how long the secret is (crypto.timingSafeEqual alone needs equal lengths).
  return tokensEqual(Buffer.from(given, 'utf8'), secret);
}

// ---------------------------------------------------------------------------------------------------
// translate(): RE2 programs, compiled once per pattern

// Patterns are nearly always literals in the expression; the library would compile `matches` patterns per call.
const regexCache = new Map<string, RE2JS>();
const REGEX_CACHE_SIZE = 256;

function compileRegex(pattern: string): RE2JS {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    re = RE2JS.compile(pattern);
    if (regexCache.size >= REGEX_CACHE_SIZE) regexCache.delete(regexCache.keys().next().value!);
    regexCache.set(pattern, re);
  }
  return re;
}

function translate(s: string, pattern: string, replacement: string): string {
  let re: RE2JS;
  try {
    re = compileRegex(pattern);
  } catch (err) {
    throw new Error(`failed to parse regular expression for translation: ${messageOf(err)}`);
  }
  return replaceAllRE2(re.re2().prog, re.namedGroups(), s, replacement, tick);
}

// ---------------------------------------------------------------------------------------------------
// The function table: the standard library, cel-go's extensions as Tekton enables them, Tekton's own.

function mathFunctions(): CelFunc[] {
  const abs = (v: bigint): bigint => {
    if (v === -(2n ** 63n)) throw new Error('math.abs() overflow: the result is out of the int range');
    return v < 0n ? -v : v;
  };
  const shift = (fn: string, n: bigint): number => {
    if (n < 0n) throw new Error(`math.${fn}() negative offset: ${n}`);
    return n > 64n ? 64 : Number(n);
  };
  const rounding = (name: string, f: (x: number) => number): CelFunc =>
    celFunc(`math.${name}`, [DOUBLE], DOUBLE, f);
  const greatest = (values: readonly CelValue[]): CelValue => extreme(values, 'math.greatest', true);
  const least = (values: readonly CelValue[]): CelValue => extreme(values, 'math.least', false);
  return [
    celFunc('math.greatest', [LIST], DYN, (l) => greatest(listItems(l))),
    celFunc('math.least', [LIST], DYN, (l) => least(listItems(l))),
    ...[INT, UINT, DOUBLE].flatMap((t) => [
      celFunc('math.greatest', [t], t, (x) => x),
      celFunc('math.least', [t], t, (x) => x),
    ]),
    rounding('ceil', Math.ceil),
    rounding('floor', Math.floor),
    rounding('trunc', Math.trunc),
    rounding('round', (x) => (Number.isFinite(x) ? Math.sign(x) * Math.round(Math.abs(x)) : x)),
    celFunc('math.abs', [INT], INT, abs),
    celFunc('math.abs', [UINT], UINT, (x) => x),
    celFunc('math.abs', [DOUBLE], DOUBLE, Math.abs),
    celFunc('math.sign', [INT], INT, (x) => (x > 0n ? 1n : x < 0n ? -1n : 0n)),
    celFunc('math.sign', [UINT], UINT, (x) => celUint(x.value > 0n ? 1n : 0n)),
    celFunc('math.sign', [DOUBLE], DOUBLE, (x) => (Number.isNaN(x) ? x : x > 0 ? 1 : x < 0 ? -1 : 0)),
    celFunc('math.sqrt', [INT], DOUBLE, (x) => Math.sqrt(Number(x))),
    celFunc('math.sqrt', [UINT], DOUBLE, (x) => Math.sqrt(Number(x.value))),
    celFunc('math.sqrt', [DOUBLE], DOUBLE, Math.sqrt),
    celFunc('math.isInf', [DOUBLE], BOOL, (x) => x === Infinity || x === -Infinity),
    celFunc('math.isNaN', [DOUBLE], BOOL, Number.isNaN),
    celFunc('math.isFinite', [DOUBLE], BOOL, Number.isFinite),
    celFunc('math.bitAnd', [INT, INT], INT, (a, b) => a & b),
    celFunc('math.bitAnd', [UINT, UINT], UINT, (a, b) => celUint(a.value & b.value)),
    celFunc('math.bitOr', [INT, INT], INT, (a, b) => a | b),
    celFunc('math.bitOr', [UINT, UINT], UINT, (a, b) => celUint(a.value | b.value)),
    celFunc('math.bitXor', [INT, INT], INT, (a, b) => a ^ b),
    celFunc('math.bitXor', [UINT, UINT], UINT, (a, b) => celUint(a.value ^ b.value)),
    celFunc('math.bitNot', [INT], INT, (a) => ~a),
    celFunc('math.bitNot', [UINT], UINT, (a) => celUint(BigInt.asUintN(64, ~a.value))),
    celFunc('math.bitShiftLeft', [INT, INT], INT, (a, n) =>
      BigInt.asIntN(64, a << BigInt(shift('bitShiftLeft', n))),
    ),
    celFunc('math.bitShiftLeft', [UINT, INT], UINT, (a, n) =>
      celUint(BigInt.asUintN(64, a.value << BigInt(shift('bitShiftLeft', n)))),
    ),
    // cel-go shifts ints right logically (as unsigned), not arithmetically.
    celFunc('math.bitShiftRight', [INT, INT], INT, (a, n) =>
      BigInt.asIntN(64, BigInt.asUintN(64, a) >> BigInt(shift('bitShiftRight', n))),
    ),
    celFunc('math.bitShiftRight', [UINT, INT], UINT, (a, n) =>
      celUint(a.value >> BigInt(shift('bitShiftRight', n))),
    ),
  ];
}

function listFunctions(): CelFunc[] {
  return [
    celFunc('lists.range', [INT], LIST, (n) => {
      const out: bigint[] = [];
      for (let i = 0n; i < n; i++) {
        tick();
        out.push(i);
      }
      return out;
    }),
    celMethod('slice', LIST, [INT, INT], LIST, function (start, end) {
      if (start < 0n || end < 0n)
        throw new Error(`cannot slice(${start}, ${end}), negative indexes not supported`);
      if (start > end)
        throw new Error(
          `cannot slice(${start}, ${end}), start index must be less than or equal to end index`,
        );
      if (end > BigInt(this.size))
        throw new Error(`cannot slice(${start}, ${end}), list is length ${this.size}`);
      return listItems(this).slice(Number(start), Number(end));
    }),
    celMethod('flatten', LIST, [], LIST, function () {
      return flatten(this, 1n);
    }),
    celMethod('flatten', LIST, [INT], LIST, function (depth) {
      return flatten(this, depth);
    }),
    celMethod('sort', LIST, [], LIST, function () {
      return sortByKeys(this, this);
    }),
    celFunc(SORT_BY_KEYS_FN, [LIST, LIST], LIST, sortByKeys),
    celMethod('reverse', LIST, [], LIST, function () {
      return listItems(this).reverse();
    }),
    celMethod('distinct', LIST, [], LIST, function () {
      const seen = new Membership([]);
      const out: CelValue[] = [];
      for (const item of this) {
        tick();
        if (seen.has(item)) continue;
        seen.add(item);
        out.push(item);
      }
      return out;
    }),
    // Tekton's own first()/last(): null for an empty list, where cel-go's lists extension returns optionals.
    celMethod('first', LIST, [], DYN, function () {
      return this.size === 0 ? null : this.get(0)!;
    }),
    celMethod('last', LIST, [], DYN, function () {
      return this.size === 0 ? null : this.get(this.size - 1)!;
    }),
  ];
}

function setFunctions(): CelFunc[] {
  const contains = (a: CelList, b: CelList): boolean => {
    checkBudget();
    const members = new Membership(a);
    for (const item of b) {
      tick();
      if (!members.has(item)) return false;
    }
    return true;
  };
  return [
    celFunc('sets.contains', [LIST, LIST], BOOL, contains),
    celFunc('sets.equivalent', [LIST, LIST], BOOL, (a, b) => contains(a, b) && contains(b, a)),
    celFunc('sets.intersects', [LIST, LIST], BOOL, (a, b) => {
      checkBudget();
      const members = new Membership(a);
      for (const item of b) {
        tick();
        if (members.has(item)) return true;
      }
      return false;
    }),
  ];
}

function stringAndEncoderFunctions(): CelFunc[] {
  const budgeted =
    <A extends unknown[], R>(f: (...args: A) => R) =>
    (...args: A): R => {
      checkBudget();
      return f(...args);
    };
  return [
    celMethod('reverse', STRING, [], STRING, function () {
      checkBudget();
      checkLength(this.length);
      return reverseRunes(this);
    }),
    celMethod('lowerAscii', STRING, [], STRING, function () {
      checkBudget();
      checkLength(this.length);
      return asciiCase(this, false);
    }),
    celMethod('upperAscii', STRING, [], STRING, function () {
      checkBudget();
      checkLength(this.length);
      return asciiCase(this, true);
    }),
    celMethod('replace', STRING, [STRING, STRING], STRING, function (old, repl) {
      checkBudget();
      checkLength(this.length);
      return replaceGo(this, old, repl, undefined);
    }),
    celMethod('replace', STRING, [STRING, STRING, INT], STRING, function (old, repl, n) {
      checkBudget();
      checkLength(this.length);
      return replaceGo(this, old, repl, n);
    }),
    celFunc('strings.quote', [STRING], STRING, budgeted(quoteCel)),
    // cel-go also has the global form `matches(s, re)`; the library only the method.
    celFunc('matches', [STRING, STRING], BOOL, (s, pattern) => compileRegex(pattern).test(s)),
    celFunc('size', [STRING], INT, (s) => {
      checkLength(s.length);
      return BigInt(countRunes(s));
    }),
    celMethod('size', STRING, [], INT, function () {
      checkLength(this.length);
      return BigInt(countRunes(this));
    }),
    celMethod('format', STRING, [LIST], STRING, function (args) {
      checkBudget();
      // The library formats one character at a time: seconds for a multi-megabyte format string.
      if (this.length > MAX_FORMAT_CHARS) {
        throw new Error(
          `format(): the format string has ${this.length} characters, at most ${MAX_FORMAT_CHARS} are supported`,
        );
      }
      const result = LIBRARY_FORMAT.call(0, this, [args]);
      if (result === undefined || isCelError(result))
        throw new Error(result?.message ?? 'format(): no matching overload');
      return result as string;
    }),
    celMethod('join', LIST, [], STRING, function () {
      return joinStrings(this, '');
    }),
    celMethod('join', LIST, [STRING], STRING, function (separator) {
      return joinStrings(this, separator);
    }),
    celFunc('base64.decode', [STRING], BYTES, decodeBase64),
    celFunc('base64.encode', [BYTES], STRING, encodeBase64),
    celFunc('json.encode', [DYN], STRING, (v) => {
      checkBudget();
      if (largerThan(v, evaluation().maxString)) checkLength(Infinity);
      return marshalGoJSON(celToJson(v, true), tick);
    }),
  ];
}

const MAX_FORMAT_CHARS = 65_536;
const LIBRARY_FORMAT = strings.find((f) => f.name === 'format')!;

function joinStrings(list: CelList, separator: string): string {
  checkBudget();
  const items = listItems(list);
  if (items.some((item) => typeof item !== 'string'))
    throw new Error('join: the list contains a non-string value');
  let length = separator.length * Math.max(0, items.length - 1);
  for (const item of items) length += (item as string).length;
  checkLength(length);
  return items.join(separator);
}

function tektonFunctions(): CelFunc[] {
  const marshal = (v: CelList | CelMap): string => {
    checkBudget();
    if (largerThan(v, evaluation().maxString)) checkLength(Infinity);
    return marshalGoJSON(celToJson(v, true), tick);
  };
  return [
    celMethod('match', MAP, [STRING, STRING], BOOL, function (name, value) {
      return headerGet(this, name) === value;
    }),
    celMethod('canonical', MAP, [STRING], STRING, function (name) {
      return headerGet(this, name);
    }),
    celMethod('truncate', STRING, [INT], STRING, function (n) {
      return truncateUtf8(this, n);
    }),
    celMethod('compareSecret', STRING, [STRING, STRING], BOOL, function (key, name) {
      return compareSecret(this, key, name);
    }),
    celMethod('parseJSON', STRING, [], MAP, function () {
      checkBudget();
      return jsonToCel(parseJSONObject(this)) as Map<string, LibraryInput>;
    }),
    celMethod('parseYAML', STRING, [], MAP, function () {
      checkBudget();
      return jsonToCel(parseYAMLObject(this)) as Map<string, LibraryInput>;
    }),
    celMethod('parseURL', STRING, [], MAP, function () {
      try {
        return jsonToCel(parseURLToMap(this)) as Map<string, LibraryInput>;
      } catch (err) {
        throw new Error(`failed to decode '${quoteForError(this)}' in parseURL: ${messageOf(err)}`);
      }
    }),
    celMethod('marshalJSON', MAP, [], STRING, function () {
      return marshal(this);
    }),
    celMethod('marshalJSON', LIST, [], STRING, function () {
      return marshal(this);
    }),
    celMethod('translate', STRING, [STRING, STRING], STRING, function (pattern, replacement) {
      checkBudget();
      return translate(this, pattern, replacement);
    }),
  ];
}

/** The functions cel-rewrite.ts puts into expressions, and `in`/`has` that see JSON nulls as present. */
function evaluationFunctions(): CelFunc[] {
  const present = (map: CelMap, key: string | bigint | number | boolean | CelUint): boolean =>
    map.get(key) !== undefined;
  // An appendable list is owned by one run of one comprehension; nothing else can reach it while it grows.
  const growing = new WeakMap<CelList, CelValue[]>();
  return [
    celFunc(BUDGET_FN, [DYN], DYN, (condition) => {
      tick();
      return condition;
    }),
    celFunc(ACCU_NEW_FN, [], LIST, () => {
      const items: CelValue[] = [];
      const list = celList(items);
      growing.set(list, items);
      return list;
    }),
    celFunc(ACCU_APPEND_FN, [LIST, DYN], LIST, (list, item) => {
      const items = growing.get(list);
      if (items === undefined) return [...listItems(list), item];
      items.push(item);
      return list;
    }),
    celFunc(HAS_FN, [DYN, STRING], BOOL, (operand, field) => {
      if (isCelMap(operand)) return present(operand, field);
      throw new Error(`has() needs a map, got ${typeName(operand)}`);
    }),
    ...[STRING, INT, UINT, DOUBLE, BOOL].map((t) =>
      celFunc('@in', [t, MAP], BOOL, (key: string | bigint | number | boolean | CelUint, map: CelMap) =>
        present(map, key),
      ),
    ),
  ];
}

const env = celEnv({
  variables: { body: MAP, header: MAP, requestURL: STRING, extensions: MAP },
  re2: { compile: compileRegex },
  funcs: [
    ...strings,
    ...stringAndEncoderFunctions(),
    ...setFunctions(),
    ...listFunctions(),
    ...mathFunctions(),
    ...tektonFunctions(),
    ...evaluationFunctions(),
  ],
});

/** The standard `==` (heterogeneous numeric equality), for the sets and lists extensions. */
const EQUALS = env.funcs.find('_==_')!;

// ---------------------------------------------------------------------------------------------------
// What the checker knows about the environment

function checkType(t: CelType): CelTypeName {
  if (t.kind === 'list') return 'list';
  if (t.kind === 'map') return 'map';
  if (t.kind === 'object') {
    if (t.name === 'google.protobuf.Timestamp') return 'timestamp';
    if (t.name === 'google.protobuf.Duration') return 'duration';
    return 'object';
  }
  return t.name as CelTypeName;
}

const INTERNAL = new Set([BUDGET_FN, ACCU_NEW_FN, ACCU_APPEND_FN, HAS_FN]);

const CHECK_ENV: CheckEnv = {
  variables: new Map<string, CelTypeName>([
    ['body', 'map'],
    ['header', 'map'],
    ['requestURL', 'string'],
    ['extensions', 'map'],
  ]),
  functions: Array.from(env.funcs)
    .filter((f) => !INTERNAL.has(f.name))
    .map((f): CelSignature => ({
      fn: f.name,
      member: f.target !== undefined,
      params: [...(f.target === undefined ? [] : [f.target]), ...f.arguments].map(checkType),
      result: checkType(f.result),
    })),
};

// ---------------------------------------------------------------------------------------------------
// The library's AST ⇄ ours

type LibraryExpr = ReturnType<typeof parse>['expr'];

function fromLibrary(expr: LibraryExpr | undefined): CelNode {
  if (expr === undefined) throw new Error('incomplete expression');
  const id = Number(expr.id);
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'constExpr':
      return { kind: 'const', id, value: constantFromLibrary(kind.value.constantKind) };
    case 'identExpr':
      return { kind: 'ident', id, name: kind.value.name };
    case 'selectExpr':
      return {
        kind: 'select',
        id,
        operand: fromLibrary(kind.value.operand),
        field: kind.value.field,
        testOnly: kind.value.testOnly,
      };
    case 'callExpr':
      return {
        kind: 'call',
        id,
        fn: kind.value.function,
        target: kind.value.target === undefined ? undefined : fromLibrary(kind.value.target),
        args: kind.value.args.map(fromLibrary),
      };
    case 'listExpr':
      return {
        kind: 'list',
        id,
        elements: kind.value.elements.map(fromLibrary),
        optionalIndices: [...kind.value.optionalIndices],
      };
    case 'structExpr': {
      const entries = kind.value.entries;
      if (kind.value.messageName === '') {
        return {
          kind: 'map',
          id,
          entries: entries.map((e) => {
            if (e.keyKind.case !== 'mapKey') throw new Error('invalid map entry');
            return {
              id: Number(e.id),
              key: fromLibrary(e.keyKind.value),
              value: fromLibrary(e.value),
              optional: e.optionalEntry,
            };
          }),
        };
      }
      return {
        kind: 'object',
        id,
        typeName: kind.value.messageName,
        fields: entries.map((e) => {
          if (e.keyKind.case !== 'fieldKey') throw new Error('invalid message field');
          return {
            id: Number(e.id),
            field: e.keyKind.value,
            value: fromLibrary(e.value),
            optional: e.optionalEntry,
          };
        }),
      };
    }
    case 'comprehensionExpr':
      return {
        kind: 'comprehension',
        id,
        iterVar: kind.value.iterVar,
        iterVar2: kind.value.iterVar2,
        iterRange: fromLibrary(kind.value.iterRange),
        accuVar: kind.value.accuVar,
        accuInit: fromLibrary(kind.value.accuInit),
        loopCondition: fromLibrary(kind.value.loopCondition),
        loopStep: fromLibrary(kind.value.loopStep),
        result: fromLibrary(kind.value.result),
      };
    default:
      throw new Error('unsupported expression');
  }
}

type LibraryConstant = Extract<LibraryExpr['exprKind'], { case: 'constExpr' }>['value']['constantKind'];

function constantFromLibrary(c: LibraryConstant): CelConstant {
  switch (c.case) {
    case 'nullValue':
      return { type: 'null' };
    case 'boolValue':
      return { type: 'bool', value: c.value };
    case 'int64Value':
      return { type: 'int', value: c.value };
    case 'uint64Value':
      return { type: 'uint', value: c.value };
    case 'doubleValue':
      return { type: 'double', value: c.value };
    case 'stringValue':
      return { type: 'string', value: c.value };
    case 'bytesValue':
      return { type: 'bytes', value: c.value };
    default:
      throw new Error(`unsupported literal (${String(c.case)})`);
  }
}

const CONSTANT_CASE = {
  null: 'nullValue',
  bool: 'boolValue',
  int: 'int64Value',
  uint: 'uint64Value',
  double: 'doubleValue',
  string: 'stringValue',
  bytes: 'bytesValue',
} as const;

/** Our tree in the library's shape. The planner reads only `id` and `exprKind`, so plain objects do. */
function toLibrary(node: CelNode): unknown {
  const expr = (exprKind: { case: string; value: unknown }): unknown => ({ id: BigInt(node.id), exprKind });
  switch (node.kind) {
    case 'const':
      return expr({
        case: 'constExpr',
        value: {
          constantKind: {
            case: CONSTANT_CASE[node.value.type],
            value: node.value.type === 'null' ? 0 : node.value.value,
          },
        },
      });
    case 'ident':
      return expr({ case: 'identExpr', value: { name: node.name } });
    case 'select':
      return expr({
        case: 'selectExpr',
        value: { operand: toLibrary(node.operand), field: node.field, testOnly: node.testOnly },
      });
    case 'call':
      return expr({
        case: 'callExpr',
        value: {
          function: node.fn,
          target: node.target === undefined ? undefined : toLibrary(node.target),
          args: node.args.map(toLibrary),
        },
      });
    case 'list':
      return expr({
        case: 'listExpr',
        value: { elements: node.elements.map(toLibrary), optionalIndices: node.optionalIndices },
      });
    case 'map':
      return expr({
        case: 'structExpr',
        value: {
          messageName: '',
          entries: node.entries.map((e) => ({
            id: BigInt(e.id),
            keyKind: { case: 'mapKey', value: toLibrary(e.key) },
            value: toLibrary(e.value),
            optionalEntry: e.optional,
          })),
        },
      });
    case 'object':
      return expr({
        case: 'structExpr',
        value: {
          messageName: node.typeName,
          entries: node.fields.map((f) => ({
            id: BigInt(f.id),
            keyKind: { case: 'fieldKey', value: f.field },
            value: toLibrary(f.value),
            optionalEntry: f.optional,
          })),
        },
      });
    case 'comprehension':
      return expr({
        case: 'comprehensionExpr',
        value: {
          iterVar: node.iterVar,
          iterVar2: node.iterVar2,
          iterRange: toLibrary(node.iterRange),
          accuVar: node.accuVar,
          accuInit: toLibrary(node.accuInit),
          loopCondition: toLibrary(node.loopCondition),
          loopStep: toLibrary(node.loopStep),
          result: toLibrary(node.result),
        },
      });
  }
}

// ---------------------------------------------------------------------------------------------------
// Compile and evaluate

/** `<input>:1:12: found = but …` → `syntax error at column 12: found = but …` */
function syntaxError(message: string): string {
  const m = /^<input>:(\d+):(\d+): ([\s\S]*)$/.exec(message);
  if (m === null) return `syntax error: ${message}`;
  const where = m[1] === '1' ? `column ${m[2]}` : `line ${m[1]}, column ${m[2]}`;
  return `syntax error at ${where}: ${m[3]}`;
}

/** Library messages in cel-go's words where users will search for them, with a hint for the number trap. */
function describeEvaluationError(message: string): string {
  const field = /^field not found: (.*)$/.exec(message);
  if (field !== null) return `no such key: ${field[1]}`;
  if (/no matching overload/.test(message) && /double/.test(message) && /\bu?int\b/.test(message)) {
    return `${message} (JSON numbers are doubles: write 1.0 rather than 1, or convert with int())`;
  }
  return message;
}

/**
 * JSON.parse output goes to the library as is; it wraps objects lazily. The library rejects an object that
 * has its own `constructor` key (it tests `value.constructor.name`), so such objects, and their parents, are
 * copied into Maps, only when an evaluation has hit one.
 */
function sanitize(value: JsonValue): LibraryInput {
  if (Array.isArray(value)) {
    const items = value.map(sanitize);
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, sanitize(v)] as const);
    const changed = Object.hasOwn(value, 'constructor') || entries.some(([k, v]) => v !== value[k]);
    return changed ? new Map(entries) : (value as LibraryInput);
  }
  return value;
}

/** The start of the error for a result over gateway.maxValueBytes (it quotes nothing from the payload). */
export const RESULT_TOO_LARGE = 'the result is larger than gateway.maxValueBytes';

type Planned = (bindings: Record<string, LibraryInput>) => LibraryResult;

/**
 * The header map as a Map: its keys are request-controlled (issue #13: a header named `__proto__` replaced the
 * plain object's prototype and every header expression failed), and the CEL library reads plain objects
 * through their prototype. Built once per request: every expression of every trigger gets the same object.
 */
const headerMaps = new WeakMap<object, LibraryInput>();

function headerMap(header: CelInput['header']): LibraryInput {
  let map = headerMaps.get(header);
  if (map === undefined) {
    map = new Map(Object.keys(header).map((name) => [name, header[name] as unknown as LibraryInput]));
    headerMaps.set(header, map);
  }
  return map;
}

function run(planned: Planned, input: CelInput, clean: boolean): LibraryResult {
  const convert = (v: JsonValue): LibraryInput => (clean ? sanitize(v) : (v as LibraryInput));
  return planned({
    body: convert(input.body),
    header: headerMap(input.header),
    requestURL: input.requestURL,
    extensions: convert(input.extensions as JsonObject),
  });
}

function evaluate(planned: Planned, input: CelInput): CelResult {
  let budget: EvaluationBudget;
  try {
    budget = EvaluationBudget.start(input.body);
  } catch (err) {
    return { ok: false, error: messageOf(err) };
  }
  const previous = active;
  active = { secrets: input.secrets, budget, maxString: flatLimit(input.maxValueBytes) };
  try {
    let result = run(planned, input, false);
    if (isCelError(result) && result.message.startsWith('Unsupported input'))
      result = run(planned, input, true);
    // An exhausted budget may have been absorbed by `||`/`&&`; the result is not trustworthy either way.
    if (budget.exceeded) return { ok: false, error: new BudgetExceeded(budget.limit).message };
    if (isCelError(result)) return { ok: false, error: describeEvaluationError(result.message) };
    if (input.maxValueBytes !== undefined && largerThan(result, input.maxValueBytes)) {
      return { ok: false, error: `${RESULT_TOO_LARGE} (${input.maxValueBytes} bytes)` };
    }
    return { ok: true, value: celToJson(result, false) };
  } catch (err) {
    // A RangeError is a stack overflow: too much nesting for this payload, the same verdict as the budget's.
    if (budget.exceeded || err instanceof RangeError)
      return { ok: false, error: new BudgetExceeded(budget.limit).message };
    return { ok: false, error: `evaluation failed: ${messageOf(err)}` };
  } finally {
    active = previous;
    budget.finish();
  }
}

/** Parses, checks and plans a Tekton CEL expression. Never throws: problems come back as `error`. */
export function compileCel(source: string): CelCompileResult {
  if (source.trim() === '') return { ok: false, error: 'the expression is empty' };
  if (source.length > MAX_SOURCE_CHARS) {
    return {
      ok: false,
      error: `the expression is ${source.length} characters long, at most ${MAX_SOURCE_CHARS} are allowed`,
    };
  }
  let node: CelNode;
  try {
    node = fromLibrary(parse(source).expr);
  } catch (err) {
    if (err instanceof RangeError) return { ok: false, error: 'the expression nests too deeply' };
    return { ok: false, error: syntaxError(messageOf(err)) };
  }
  try {
    node = expandMacros(node);
    const problems = checkCel(node, CHECK_ENV, LIMITS);
    if (problems.length > 0) return { ok: false, error: problems.join('; ') };
    const planned = plan(env, toLibrary(prepareForEvaluation(node)) as LibraryExpr) as unknown as Planned;
    const program: CelProgram = { source, evaluate: (input) => evaluate(planned, input) };
    return { ok: true, program };
  } catch (err) {
    if (err instanceof RangeError) return { ok: false, error: 'the expression nests too deeply' };
    return { ok: false, error: `cannot compile the expression: ${messageOf(err)}` };
  }
}

/**
 * The parsed, macro-expanded tree of an expression, for static checks that read what an expression uses
 * (./cel-reads.ts); undefined when it does not parse (compileCel reports why).
 */
export function celSyntaxTree(source: string): CelNode | undefined {
  if (source.length > MAX_SOURCE_CHARS) return undefined;
  try {
    return expandMacros(fromLibrary(parse(source).expr));
  } catch {
    return undefined;
  }
}
