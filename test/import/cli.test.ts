// `node dist/main.js import …` as users run it: exit 0 when complete, 3 when items were left out (stdout
// still validates), 1 for unreadable or invalid input, 2 for usage errors. Needs `npm run build` first.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

const fixture = (name: string) => `test/fixtures/import/${name}`;
const golden = (name: string) => readFileSync(join(repoRoot, 'test/golden/import', name), 'utf8');

/** Runs `validate` on text, as a user would on the saved output. */
async function validates(text: string): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'import-')), 'routes.yaml');
  writeFileSync(file, text);
  const result = await cli(['validate', file]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

describe('tekton-gateway import', () => {
  it('exit 0: a complete import prints the routes.yaml and a report ending "nothing left out"', async () => {
    const result = await cli(['import', fixture('gitlab-flask-app.yaml')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(golden('gitlab-flask-app.routes.yaml'));
    expect(result.stderr).toMatch(
      /import: 3 routes, 3 triggers, 3 bindings, 3 templates; nothing left out\n$/,
    );
    await validates(result.stdout);
  });

  it('several files make one routes.yaml; - reads stdin', async () => {
    const gitea = readFileSync(join(repoRoot, fixture('gitea-static.yaml')));
    const result = await cli(['import', fixture('github-push.yaml'), '-'], { stdin: gitea });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('- path: /build-deploy-pipeline-listener');
    expect(result.stdout).toContain('- path: /gitea-event-listener');
    await validates(result.stdout);
  });

  it('exit 3: each item left out is on stderr with its source object and a suggestion; stdout validates', async () => {
    const result = await cli(['import', fixture('unsupported.yaml')]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe(golden('unsupported.routes.yaml'));
    await validates(result.stdout);
    const items = result.stderr.split('\n').filter((l) => l.startsWith('left-out: '));
    const where = (trigger: string, line: number) =>
      `left-out: EventListener ci/everything, trigger ${trigger} (${fixture('unsupported.yaml')}:${line}): `;
    expect(items.map((l) => l.slice(0, l.indexOf('): ') + 3))).toEqual([
      `left-out: EventListener ci/everything (${fixture('unsupported.yaml')}:3): `,
      `left-out: EventListener ci/everything (${fixture('unsupported.yaml')}:3): `,
      where('webhook-check', 11),
      where('custom-check', 16),
      where('owners-only', 21),
      where('changed-files', 30),
    ]);
    for (const topic of [
      'cloudEventURI',
      'namespaceSelector',
      'webhook',
      'custom ClusterInterceptor',
      'githubOwners',
      'addChangedFiles',
    ]) {
      expect(
        items.some((l) => l.includes(topic)),
        topic,
      ).toBe(true);
    }
    // Every left-out line is followed by its suggestion.
    const lines = result.stderr.split('\n');
    lines.forEach((l, i) => {
      if (l.startsWith('left-out: ')) expect(lines[i + 1]).toMatch(/^ {2}suggestion: \S/);
    });
    expect(result.stderr).toMatch(/6 items left out \(exit code 3\)\n$/);
  });

  it.each([
    {
      name: 'a missing file',
      args: ['import', 'test/fixtures/import/nope.yaml'],
      stderr: /cannot read test\/fixtures\/import\/nope\.yaml: ENOENT/,
    },
    {
      name: 'YAML that does not parse',
      stdin: 'kind: EventListener\nspec: [\n',
      args: ['import', '-'],
      stderr: /^\(stdin\):\d+:\d+: /m,
    },
    {
      name: 'no EventListener',
      stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n',
      args: ['import', '-'],
      stderr: /no EventListener/,
    },
  ])('exit 1: $name', async ({ args, stdin, stderr }) => {
    const result = await cli(args, { stdin });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(stderr);
  });

  it.each([
    { name: 'no FILE', args: ['import'], stderr: /"import" needs at least 1 FILE/ },
    {
      name: 'an unknown flag',
      args: ['import', '--output', 'x', fixture('github-push.yaml')],
      stderr: /unknown flag --output/,
    },
  ])('exit 2: $name', async ({ args, stderr }) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(stderr);
  });
});
