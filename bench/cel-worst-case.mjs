// Worst-case CEL evaluation times over a 25 MiB webhook payload (issue #4, docs/cel.md "Cost guard").
// Run after a build: `npm run build && node bench/cel-worst-case.mjs`. Prints one line per expression:
// the slowest of several runs, and the outcome (value, or the error the budget produced).
import { compileCel } from '../dist/pipeline/cel.js';

const TARGET_BYTES = 25 * 1024 * 1024;
const RUNS = 3;

/** A GitHub-style push with as many realistic commits as fit in 25 MiB. */
function bigPush() {
  const commits = [];
  let size = 0;
  for (let i = 0; size < TARGET_BYTES; i++) {
    const id = (i.toString(16).padStart(8, '0') + 'a3f1c9e2b7d4058e6f1a2b3c4d5e6f708192').slice(0, 40);
    const commit = {
      id,
      message: `Fix flaky test number ${i} in the build pipeline\n\nSigned-off-by: Dev ${i % 97} <dev${i % 97}@example.com>`,
      timestamp: '2024-05-01T12:00:00Z',
      author: { name: `Dev ${i % 97}`, email: `dev${i % 97}@example.com`, username: `dev${i % 97}` },
      added: [`src/feature${i}/new_file.ts`],
      removed: [],
      modified: [`src/module${i % 50}/index.ts`, `test/module${i % 50}/index.test.ts`, 'package.json'],
    };
    size += JSON.stringify(commit).length + 1;
    commits.push(commit);
  }
  return { ref: 'refs/heads/main', before: '0'.repeat(40), after: 'f'.repeat(40), commits };
}

const push = bigPush();
const text = JSON.stringify(push);
// Parsed from JSON text, as a webhook body is: a flat string, not a rope.
const big = JSON.parse(
  JSON.stringify({
    ref: 'refs/heads/main',
    huge: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '
      .repeat(Math.ceil(TARGET_BYTES / 57))
      .slice(0, TARGET_BYTES),
  }),
);

const CASES = [
  ['push', 'realistic', "body.commits.exists(c, c.message.contains('[skip ci]'))"],
  ['push', 'realistic', "body.commits.exists(c, c.modified.exists(f, f.startsWith('docs/')))"],
  ['push', 'realistic', "body.commits.all(c, c.author.email.endsWith('@example.com'))"],
  ['push', 'realistic', "body.commits.map(c, c.modified).flatten().filter(f, f.endsWith('.go')).size() == 0"],
  ['push', 'realistic', "body.commits.filter(c, c.id.matches('^[0-9a-f]{40}$')).size() > 0"],
  ['push', 'realistic', 'body.commits.map(c, c.id.truncate(7)).distinct().size()'],
  ['push', 'realistic', "sets.intersects(body.commits.map(c, c.author.username), ['dev1', 'bot'])"],
  ['push', 'realistic', 'body.commits.size() > 0 && body.commits[0].author.name != ""'],
  ['push', 'heavy', 'body.marshalJSON().size()'],
  ['push', 'heavy', 'json.encode(body.commits).size()'],
  ['push', 'heavy', 'body.commits.map(c, c.modified.map(f, f.split("/"))).size()'],
  ['big string', 'heavy', "body.huge.contains('[skip ci]')"],
  ['big string', 'heavy', "body.huge.matches('skip ci$')"],
  ['big string', 'heavy', 'size(body.huge)'],
  ['big string', 'heavy', "body.huge.lowerAscii().translate('[^a-z0-9]+', '-').size()"],
  ['big string', 'heavy', "body.huge.split(' ').size()"],
  ['big string', 'heavy', "body.huge.replace('a', 'b').size()"],
  ['big string', 'heavy', 'body.huge.reverse().size()'],
  ['big string', 'heavy', 'strings.quote(body.huge).size()'],
  ['big string', 'heavy', "body.huge.split(' ').join('-').size()"],
  ['big string', 'heavy', 'body.huge.trim().size()'],
  ['big string', 'heavy', 'body.huge.format([]).size()'],
  ['big string', 'heavy', 'base64.encode(bytes(body.huge)).size()'],
  [
    'push',
    'adversarial',
    'body.commits.exists(a, body.commits.exists(b, a.id == b.id && a.message != b.message))',
  ],
  ['push', 'adversarial', 'body.commits.map(a, body.commits.filter(b, b.id == a.id)).size()'],
  ['push', 'adversarial', 'lists.range(100000000).size()'],
  ['big string', 'adversarial', "body.huge.translate('(a|b|c|d|e|f|g)+(h|i|j)*x', '$1')"],
];

console.log(
  `payload: ${(text.length / 1024 / 1024).toFixed(1)} MiB, ${push.commits.length} commits; node ${process.version}`,
);
let t0 = performance.now();
JSON.parse(text);
console.log(`(for scale) JSON.parse of the payload: ${(performance.now() - t0).toFixed(0)} ms`);

for (const [payload, kind, source] of CASES) {
  const compiled = compileCel(source);
  if (!compiled.ok) {
    console.log(`${kind.padEnd(11)} load error: ${compiled.error}  ← ${source}`);
    continue;
  }
  let worst = 0;
  let outcome;
  for (let i = 0; i < RUNS; i++) {
    // A fresh body object per run: the per-webhook budget is keyed on the body, and each run is its own webhook.
    const body = { ...(payload === 'push' ? push : big) };
    const input = { body, header: {}, requestURL: '/', extensions: {}, secrets: () => undefined };
    t0 = performance.now();
    outcome = compiled.program.evaluate(input);
    worst = Math.max(worst, performance.now() - t0);
  }
  const shown = outcome.ok
    ? `= ${JSON.stringify(outcome.value).slice(0, 40)}`
    : `error: ${outcome.error.slice(0, 60)}`;
  console.log(`${kind.padEnd(11)} ${worst.toFixed(0).padStart(6)} ms  ${source}  ${shown}`);
}
