// The import rules of contract §7 and docs/migrating.md, one behaviour per test: what each Tekton shape
// becomes, what is reported, and that the output always loads.
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import { importTekton } from '../../src/import/convert.js';
import type { Finding } from '../../src/import/findings.js';
import type { Config, JsonObject, PipelineIO, TriggerOutcome } from '../../src/model.js';
import { handleWebhook } from '../../src/pipeline/handle.js';
import { matchRoute } from '../../src/pipeline/match.js';
import { parseYaml } from '../../src/yaml.js';

interface Imported {
  readonly yaml: string;
  readonly doc: any;
  readonly config: Config;
  readonly findings: readonly Finding[];
  readonly complete: boolean;
}

/** Imports the YAML; the output must load, whatever was left out. */
function run(...files: string[]): Imported {
  const result = importTekton(files.map((text, i) => ({ name: `in${i || ''}.yaml`, text })));
  if (!result.ok) throw new Error(`import failed: ${result.problems.join('\n')}`);
  const loaded = loadConfigBytes(Buffer.from(result.yaml), 'routes.yaml');
  if (!loaded.ok) throw new Error(`output does not load:\n${loaded.problems.join('\n')}\n${result.yaml}`);
  return {
    yaml: result.yaml,
    doc: parseYaml(result.yaml),
    config: loaded.config,
    findings: result.findings,
    complete: result.complete,
  };
}

const leftOut = (r: Imported) => r.findings.filter((f) => f.level === 'left-out');
const warnings = (r: Imported) => r.findings.filter((f) => f.level === 'warning');

const TEMPLATE = `
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: build, namespace: ci}
spec:
  params: [{name: revision}]
  resourcetemplates:
    - apiVersion: tekton.dev/v1
      kind: PipelineRun
      metadata: {generateName: build-}
      spec:
        pipelineRef: {name: build}
        params: [{name: revision, value: $(tt.params.revision)}]
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerBinding
metadata: {name: revision, namespace: ci}
spec:
  params: [{name: revision, value: $(body.after)}]
`;

/** An EventListener in namespace ci with the given trigger list (YAML, indented for spec.triggers). */
const listener = (name: string, triggers: string, extra = '') => `
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: ${name}, namespace: ci}
spec:
${extra}  triggers:
${triggers}
---
${TEMPLATE}`;

const trigger = (name: string, interceptors = '[]') => `    - name: ${name}
      interceptors: ${interceptors}
      bindings: [{ref: revision}]
      template: {ref: build}`;

async function render(config: Config, path: string, headers: Record<string, string>, body: JsonObject) {
  const io: PipelineIO = {
    now: Date.now,
    randomUUID: () => '00000000-0000-4000-8000-000000000002',
    secrets: () => undefined,
    create: undefined,
    serverDryRun: false,
    skipVerify: true,
    deadline: Date.now() + 10_000,
    trace: undefined,
  };
  const lower: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = [v];
  const route = matchRoute(config.routes, path)!;
  const result = await handleWebhook(
    config,
    route,
    { method: 'POST', path, requestURL: path, headers: lower, body: Buffer.from(JSON.stringify(body)) },
    io,
  );
  if (result.kind !== 'processed') throw new Error(result.rejection.message);
  return result.triggers;
}

const outcome = (t: TriggerOutcome) => t.outcome;

