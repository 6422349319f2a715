// The repository stands alone (issue #12): a fresh clone passes `npm ci && npm test` with nothing beside
// it, and no doc, comment or message points at a file outside it. The reference folder the project was
// started from sat next to the clone; these tests fail if anything reaches for it again.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/shared.js';

const SELF = path.relative(repoRoot, new URL(import.meta.url).pathname);

/** Folders that are not the project's text: installed, built or generated locally (all gitignored). */
const NOT_OURS = new Set(['node_modules', 'dist', 'coverage', '.git', '.tools', '.bench-tmp']);

/**
 * Recorded bench results keep the text the bench wrote at the time, paths included; BENCHMARKS.md says so.
 * They are data, never read by a test or by the bench.
 */
const HISTORIC = /^bench\/results\/.*\.json$/;

function files(dir = ''): string[] {
  return readdirSync(path.join(repoRoot, dir)).flatMap((name) => {
    if (NOT_OURS.has(name)) return [];
    const rel = dir ? `${dir}/${name}` : name;
    return statSync(path.join(repoRoot, rel)).isDirectory() ? files(rel) : [rel];
  });
}

const TEXT = /\.(ts|mjs|js|json|ya?ml|md|tpl|txt|sh)$|^Dockerfile$|^\.ci\/run$|(^|\/)\.[a-z]+ignore$/;
const ours = files().filter((f) => TEXT.test(path.basename(f)) || TEXT.test(f));
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

/** Every line of `files` matching `pattern`, as `file:line: text`. */
function lines(candidates: readonly string[], pattern: RegExp): string[] {
  return candidates.flatMap((file) =>
    read(file)
      .split('\n')
      .flatMap((text, i) => (pattern.test(text) ? [`${file}:${i + 1}: ${text.trim()}`] : [])),
  );
}

// Spelled in pieces so that this file does not match itself.
const SIBLING = ['sha', 'red'].join('');
const OUTSIDE = [
  new RegExp(String.raw`\.\./(\.\./)*${SIBLING}\b`),
  new RegExp(String.raw`(^|[\s(\`'"])${SIBLING}/(reference|spec|vectors|fixtures|guide|hooks)\b`),
  new RegExp(['seed', 'scenarios\\.md'].join('-')),
  new RegExp(['contract', 'md'].join('\\.')),
];

describe('the repository stands alone', () => {
  it('finds the files to check', () => {
    expect(ours).toEqual(
      expect.arrayContaining(['README.md', 'routes.yaml', 'src/main.ts', 'docs/install.md']),
    );
    expect(ours.filter((f) => f.startsWith('test/fixtures/payloads/')).length).toBeGreaterThan(10);
  });

  it('nothing refers to the reference folder beside the clone', () => {
    const checked = ours.filter((f) => f !== SELF && !HISTORIC.test(f));
    expect(OUTSIDE.flatMap((pattern) => lines(checked, pattern))).toEqual([]);
  });

  it('docs and the example routes.yaml cite no document users do not have (the contract, its §)', () => {
    const docs = ours.filter((f) => /\.md$/.test(f) || f === 'routes.yaml' || f.startsWith('helm/'));
    expect(lines(docs, /\bcontract\b|§\d/i)).toEqual([]);
  });

  it('every payload and vector the tests read is in the repository, with its licence and source', () => {
    const readme = read('test/fixtures/README.md');
    expect(read('test/fixtures/payloads/LICENSE')).toMatch(
      /MIT License[\s\S]*Copyright \(c\) 2015 Dean Karn/,
    );
    for (const file of ours.filter((f) => /^test\/fixtures\/(payloads|vectors)\/.*\.json$/.test(f))) {
      expect(readme, file).toContain(`\`${path.basename(file)}\``);
    }
  });
});

/** Every curl command in a Markdown file, with its continuation lines joined. */
function curls(file: string): string[] {
  return read(file)
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .flatMap((line) => [...line.matchAll(/\bcurl\s[^\n`]*/g)].map((m) => `${file}: ${m[0]}`));
}

describe('curl examples in the docs send what the gateway expects', () => {
  const examples = ours.filter((f) => f.endsWith('.md')).flatMap(curls);

  it('finds the examples', () => {
    expect(examples.filter((c) => c.includes('--data-binary @')).length).toBeGreaterThanOrEqual(3);
  });

  it('none sends a form body (-d, --data, --data-raw, --data-urlencode, -F)', () => {
    expect(
      examples.filter((c) => /\s(-d|--data|--data-raw|--data-urlencode|-F|--form)(\s|=|$)/.test(c)),
    ).toEqual([]);
  });

  it('every one that sends a file sends it as JSON, byte for byte', () => {
    const files = examples.filter((c) => /--data-binary\s+@/.test(c));
    expect(files.filter((c) => !c.includes("-H 'Content-Type: application/json'"))).toEqual([]);
  });
});
