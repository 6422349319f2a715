// Go's regexp.ReplaceAllString for Tekton's `translate(regex, replacement)`, on a program compiled by RE2.
//
// @bufbuild/re2 parses and compiles RE2 syntax exactly as Go does (same error texts), but its matcher only
// answers "is there a match" (a DFA without capture positions). ReplaceAllString needs where each match is and
// what each group captured, so this file runs the compiled program in a Pike VM: the classic leftmost-first
// NFA simulation with captures (https://swtch.com/~rsc/regexp/regexp2.html, Go's regexp/exec.go). It is
// linear in the input for any pattern, as RE2 promises; a backtracking engine (JS RegExp) would not be.
//
// The program is described structurally so that only cel.ts imports the library.

/** One instruction of a compiled RE2 program (the fields @bufbuild/re2's `Inst` exposes). */
export interface Re2Inst {
  readonly op: number;
  readonly out: number;
  readonly arg: number;
  matchRune(rune: number): boolean;
}

/** A compiled RE2 program (`RE2JS.compile(p).re2().prog`). */
export interface Re2Prog {
  readonly inst: readonly Re2Inst[];
  readonly start: number;
  readonly numCap: number;
}

// Instruction codes of @bufbuild/re2 0.6.1 (pinned exactly in package.json); they are Go's InstOp order + 1.
const ALT = 1;
const ALT_MATCH = 2;
const CAPTURE = 3;
const EMPTY_WIDTH = 4;
const MATCH = 6;
const NOP = 7;
const RUNE = 8;
const RUNE1 = 9;
const RUNE_ANY = 10;
const RUNE_ANY_NOT_NL = 11;

// Zero-width assertion flags (Go's syntax.EmptyOp).
const EMPTY_BEGIN_LINE = 0x01;
const EMPTY_END_LINE = 0x02;
const EMPTY_BEGIN_TEXT = 0x04;
const EMPTY_END_TEXT = 0x08;
const EMPTY_WORD_BOUNDARY = 0x10;
const EMPTY_NO_WORD_BOUNDARY = 0x20;

const END_OF_TEXT = -1;

function isWordRune(r: number): boolean {
  return (r >= 0x30 && r <= 0x39) || (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a) || r === 0x5f;
}

/** The assertions that hold between rune `before` and rune `after` (END_OF_TEXT at either edge). */
function emptyContext(before: number, after: number): number {
  let flags = 0;
  if (before < 0) flags |= EMPTY_BEGIN_TEXT | EMPTY_BEGIN_LINE;
  if (before === 0x0a) flags |= EMPTY_BEGIN_LINE;
  if (after < 0) flags |= EMPTY_END_TEXT | EMPTY_END_LINE;
  if (after === 0x0a) flags |= EMPTY_END_LINE;
  flags |= isWordRune(before) !== isWordRune(after) ? EMPTY_WORD_BOUNDARY : EMPTY_NO_WORD_BOUNDARY;
  return flags;
}

function runeAt(s: string, i: number): number {
  return i < s.length ? s.codePointAt(i)! : END_OF_TEXT;
}

function runeWidth(rune: number): number {
  return rune > 0xffff ? 2 : 1;
}

function runeBefore(s: string, i: number): number {
  if (i <= 0) return END_OF_TEXT;
  const low = s.charCodeAt(i - 1);
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) {
    const high = s.charCodeAt(i - 2);
    if (high >= 0xd800 && high <= 0xdbff) return s.codePointAt(i - 2)!;
  }
  return low;
}

interface Thread {
  readonly pc: number;
  readonly caps: number[];
}

/** A run queue: threads in priority order, with a sparse set so each instruction is queued once per step. */
class Queue {
  threads: Thread[] = [];
  private readonly seen: Uint32Array;
  private generation = 1;

  constructor(size: number) {
    this.seen = new Uint32Array(size);
  }

  clear(): void {
    this.threads = [];
    this.generation++;
  }

  /** True the first time pc is offered since the last clear. */
  visit(pc: number): boolean {
    if (this.seen[pc] === this.generation) return false;
    this.seen[pc] = this.generation;
    return true;
  }
}

/** Called once per input position examined, so a caller can enforce a time budget by throwing. */
export type Tick = () => void;

/** The two run queues, allocated once per replaceAll rather than once per match. */
interface Workspace {
  run: Queue;
  next: Queue;
}

/**
 * Finds the leftmost-first match at or after `from`, as Go's regexp does; returns the capture positions
 * (UTF-16 indexes into s; -1 for a group that did not take part) or undefined.
 */