describe('interceptors → provider, secretRef, events, filters', () => {
  it.each([
    {
      name: 'github with secretRef and eventTypes → provider github + secretRef + events',
      interceptors: `[{ref: {name: github}, params: [{name: secretRef, value: {secretName: gh, secretKey: token}}, {name: eventTypes, value: [push, pull_request]}]}]`,
      route: {
        provider: 'github',
        secretRef: { secretName: 'gh', secretKey: 'token' },
        events: ['push', 'pull_request'],
      },
    },
    {
      name: 'gitlab with secretRef → provider gitlab',
      interceptors: `[{ref: {name: gitlab}, params: [{name: secretRef, value: {secretName: gl, secretKey: token}}, {name: eventTypes, value: [Push Hook]}]}]`,
      route: {
        provider: 'gitlab',
        secretRef: { secretName: 'gl', secretKey: 'token' },
        events: ['Push Hook'],
      },
    },
    {
      name: 'bitbucket with secretRef → provider bitbucket',
      interceptors: `[{ref: {name: bitbucket}, params: [{name: secretRef, value: {secretName: bb, secretKey: s}}, {name: eventTypes, value: ['repo:push']}]}]`,
      route: {
        provider: 'bitbucket',
        secretRef: { secretName: 'bb', secretKey: 's' },
        events: ['repo:push'],
      },
    },
    {
      name: 'no interceptor → provider none (Tekton checked nothing)',
      interceptors: '[]',
      route: { provider: 'none' },
    },
  ])('$name', ({ interceptors, route }) => {
    const r = run(listener('hooks', trigger('t', interceptors)));
    const { triggers: _, ...got } = r.doc.routes[0];
    expect(got).toEqual({ path: '/hooks', namespace: 'ci', ...route });
    expect(r.complete).toBe(true);
  });

  it('a host interceptor without secretRef → provider none, its eventTypes a header filter, and a warning', async () => {
    const r = run(
      listener(
        'hooks',
        trigger('t', `[{github: {eventTypes: [push]}}, {cel: {filter: "body.ref == 'refs/heads/main'"}}]`),
      ),
    );
    expect(r.doc.routes[0].provider).toBe('none');
    expect(r.doc.routes[0].triggers[0].filter).toEqual([
      "header.canonical('X-Github-Event') in ['push']",
      "body.ref == 'refs/heads/main'",
    ]);
    expect(warnings(r).some((w) => /route \/hooks checks no signature/.test(w.message))).toBe(true);
    const body = { ref: 'refs/heads/main', after: 'abc' };
    expect((await render(r.config, '/hooks', { 'X-GitHub-Event': 'push' }, body)).map(outcome)).toEqual([
      'rendered',
    ]);
    expect((await render(r.config, '/hooks', { 'X-GitHub-Event': 'issues' }, body)).map(outcome)).toEqual([
      'skipped',
    ]);
  });

  it('several filter params are ANDed as a filter list, with a warning that Tekton kept only the last', async () => {
    const r = run(
      listener(
        'hooks',
        trigger(
          't',
          `[{ref: {name: cel}, params: [{name: filter, value: "body.a == 1"}, {name: filter, value: "body.b == 2"}]}]`,
        ),
      ),
    );
    expect(r.doc.routes[0].triggers[0].filter).toEqual(['body.a == 1', 'body.b == 2']);
    expect(warnings(r).some((w) => /2 filter params; Tekton .* only the last/.test(w.message))).toBe(true);
    expect((await render(r.config, '/hooks', {}, { a: 1, b: 2, after: 'x' })).map(outcome)).toEqual([
      'rendered',
    ]);
    expect((await render(r.config, '/hooks', {}, { a: 0, b: 2, after: 'x' })).map(outcome)).toEqual([
      'skipped',
    ]);
  });

  it('`cel:` (v1alpha1) and `ref: {name: cel}` give the same output', () => {
    const inline = run(
      listener(
        'hooks',
        trigger(
          't',
          `[{cel: {filter: "body.a == 1", overlays: [{key: short, expression: "body.after.truncate(7)"}]}}]`,
        ),
      ),
    );
    const ref = run(
      listener(
        'hooks',
        trigger(
          't',
          `[{ref: {name: cel}, params: [{name: filter, value: "body.a == 1"}, {name: overlays, value: [{key: short, expression: "body.after.truncate(7)"}]}]}]`,
        ),
      ),
    );
    expect(inline.yaml).toBe(ref.yaml);
    expect(inline.doc.routes[0].triggers[0]).toMatchObject({
      filter: 'body.a == 1',
      overlays: [{ key: 'short', expression: 'body.after.truncate(7)' }],
    });
  });

  it("3-argument compareSecret is rewritten to Tekton's 2-argument form, with a warning", () => {
    const r = run(
      listener(
        'hooks',
        trigger(
          't',
          `[{cel: {filter: "header.canonical('X-Token').compareSecret('token', 'hook-secret', 'ci')"}}]`,
        ),
      ),
    );
    expect(r.doc.routes[0].triggers[0].filter).toBe(
      "header.canonical('X-Token').compareSecret('token', 'hook-secret')",
    );
    expect(warnings(r).some((w) => /compareSecret with a namespace \('ci'\)/.test(w.message))).toBe(true);
  });

  it('triggers of one listener with different secrets → one route each, the first keeps the path', () => {
    const gh = (secret: string) =>
      `[{ref: {name: github}, params: [{name: secretRef, value: {secretName: ${secret}, secretKey: token}}]}]`;
    const gl = `[{ref: {name: gitlab}, params: [{name: secretRef, value: {secretName: gl, secretKey: token}}]}]`;
    const r = run(
      listener('hooks', [trigger('a', gh('one')), trigger('b', gl), trigger('c', gh('one'))].join('\n')),
    );
    expect(r.doc.routes.map((x: any) => [x.path, x.provider, x.triggers.map((t: any) => t.name)])).toEqual([
      ['/hooks', 'github', ['a', 'c']],
      ['/hooks/gitlab', 'gitlab', ['b']],
    ]);
    expect(warnings(r).some((w) => /moved to route \/hooks\/gitlab/.test(w.message))).toBe(true);
  });
});

