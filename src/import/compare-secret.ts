// Tekton's CEL has `s.compareSecret(key, secretName, namespace)`; the gateway reads secrets from its secrets
// directory, where a namespace means nothing, so the 3-argument form is a load error (contract §2). import
// drops the third argument. This works on the expression text so that everything else stays as written.

export interface CompareSecretRewrite {
  readonly source: string;
  /** The namespaces that were dropped, in order. */
  readonly dropped: readonly string[];
}

const CALL = 'compareSecret';

export function dropCompareSecretNamespace(source: string): CompareSecretRewrite {
  const edits: { from: number; to: number; text: string }[] = [];
  const stringEnds = stringRanges(source);
  const inString = (i: number) => stringEnds.some(([a, b]) => i >= a && i < b);
  for (let i = source.indexOf(CALL); i >= 0; i = source.indexOf(CALL, i + 1)) {
    if (inString(i)) continue;
    let before = i - 1;
    while (before >= 0 && /\s/.test(source[before]!)) before--;
    if (source[before] !== '.') continue;
    let open = i + CALL.length;
    while (open < source.length && /\s/.test(source[open]!)) open++;
    if (source[open] !== '(') continue;
    const args = splitArgs(source, open, stringEnds);
    if (args === undefined || args.commas.length !== 2) continue;
    const third = args.commas[1]!;
    edits.push({ from: third, to: args.close, text: source.slice(third + 1, args.close).trim() });
  }
  // An edit inside another's dropped argument disappears with it.
  const kept = edits.filter((e) => !edits.some((o) => o !== e && o.from <= e.from && e.to <= o.to));
  let out = source;
  for (const e of [...kept].reverse()) out = out.slice(0, e.from) + out.slice(e.to);
  return { source: out, dropped: kept.map((e) => e.text) };
}

/** Top-level commas of the argument list that opens at `open`, and the index of its closing `)`. */
function splitArgs(
  source: string,
  open: number,
  strings: readonly (readonly [number, number])[],
): { commas: number[]; close: number } | undefined {
  let depth = 0;
  const commas: number[] = [];
  for (let i = open + 1; i < source.length; i++) {
    const s = strings.find(([a]) => a === i);
    if (s) {
      i = s[1] - 1;
      continue;
    }
    const ch = source[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0) return ch === ')' ? { commas, close: i } : undefined;
      depth--;
    } else if (ch === ',' && depth === 0) commas.push(i);
  }
  return undefined;
}

/** [start, end) of every CEL string literal: '…', "…", '''…''', """…""", with r/b prefixes. */
function stringRanges(source: string): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch !== '"' && ch !== "'") continue;
    let prefixStart = i;
    while (prefixStart > 0 && /[rRbB]/.test(source[prefixStart - 1]!)) prefixStart--;
    const raw = /[rR]/.test(source.slice(prefixStart, i));
    const triple = source.startsWith(ch.repeat(3), i);
    const quote = triple ? ch.repeat(3) : ch;
    let j = i + quote.length;
    while (j < source.length && !source.startsWith(quote, j)) j += !raw && source[j] === '\\' ? 2 : 1;
    const end = Math.min(source.length, j + quote.length);
    out.push([prefixStart, end]);
    i = end - 1;
  }
  return out;
}
