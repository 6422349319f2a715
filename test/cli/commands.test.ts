// The CLI contract (§7) through the built binary: flags, output formats and exit codes 0/1/2.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/spec.js';
import { parseYaml } from '../../src/yaml.js';
import { cli } from '../helpers/cli.js';
import { routesFile } from '../helpers/gateway.js';
import { repoRoot } from '../helpers/shared.js';

const example = join(repoRoot, 'routes.yaml');
const delivery = (file: string) => join(repoRoot, 'examples/deliveries', file);

describe('tekton-gateway (no command, help, unknown command)', () => {
  it('lists the commands and exits 2 without one', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.name);
  });

  it('--help exits 0', async () => {
    expect((await cli(['--help'])).code).toBe(0);
  });

  it('an unknown command is a usage error', async () => {
    const r = await cli(['deploy']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "deploy"');
  });

  it.each(COMMANDS.map((c) => [c.name]))('%s --help lists every flag and exits 0', async (name) => {
    const r = await cli([name, '--help']);
    expect(r.code).toBe(0);
    for (const flag of COMMANDS.find((c) => c.name === name)!.flags)
      expect(r.stdout).toContain(`--${flag.name}`);
  });

  it.each([
    ['validate', ['--nope', 'routes.yaml'], 'unknown flag --nope'],
    ['render', ['--routes', 'routes.yaml'], '--path PATH is required'],
    [
      'render',
      ['--routes', 'routes.yaml', '--path', '/x', '--body', 'f', '-o', 'xml'],
      '--output must be one of yaml, json',
    ],
    ['serve', ['--port', 'eighty', '--dry-run'], '--port must be a whole number'],
    ['validate', [], 'needs at least 1 FILE'],
    ['routes', ['extra'], 'takes no arguments'],
  ])('%s %j is a usage error (exit 2)', async (name, args, message) => {
    const r = await cli([name, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(`Usage: tekton-gateway ${name}`);
  });
});

describe('validate', () => {
  it('prints FILE: ok and exits 0 for the example', async () => {
    const r = await cli(['validate', 'routes.yaml']);
    expect(r).toMatchObject({ code: 0, stdout: 'routes.yaml: ok\n', stderr: '' });
  });

  it('prints every problem on stderr with FILE as given and exits 1', async () => {
    const bad = routesFile('apiVersion: tekton-gateway/v1\nrotes: []\n');
    const r = await cli(['validate', 'routes.yaml', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('routes.yaml: ok\n');
    expect(r.stderr.trim().split('\n')).toEqual([
      `${bad}:1:1: routes: is required`,
      `${bad}:2:1: rotes: unknown key (did you mean "routes"?); allowed: apiVersion, gateway, bindings, templates, routes, schedules`,
    ]);
  });

  it('checks secret files with --secrets-dir (or SECRETS_DIR), naming the file', async () => {
    const r = await cli(['validate', '--secrets-dir', '/nonexistent', 'routes.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('secret file /nonexistent/gitlab-webhook/token does not exist');
    const env = await cli(['validate', 'routes.yaml'], {
      env: { SECRETS_DIR: join(repoRoot, 'test/fixtures/secrets') },
    });
    expect(env.code).toBe(0);
  });
});

describe('render', () => {
  const tagPush = [
    'render',
    '--routes',
    example,
    '--path',
    '/gitlab',
    '-H',
    'X-Gitlab-Event: Tag Push Hook',
    '--body',
    delivery('gitlab-tag-push.json'),
  ];

  it('prints the objects as YAML (default) and what did not render on stderr; exit 0', async () => {
    const r = await cli(tagPush);
    expect(r.code).toBe(0);
    const run = parseYaml(r.stdout) as { kind: string; spec: { params: { name: string; value: string }[] } };
    expect(run.kind).toBe('PipelineRun');
    expect(run.spec.params).toContainEqual({ name: 'imageTag', value: '1.1.0' });
    expect(r.stderr).toContain('# dev-push: skipped: event type "Tag Push Hook" is not in [Push Hook]');
  });

  it('-o json prints the HTTP answer serve would give, plus "status"', async () => {
    const r = await cli([...tagPush, '-o', 'json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      status: number;
      route: string;
      eventId: string;
      triggers: { outcome: string }[];
    };
    expect(json.status).toBe(200);
    expect(json.route).toBe('/gitlab');
    expect(json.triggers.map((t) => t.outcome)).toEqual(['skipped', 'rendered', 'skipped']);
  });

  it('--explain shows each expression result and each param on stderr', async () => {
    const r = await cli([...tagPush, '--explain']);
    expect(r.stderr).toContain(`[tag-push] overlay body.ref.split('/')[2].replace('v', '') → "1.1.0"`);
    expect(r.stderr).toContain('[tag-push] param imageTag = "1.1.0" (binding)');
    expect(r.stderr).toContain('[tag-push] param argocdApplicationName = "" (default)');
  });

  it('reads the body from stdin with --body - and does not check signatures', async () => {
    const body = readFileSync(delivery('gitlab-push-dev.json'));
    const r = await cli(
      [
        'render',
        '--routes',
        example,
        '--path',
        '/gitlab',
        '-H',
        'X-Gitlab-Event: Push Hook',
        '--body',
        '-',
        '-o',
        'json',
      ],
      { stdin: body },
    );
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { triggers: { outcome: string }[] }).triggers[0]!.outcome).toBe(
      'rendered',
    );
  });

  it('a failing trigger still exits 0 (it ran) and shows the status serve would answer', async () => {
    const yaml = `apiVersion: tekton-gateway/v1
routes:
  - path: /x
    provider: none
    triggers:
      - name: t
        bindings: [{name: sha, value: $(body.missing)}]
        template:
          params: [{name: sha}]
          resourcetemplates: [{apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: t-}}]
`;
    const r = await cli(
      ['render', '--routes', routesFile(yaml), '--path', '/x', '--body', '-', '-o', 'json'],
      { stdin: '{}' },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 422,
      triggers: [{ name: 't', outcome: 'failed', retryable: false }],
    });
  });

  it.each([
    [
      'a path no route matches',
      ['--path', '/nope', '--body', delivery('gitlab-tag-push.json')],
      'no route for path /nope',
    ],
    [
      'an unreadable body file',
      ['--path', '/gitlab', '--body', '/nonexistent.json'],
      'cannot read --body /nonexistent.json: ENOENT',
    ],
    [
      'a body that is not JSON',
      ['--path', '/gitlab', '--body', join(repoRoot, 'README.md')],
      'would be rejected with HTTP 400',
    ],
  ])('exits 1 for %s', async (_n, args, message) => {
    const r = await cli(['render', '--routes', example, ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
  });

  it('exits 1 with the problems when routes.yaml does not load', async () => {
    const r = await cli([
      'render',
      '--routes',
      routesFile('apiVersion: nope\n'),
      '--path',
      '/x',
      '--body',
      '-',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apiVersion: must be one of tekton-gateway/v1');
  });
});

describe('routes', () => {
  it("prints each route, its triggers and each template's params", async () => {
    const r = await cli(['routes', '--routes', example]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '/gitlab  (gitlab events [Push Hook, Tag Push Hook, Merge Request Hook], dedupe auto)',
    );
    expect(r.stdout).toContain('  trigger tag-push → template build-image in namespace flask-app');
    expect(r.stdout).toContain('    param imageTag = $(extensions.imageTag) (default "latest")');
    expect(r.stdout).toContain('    param argocdApplicationName (default "")');
  });

  it('reads ROUTES_FILE when --routes is not given', async () => {
    const r = await cli(['routes'], { env: { ROUTES_FILE: example } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('/github');
  });
});

describe('serve', () => {
  it('exits 1 with a clear message when no cluster is configured and --dry-run is not set', async () => {
    const r = await cli(
      ['serve', '--routes', example, '--secrets-dir', join(repoRoot, 'test/fixtures/secrets')],
      {
        env: { HOME: '/nonexistent' },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/KUBECONFIG/);
    expect(r.stderr).toMatch(/--dry-run/);
  });

  it('exits 1 naming the missing secret file', async () => {
    const r = await cli(['serve', '--dry-run', '--routes', example, '--secrets-dir', '/nonexistent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('secret file /nonexistent/github-webhook/secretkey does not exist');
  });
});