describe('what import cannot express: reported with source and suggestion, left out, exit 3, output valid', () => {
  const cases = [
    {
      name: 'webhook interceptor',
      interceptors: '[{webhook: {objectRef: {kind: Service, name: checker, apiVersion: v1}}}]',
      message: /webhook.*Service checker/,
    },
    {
      name: 'custom ClusterInterceptor',
      interceptors: '[{ref: {name: my-check}, params: [{name: x, value: y}]}]',
      message: /custom ClusterInterceptor/,
    },
    {
      name: 'NamespacedInterceptor',
      interceptors: '[{ref: {name: cel, kind: NamespacedInterceptor}}]',
      message: /custom NamespacedInterceptor/,
    },
    {
      name: 'githubOwners',
      interceptors:
        '[{ref: {name: github}, params: [{name: githubOwners, value: {enabled: true, checkType: all}}]}]',
      message: /githubOwners/,
    },
    {
      name: 'slack interceptor',
      interceptors: '[{ref: {name: slack}, params: [{name: requestedFields, value: [text]}]}]',
      message: /Slack/,
    },
    {
      name: 'a filter reading an earlier overlay',
      interceptors:
        '[{cel: {overlays: [{key: x, expression: "body.a"}]}}, {cel: {filter: "extensions.x == \'y\'"}}]',
      message: /reads extensions set by an earlier interceptor/,
    },
  ];

  it.each(cases)('$name: the trigger is left out, the others stay', ({ interceptors, message }) => {
    const r = run(listener('hooks', [trigger('bad', interceptors), trigger('good')].join('\n')));
    expect(r.complete).toBe(false);
    const [finding, ...more] = leftOut(r);
    expect(more).toEqual([]);
    expect(finding!.subject).toBe('EventListener ci/hooks, trigger bad');
    // Points at the trigger's own line, not the listener's.
    expect(finding!.at).toBe('in.yaml:7');
    expect(finding!.message).toMatch(message);
    expect(finding!.suggestion).toBeTruthy();
    expect(r.doc.routes[0].triggers.map((t: any) => t.name)).toEqual(['good']);
    // The output says what it lacks.
    expect(r.yaml).toContain('# Left out (1):\n# - EventListener ci/hooks, trigger bad:');
  });

  it('addChangedFiles: reported; the trigger stays when nothing reads changed_files', () => {
    const r = run(
      listener(
        'hooks',
        trigger(
          't',
          '[{ref: {name: github}, params: [{name: secretRef, value: {secretName: gh, secretKey: k}}, {name: addChangedFiles, value: {enabled: true}}]}]',
        ),
      ),
    );
    expect(leftOut(r).map((f) => f.message)).toEqual([expect.stringMatching(/addChangedFiles/)]);
    expect(r.doc.routes[0].triggers.map((t: any) => t.name)).toEqual(['t']);
  });

  it('addChangedFiles read by a filter: the trigger is left out with an overlay suggestion', () => {
    const r = run(
      listener(
        'hooks',
        [
          trigger(
            't',
            '[{ref: {name: github}, params: [{name: addChangedFiles, value: {enabled: true}}]}, {cel: {filter: "extensions.changed_files.contains(\'src/\')"}}]',
          ),
          trigger('other'),
        ].join('\n'),
      ),
    );
    expect(leftOut(r)).toHaveLength(1);
    expect(leftOut(r)[0]!.message).toMatch(/reads extensions\.changed_files/);
    expect(leftOut(r)[0]!.suggestion).toMatch(/body\.commits/);
    expect(r.doc.routes[0].triggers.map((t: any) => t.name)).toEqual(['other']);
  });

  it('namespaceSelector: resolved once over the given files and reported', () => {
    const r = run(
      listener('hooks', trigger('inline'), '  namespaceSelector: {matchNames: [team-a]}\n'),
      `
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: from-team-a, namespace: team-a}
spec:
  bindings: [{name: revision, value: $(body.after)}]
  template: {ref: build}
`,
      // team-a's template differs from ci's, so both are kept, under <namespace>/<name>.
      TEMPLATE.replaceAll('namespace: ci', 'namespace: team-a').replace(
        'pipelineRef: {name: build}',
        'pipelineRef: {name: build-a}',
      ),
    );
    expect(leftOut(r).map((f) => f.message)).toEqual([
      expect.stringMatching(/namespaceSelector \[team-a\].*from-team-a/),
    ]);
    // Tekton created in the Trigger's namespace, and resolved its template there.
    expect(r.doc.routes[0].triggers.find((t: any) => t.name === 'from-team-a')).toMatchObject({
      namespace: 'team-a',
      template: 'team-a/build',
    });
  });

  it('cloudEventURI is reported; the triggers stay', () => {
    const r = run(listener('hooks', trigger('t'), '  cloudEventURI: http://sink.ci.svc\n'));
    expect(leftOut(r).map((f) => f.message)).toEqual([expect.stringMatching(/cloudEventURI/)]);
    expect(r.doc.routes[0].triggers).toHaveLength(1);
  });

  it.each([
    { name: 'a missing triggerRef', triggers: '    - triggerRef: nowhere', message: /triggerRef nowhere/ },
    {
      name: 'a missing TriggerBinding',
      triggers: '    - {name: t, bindings: [{ref: nope}], template: {ref: build}}',
      message: /binding TriggerBinding nope/,
    },
    {
      name: 'a missing TriggerTemplate',
      triggers: '    - {name: t, bindings: [{ref: revision}], template: {ref: nope}}',
      message: /TriggerTemplate nope/,
    },
    {
      name: 'a required template param no binding sets',
      triggers: '    - {name: t, template: {ref: build}}',
      message: /binds no value for template param revision/,
    },
  ])('$name is reported', ({ triggers, message }) => {
    const result = importTekton([
      { name: 'in.yaml', text: listener('hooks', `${triggers}\n${trigger('ok')}`) },
    ]);
    if (!result.ok) throw new Error(result.problems.join());
    expect(result.complete).toBe(false);
    expect(result.findings.filter((f) => f.level === 'left-out').map((f) => f.message)).toEqual([
      expect.stringMatching(message),
    ]);
  });

  it("what the gateway's loader refuses (a CEL function it lacks) is left out with the loader's message", () => {
    const r = run(
      listener(
        'hooks',
        [trigger('odd', '[{cel: {filter: "body.a.frobnicate()"}}]'), trigger('ok')].join('\n'),
      ),
    );
    expect(leftOut(r).map((f) => [f.subject, f.message])).toEqual([
      [
        'EventListener ci/hooks, trigger odd',
        expect.stringMatching(/the gateway refuses it: routes\[0\]\.triggers\[0\]\.filter: CEL/),
      ],
    ]);
    expect(r.doc.routes[0].triggers.map((t: any) => t.name)).toEqual(['ok']);
  });

  it('nothing importable at all is an error, not an invalid file', () => {
    const result = importTekton([
      { name: 'in.yaml', text: listener('hooks', trigger('bad', '[{webhook: {url: http://x}}]')) },
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatch(/nothing could be imported/);
  });
});

describe('templates and bindings', () => {
  it('$(params.x) stays literal, as Tekton v0.37 leaves it, with a warning suggesting $(tt.params.x)', async () => {
    const text = listener('hooks', trigger('t')).replace(
      'params: [{name: revision, value: $(tt.params.revision)}]',
      'params: [{name: revision, value: $(tt.params.revision)}, {name: old, value: $(params.revision)}]',
    );
    const r = run(text);
    expect(r.doc.templates.build.resourcetemplates[0].spec.params[1]).toEqual({
      name: 'old',
      value: '$(params.revision)',
    });
    expect(warnings(r).map((w) => w.suggestion)).toContain(
      'write $(tt.params.revision) to use the template param',
    );
    expect(r.complete).toBe(true);
    const [t] = await render(r.config, '/hooks', {}, { after: 'abc' });
    if (t?.outcome !== 'rendered') throw new Error(JSON.stringify(t));
    expect((t.objects[0]!.spec as any).params).toEqual([
      { name: 'revision', value: 'abc' },
      { name: 'old', value: '$(params.revision)' },
    ]);
  });

  it('ClusterTriggerBinding refs resolve to the cluster binding, kept apart from a namespaced one of the same name', () => {
    const r = run(
      listener(
        'hooks',
        '    - {name: t, bindings: [{ref: revision, kind: ClusterTriggerBinding}], template: {ref: build}}',
      ),
      `
apiVersion: triggers.tekton.dev/v1alpha1
kind: ClusterTriggerBinding
metadata: {name: revision}
spec:
  params: [{name: revision, value: $(body.head_commit.id)}]
`,
    );
    expect(r.doc.routes[0].triggers[0].bindings).toEqual([{ ref: 'ClusterTriggerBinding/revision' }]);
    expect(r.doc.bindings['ClusterTriggerBinding/revision']).toEqual([
      { name: 'revision', value: '$(body.head_commit.id)' },
    ]);
    expect(r.doc.bindings['ci/revision']).toEqual([{ name: 'revision', value: '$(body.after)' }]);
  });

  it('an inline template and inline binding params stay inline', () => {
    const r = run(
      listener(
        'hooks',
        `    - name: t
      bindings: [{name: revision, value: $(body.after)}]
      template:
        spec:
          params: [{name: revision}]
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: t-}, spec: {params: [{name: r, value: $(tt.params.revision)}]}}`,
      ),
    );
    expect(r.doc.routes[0].triggers[0]).toMatchObject({
      bindings: [{ name: 'revision', value: '$(body.after)' }],
      template: { params: [{ name: 'revision' }], resourcetemplates: [{ kind: 'TaskRun' }] },
    });
  });

  it('a template that creates another kind adds gateway.kinds, with a warning about the guessed plural', () => {
    const r = run(
      listener('hooks', trigger('t')).replace(
        '    - apiVersion: tekton.dev/v1\n      kind: PipelineRun',
        '    - apiVersion: batch/v1\n      kind: Job',
      ),
    );
    expect(r.doc.gateway.kinds).toEqual([
      'PipelineRun',
      'TaskRun',
      { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs' },
    ]);
    expect(warnings(r).some((w) => /plural jobs/.test(w.message))).toBe(true);
  });
});

describe('listeners, Triggers and paths', () => {
  const ingress = (apiVersion: string, paths: string) => `
apiVersion: ${apiVersion}
kind: Ingress
metadata: {name: hooks, namespace: ci}
spec:
  rules:
    - http:
        paths:
${paths}`;

  it.each([
    {
      name: 'networking.k8s.io/v1 service.name',
      ingress: ingress(
        'networking.k8s.io/v1',
        '          - {path: /ci/hooks, pathType: Prefix, backend: {service: {name: el-hooks, port: {number: 8080}}}}',
      ),
      path: '/ci/hooks',
    },
    {
      name: 'extensions/v1beta1 serviceName/servicePort',
      ingress: ingress(
        'extensions/v1beta1',
        '          - {path: /old, backend: {serviceName: el-hooks, servicePort: 8080}}',
      ),
      path: '/old',
    },
    {
      name: 'a trailing slash is dropped',
      ingress: ingress(
        'networking.k8s.io/v1',
        '          - {path: /dev/, pathType: Prefix, backend: {service: {name: el-hooks}}}',
      ),
      path: '/dev',
    },
    {
      name: 'an nginx regex path is cut to its literal prefix',
      ingress: ingress(
        'networking.k8s.io/v1',
        "          - {path: '/ci(/|$)(.*)', pathType: ImplementationSpecific, backend: {service: {name: el-hooks}}}",
      ),
      path: '/ci',
    },
    { name: 'no Ingress → /<listener name>', ingress: '', path: '/hooks' },
  ])('$name', ({ ingress: ing, path }) => {
    const r = run(listener('hooks', trigger('t')), ing);
    expect(r.doc.routes.map((x: any) => x.path)).toEqual([path]);
  });

  it('v1alpha1 and v1beta1 spellings of the same objects import identically', () => {
    const v1alpha1 = `
apiVersion: triggers.tekton.dev/v1alpha1
kind: EventListener
metadata: {name: hooks, namespace: ci}
spec:
  triggers:
    - name: t
      interceptors:
        - github: {secretRef: {secretName: gh, secretKey: token}, eventTypes: [push]}
        - cel: {filter: "body.ref == 'refs/heads/main'"}
      bindings: [{ref: revision}]
      template: {name: build}
`;
    const v1beta1 = `
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: hooks, namespace: ci}
spec:
  triggers:
    - name: t
      interceptors:
        - ref: {name: github, kind: ClusterInterceptor}
          params:
            - {name: secretRef, value: {secretName: gh, secretKey: token}}
            - {name: eventTypes, value: [push]}
        - ref: {name: cel}
          params: [{name: filter, value: "body.ref == 'refs/heads/main'"}]
      bindings: [{ref: revision, kind: TriggerBinding}]
      template: {ref: build}
`;
    const a = run(v1alpha1, TEMPLATE.replaceAll('v1beta1', 'v1alpha1'));
    const b = run(v1beta1, TEMPLATE);
    expect(a.yaml).toBe(b.yaml);
    expect(a.doc.routes[0]).toMatchObject({ provider: 'github', events: ['push'] });
  });

  it('a Trigger keeps its namespace; its serviceAccountName becomes the trigger’s, the listener’s the route’s', () => {
    const r = run(
      listener('hooks', '    - triggerRef: deploy', '  serviceAccountName: el-sa\n'),
      `
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: deploy}
spec:
  serviceAccountName: deployer
  bindings: [{ref: revision}]
  template: {ref: build}
`,
    );
    expect(r.doc.routes[0]).toMatchObject({
      namespace: 'ci',
      serviceAccountName: 'el-sa',
      triggers: [{ name: 'deploy', serviceAccountName: 'deployer' }],
    });
    expect(r.doc.routes[0].triggers[0].namespace).toBeUndefined();
    // The listener's account created the runs of triggers without their own (issue #14): the route
    // impersonates it, and the report says so.
    expect(
      r.findings.some(
        (f) =>
          f.level === 'note' &&
          /el-sa created the runs of every trigger without its own account; the route carries it/.test(
            f.message,
          ),
      ),
    ).toBe(true);
    expect(r.yaml).toContain('    serviceAccountName: el-sa\n');
  });

  it('labelSelector picks the labelled Triggers among the given files, with a warning that it was resolved once', () => {
    const t = (name: string, labels: string) => `
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: ${name}, namespace: ci, labels: ${labels}}
spec:
  bindings: [{ref: revision}]
  template: {ref: build}
`;
    const r = run(
      listener('hooks', '    []', '  labelSelector: {matchLabels: {team: a}}\n').replace(
        '  triggers:\n    []',
        '  triggers: []',
      ),
      [t('yes', '{team: a}'), t('no', '{team: b}')].join('---\n'),
    );
    expect(r.doc.routes[0].triggers.map((x: any) => x.name)).toEqual(['yes']);
    expect(warnings(r).some((w) => /labelSelector was resolved once .*ci\/yes/.test(w.message))).toBe(true);
    expect(r.findings.find((f) => f.subject === 'Trigger ci/no')?.message).toMatch(
      /no EventListener .* runs this Trigger/,
    );
  });

  it("triggerGroups: the group's interceptors run first on each selected Trigger", async () => {
    const r = run(
      listener(
        'hooks',
        '    []',
        `  triggerGroups:
    - name: main-only
      interceptors: [{ref: {name: cel}, params: [{name: filter, value: "body.ref == 'refs/heads/main'"}]}]
      triggerSelector: {labelSelector: {matchLabels: {group: main}}}
`,
      ).replace('  triggers:\n    []', '  triggers: []'),
      `
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: grouped, namespace: ci, labels: {group: main}}
spec:
  interceptors: [{cel: {filter: "body.after != ''"}}]
  bindings: [{ref: revision}]
  template: {ref: build}
`,
    );
    expect(r.doc.routes[0].triggers[0]).toMatchObject({
      name: 'grouped',
      filter: ["body.ref == 'refs/heads/main'", "body.after != ''"],
    });
    expect(
      (await render(r.config, '/hooks', {}, { ref: 'refs/heads/dev', after: 'x' })).map(outcome),
    ).toEqual(['skipped']);
    expect(
      (await render(r.config, '/hooks', {}, { ref: 'refs/heads/main', after: 'x' })).map(outcome),
    ).toEqual(['rendered']);
  });

  it('several listeners behind one Ingress → one route per path; a path another host already uses is reported', () => {
    const r = run(
      listener('one', trigger('a')),
      listener('two', trigger('b')).replace(/---\n[\s\S]*$/, ''),
      `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: hooks, namespace: ci}
spec:
  rules:
    - host: a.example.com
      http: {paths: [{path: /hook, pathType: Prefix, backend: {service: {name: el-one}}}]}
    - host: b.example.com
      http: {paths: [{path: /hook, pathType: Prefix, backend: {service: {name: el-two}}}]}
`,
    );
    expect(r.doc.routes.map((x: any) => [x.path, x.triggers[0].name])).toEqual([
      ['/hook', 'a'],
      ['/two', 'b'],
    ]);
    expect(leftOut(r).map((f) => f.message)).toEqual([
      expect.stringMatching(/also leads to another listener/),
    ]);
  });

  it('a listener without an Ingress never takes a path an Ingress gives another listener, whatever the order', () => {
    const r = run(
      listener('dev', trigger('a')),
      listener('other', trigger('b')).replace(/---\n[\s\S]*$/, ''),
      `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: hooks, namespace: ci}
spec:
  rules:
    - http: {paths: [{path: /dev, pathType: Prefix, backend: {service: {name: el-other}}}]}
`,
    );
    expect(r.doc.routes.map((x: any) => [x.path, x.triggers[0].name])).toEqual([
      ['/dev', 'b'],
      ['/dev-2', 'a'],
    ]);
    expect(r.complete).toBe(true);
  });

  it('reads a kubectl List', () => {
    const r = run(`
apiVersion: v1
kind: List
items:
  - apiVersion: triggers.tekton.dev/v1beta1
    kind: EventListener
    metadata: {name: hooks, namespace: ci}
    spec:
      triggers: [{name: t, bindings: [{ref: revision}], template: {ref: build}}]
---
${TEMPLATE}`);
    expect(r.doc.routes[0].path).toBe('/hooks');
  });
});

describe('input errors', () => {
  it('YAML that does not parse is an error with its location', () => {
    const result = importTekton([{ name: 'bad.yaml', text: 'kind: EventListener\nspec: [unclosed\n' }]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatch(/^bad\.yaml:\d+:\d+: /);
  });

  it('files without an EventListener are an error', () => {
    const result = importTekton([{ name: 'in.yaml', text: TEMPLATE }]);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems).toEqual([
        'no EventListener in the given files: import turns listeners into routes',
      ]);
  });
});
