// routes.yaml's v2 keys for following runs (contract §12.1–§12.3, §12.0 items 1, 4, 6, 7): precedence,
// defaults and load errors with LINE:COL.
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';

const run = `{apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: b-}, spec: {pipelineRef: {name: b}}}`;

function routes(route: string, trigger: string, gateway = '') {
  return `apiVersion: tekton-gateway/v1
gateway: {name: gw${gateway}}
routes:
  - path: /hook
    provider: github
    secretRef: {secretName: s, secretKey: k}
${route}
    triggers:
      - name: t
        template: {resourcetemplates: [${run}]}
${trigger}
      - name: u
        template: {resourcetemplates: [${run}]}
`;
}

function load(text: string, statusOrigins?: string[]) {
  return loadConfigBytes(Buffer.from(text), 'routes.yaml', { statusOrigins });
}

function config(text: string, statusOrigins?: string[]) {
  const loaded = load(text, statusOrigins);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return loaded.config;
}

function problems(text: string, statusOrigins?: string[]) {
  const loaded = load(text, statusOrigins);
  if (loaded.ok) throw new Error('loaded');
  return loaded.problems;
}

describe('keep precedence (§12.0 item 6)', () => {
  it('trigger, then route, then gateway; false turns an inherited keep off', () => {
    const c = config(routes('    keep: 4', '        keep: {successful: 2, failed: 1}', ', keep: 9'));
    expect(c.routes[0]!.triggers[0]!.keep).toEqual({ successful: 2, failed: 1 });
    expect(c.routes[0]!.triggers[1]!.keep).toEqual({ total: 4 });
    const g = config(routes('', '        keep: false', ', keep: 9'));
    expect(g.routes[0]!.triggers[0]!.keep).toBeUndefined();
    expect(g.routes[0]!.triggers[1]!.keep).toEqual({ total: 9 });
  });

  it('keep below 1 is a load error with its location', () => {
    expect(problems(routes('', '        keep: 0'))).toEqual([
      'routes.yaml:11:15: routes[0].triggers[0].keep: must be at least 1',
    ]);
  });
});

describe('concurrency (§12.3)', () => {
  it('compiles the key; limit with cancelInProgress must be 1; limit below 1 and a broken key are load errors', () => {
    const c = config(
      routes(
        '',
        '        concurrency: {key: "$(body.repository.full_name)#$(body.number)", cancelInProgress: true}',
      ),
    );
    expect(c.routes[0]!.triggers[0]!.concurrency).toMatchObject({ cancelInProgress: true, limit: undefined });
    expect(problems(routes('', '        concurrency: {key: x, cancelInProgress: true, limit: 2}'))).toEqual([
      'routes.yaml:11:62: routes[0].triggers[0].concurrency.limit: with cancelInProgress, limit must be 1 (§12.0 item 7)',
    ]);
    expect(problems(routes('', '        concurrency: {key: x, limit: 0}'))[0]).toMatch(
      /concurrency\.limit: must be at least 1/,
    );
    expect(problems(routes('', '        concurrency: {key: "$({.a)"}'))[0]).toMatch(
      /^routes\.yaml:11:\d+: routes\[0\]\.triggers\[0\]\.concurrency\.key: /,
    );
  });
});

describe('status (§12.1, §12.0 item 4)', () => {
  const token = 'tokenRef: {secretName: gh-status, secretKey: token}';

  it('github defaults its API root; the trigger’s status replaces the route’s; false turns it off', () => {
    const c = config(routes(`    status: {${token}}`, '        status: false'));
    expect(c.routes[0]!.triggers[0]!.status).toBeUndefined();
    expect(c.routes[0]!.triggers[1]!.status).toMatchObject({
      host: 'github',
      apiURL: 'https://api.github.com',
    });
  });

  it('a status credential that is also a webhook secret (secretRef or compareSecret) is a load error at its LINE:COL', () => {
    // The route's own secretRef is {s, k}.
    expect(problems(routes('    status: {tokenRef: {secretName: s, secretKey: k}}', ''))).toEqual([
      expect.stringMatching(
        /^routes\.yaml:7:\d+: routes\[0\]\.status\.tokenRef: Secret s key k also verifies webhooks/,
      ),
    ]);
    // A trigger's compareSecret names another file; a trigger's App key may not be that one either.
    const viaCompare = routes(
      '',
      `        filter: "header.canonical('X-Token').compareSecret('token', 'probe-token')"
        status: {app: {id: 1, privateKeyRef: {secretName: probe-token, secretKey: token}}}`,
    );
    expect(problems(viaCompare)).toEqual([
      expect.stringMatching(
        /routes\[0\]\.triggers\[0\]\.status\.app\.privateKeyRef: Secret probe-token key token also verifies webhooks/,
      ),
    ]);
    // A Secret of its own loads.
    expect(config(routes(`    status: {${token}}`, '')).routes[0]!.triggers[0]!.status).toBeDefined();
  });

  it.each([
    {
      name: 'no credentials',
      status: '{apiURL: "https://api.github.com"}',
      message: /needs exactly one of tokenRef/,
    },
    {
      name: 'an origin not listed',
      status: `{${token}, apiURL: "https://evil.example/api"}`,
      message: /https:\/\/evil\.example is not in --status-api-origins/,
    },
    {
      name: 'flavor on github',
      status: `{${token}, flavor: cloud}`,
      message: /flavor: is only for provider bitbucket/,
    },
  ])('$name → a load error', ({ status, message }) => {
    const found = problems(routes(`    status: ${status}`, ''), ['https://api.github.com']);
    expect(found.join('\n')).toMatch(message);
    expect(found[0]).toMatch(/^routes\.yaml:\d+:\d+: routes\[0\]\.status/);
  });

  it('status on provider none is a load error', () => {
    const text = routes(`    status: {${token}}`, '').replace(
      'provider: github\n    secretRef: {secretName: s, secretKey: k}',
      'provider: none',
    );
    expect(problems(text).join('\n')).toMatch(/provider none has no commit status API/);
  });

  it('a self-hosted Gitea needs apiURL; Bitbucket needs a link and a flavor', () => {
    const gitea = routes(`    status: {${token}}`, '').replace('provider: github', 'provider: gitea');
    expect(problems(gitea).join('\n')).toMatch(/needs apiURL: gitea has no public default/);
    const bitbucket = routes(`    status: {${token}}`, '').replace('provider: github', 'provider: bitbucket');
    const found = problems(bitbucket).join('\n');
    expect(found).toMatch(/needs status.flavor: cloud or datacenter/);
    expect(found).toMatch(/Bitbucket requires a link/);
  });

  it('status on a trigger whose template renders no run is a load error (§12.0 item 1)', () => {
    const text = `apiVersion: tekton-gateway/v1
gateway: {kinds: [PipelineRun, {apiVersion: batch/v1, kind: Job, plural: jobs}]}
routes:
  - path: /hook
    provider: github
    secretRef: {secretName: s, secretKey: k}
    triggers:
      - name: t
        keep: 3
        template: {resourcetemplates: [{apiVersion: batch/v1, kind: Job, metadata: {generateName: j-}}]}
`;
    expect(problems(text)).toEqual([
      'routes.yaml:8:9: routes[0].triggers[0]: keep needs a template that renders a tekton.dev PipelineRun or TaskRun (§12.0 item 1)',
    ]);
  });
});
