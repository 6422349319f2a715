// Reads the `curl.sh` scripts shipped with Tekton's examples: the headers (-H) and the body (-d/--data/
// --data-binary, inline or @file), so tests can send what the examples send.
export interface CurlRequest {
  readonly headers: Record<string, string>;
  /** The inline body text, or the @file path as written in the script. */
  readonly body: { readonly text: string } | { readonly file: string } | undefined;
}

/** Shell words of a script: single and double quotes, backslash-newline continuations. */
function words(script: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (ch === '\\' && script[i + 1] === '\n') {
      i++;
      continue;
    }
    if (ch === "'") {
      const end = script.indexOf("'", i + 1);
      cur += script.slice(i + 1, end < 0 ? script.length : end);
      i = end < 0 ? script.length : end;
      inWord = true;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < script.length && script[j] !== '"') {
        if (script[j] === '\\' && j + 1 < script.length) j++;
        cur += script[j];
        j++;
      }
      i = j;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

export function parseCurl(script: string): CurlRequest {
  const w = words(script);
  const headers: Record<string, string> = {};
  let body: CurlRequest['body'];
  for (let i = 0; i < w.length; i++) {
    const word = w[i]!;
    if (word === '-H' || word === '--header') {
      const h = w[++i] ?? '';
      const colon = h.indexOf(':');
      if (colon > 0) headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
    } else if (['-d', '--data', '--data-binary', '--data-raw'].includes(word)) {
      const d = w[++i] ?? '';
      body = d.startsWith('@') ? { file: d.slice(1) } : { text: d };
    }
  }
  return { headers, body };
}
