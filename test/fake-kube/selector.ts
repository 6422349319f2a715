// Label selectors as the API server parses them (apimachinery pkg/labels/selector.go): `a=b`, `a==b`,
// `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`, joined by commas. A malformed selector is an error the
// server answers with 400, so a typo in the gateway's selector fails loudly in tests too.

type Requirement =
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'absent'; readonly key: string };

export type Selector = (labels: Readonly<Record<string, unknown>>) => boolean;

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Parses a selector, or returns the error message the server would put in its 400. */
export function parseSelector(text: string): Selector | { error: string } {
  const requirements: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    const term = part.trim();
    if (term === '') continue;
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    let requirement: Requirement;
    if (set) {
      const values = set[3]!.split(',').map((v) => v.trim());
      requirement = { op: set[2] as 'in' | 'notin', key: set[1]!, values };
    } else if (term.startsWith('!')) {
      requirement = { op: 'absent', key: term.slice(1).trim() };
    } else {
      const binary = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
      if (binary) {
        requirement = { op: binary[2] === '!=' ? 'ne' : 'eq', key: binary[1]!, value: binary[3]!.trim() };
      } else {
        requirement = { op: 'exists', key: term };
      }
    }
    const problem = check(requirement);
    if (problem) return { error: `unable to parse requirement: ${problem}` };
    requirements.push(requirement);
  }
  return (labels) => requirements.every((r) => matches(r, labels));
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function check(r: Requirement): string | undefined {
  if (!KEY.test(r.key) || r.key.length > 317) return `invalid label key "${r.key}"`;
  const values = 'values' in r ? r.values : 'value' in r ? [r.value] : [];
  for (const value of values) {
    if (value.length > 63 || !VALUE.test(value)) return `invalid label value: "${value}"`;
  }
  return undefined;
}

function matches(r: Requirement, labels: Readonly<Record<string, unknown>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? String(labels[r.key]) : undefined;
  switch (r.op) {
    case 'eq':
      return value === r.value;
    case 'ne':
      return value !== r.value;
    case 'in':
      return value !== undefined && r.values.includes(value);
    case 'notin':
      return value === undefined || !r.values.includes(value);
    case 'exists':
      return has;
    case 'absent':
      return !has;
  }
}