function findAt(
  prog: Re2Prog,
  s: string,
  from: number,
  work: Workspace,
  tick: Tick | undefined,
): number[] | undefined {
  const ncap = Math.max(prog.numCap, 2);
  let { run, next } = work;
  run.clear();
  let matched: number[] | undefined;

  const add = (q: Queue, pc: number, pos: number, caps: number[], context: number): void => {
    if (pc === 0 || !q.visit(pc)) return; // instruction 0 is always FAIL
    const inst = prog.inst[pc]!;
    switch (inst.op) {
      case ALT:
      case ALT_MATCH:
        add(q, inst.out, pos, caps, context);
        add(q, inst.arg, pos, caps, context);
        return;
      case EMPTY_WIDTH:
        if ((inst.arg & ~context) === 0) add(q, inst.out, pos, caps, context);
        return;
      case NOP:
        add(q, inst.out, pos, caps, context);
        return;
      case CAPTURE:
        if (inst.arg < caps.length) {
          const saved = caps[inst.arg]!;
          caps[inst.arg] = pos;
          add(q, inst.out, pos, caps, context);
          caps[inst.arg] = saved;
        } else {
          add(q, inst.out, pos, caps, context);
        }
        return;
      case MATCH:
      case RUNE:
      case RUNE1:
      case RUNE_ANY:
      case RUNE_ANY_NOT_NL:
        q.threads.push({ pc, caps: caps.slice() });
        return;
      default: // FAIL
        return;
    }
  };

  let pos = from;
  let rune = runeAt(s, pos);
  let context = emptyContext(runeBefore(s, pos), rune);
  for (;;) {
    tick?.();
    if (matched !== undefined && run.threads.length === 0) break;
    if (matched === undefined) {
      const caps = new Array<number>(ncap).fill(-1);
      caps[0] = pos;
      add(run, prog.start, pos, caps, context);
    }
    const width = rune === END_OF_TEXT ? 0 : runeWidth(rune);
    const following = rune === END_OF_TEXT ? END_OF_TEXT : runeAt(s, pos + width);
    const nextContext = emptyContext(rune, following);
    next.clear();
    for (const thread of run.threads) {
      const inst = prog.inst[thread.pc]!;
      if (inst.op === MATCH) {
        thread.caps[1] = pos;
        matched = thread.caps;
        break; // leftmost-first: every later thread has lower priority
      }
      let consumes: boolean;
      if (rune === END_OF_TEXT) consumes = false;
      else if (inst.op === RUNE_ANY) consumes = true;
      else if (inst.op === RUNE_ANY_NOT_NL) consumes = rune !== 0x0a;
      else consumes = inst.matchRune(rune);
      if (consumes) add(next, inst.out, pos + width, thread.caps, nextContext);
    }
    if (width === 0) break;
    pos += width;
    rune = following;
    context = nextContext;
    [run, next] = [next, run];
  }
  return matched;
}

const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}_]$/u;

/** Go's regexp `extract`: a `$name`, `${name}` or `$1` reference at the start of str (after the `$`). */
function extractReference(str: string): { name: string; num: number; rest: string } | undefined {
  let body = str;
  const brace = body.startsWith('{');
  if (brace) body = body.slice(1);
  let i = 0;
  for (const ch of body) {
    if (!LETTER_OR_DIGIT.test(ch)) break;
    i += ch.length;
  }
  if (i === 0) return undefined;
  const name = body.slice(0, i);
  if (brace) {
    if (body[i] !== '}') return undefined;
    i++;
  }
  let num = /^[0-9]+$/.test(name) && !(name.length > 1 && name.startsWith('0')) ? Number(name) : -1;
  if (num >= 1e8) num = -1;
  return { name, num, rest: body.slice(i) };
}

/** Go's Regexp.ExpandString: `$1`, `${1}`, `$name`, `${name}`, `$$`; a malformed `$` stays literal. */
function expand(
  template: string,
  s: string,
  caps: readonly number[],
  names: ReadonlyMap<string, number>,
): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = extractReference(rest);
    if (ref === undefined) {
      out += '$';
      continue;
    }
    rest = ref.rest;
    const group = ref.num >= 0 ? ref.num : names.get(ref.name);
    if (group === undefined) continue;
    const start = caps[2 * group];
    const end = caps[2 * group + 1];
    if (start !== undefined && end !== undefined && start >= 0) out += s.slice(start, end);
  }
  return out + rest;
}

/**
 * Go's `re.ReplaceAllString(s, replacement)`: every non-overlapping match is replaced by the template with
 * its group references expanded; an empty match right after a previous match is not replaced.
 */
export function replaceAllRE2(
  prog: Re2Prog,
  namedGroups: ReadonlyMap<string, number>,
  s: string,
  replacement: string,
  tick?: Tick,
): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  const work: Workspace = { run: new Queue(prog.inst.length), next: new Queue(prog.inst.length) };
  while (searchPos <= s.length) {
    const caps = findAt(prog, s, searchPos, work, tick);
    if (caps === undefined) break;
    const [start, end] = caps as [number, number];
    out += s.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expand(replacement, s, caps, namedGroups);
    lastMatchEnd = end;
    const width = searchPos < s.length ? runeWidth(runeAt(s, searchPos)) : 0;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + s.slice(lastMatchEnd);
}
