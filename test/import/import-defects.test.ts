// Import defects of issue #14 that Tekton's examples do not show on their own: same-named Secrets of two
// namespaces, an account impersonated in another namespace, compareSecret secrets, and a template namespace
// bound to different literals. (The others are in tekton-examples.test.ts, on the examples themselves.)
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import { importTekton } from '../../src/import/convert.js';
import { formatFinding } from '../../src/import/findings.js';
import { parseYaml } from '../../src/yaml.js';

function run(text: string) {
  const result = importTekton([{ name: 'in.yaml', text }]);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  const loaded = loadConfigBytes(Buffer.from(result.yaml), 'routes.yaml');
  if (!loaded.ok) throw new Error(`${loaded.problems.join('\n')}\n${result.yaml}`);
  return {
    yaml: result.yaml,
    doc: parseYaml(result.yaml) as any,
    report: result.findings.map(formatFinding).join('\n'),
    complete: result.complete,
  };
}

const template = (ns: string, namespaceLine = '') => `
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: build, namespace: ${ns}}
spec:
  params: [{name: revision}, {name: target, default: unused}]
  resourcetemplates:
    - apiVersion: tekton.dev/v1
      kind: PipelineRun
      metadata: {generateName: build-${namespaceLine}}
      spec:
        params: [{name: revision, value: $(tt.params.revision)}]
`;

const githubListener = (ns: string, extra = '', triggerExtra = '') => `
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: hooks, namespace: ${ns}}
spec:
${extra}  triggers:
    - name: build
      interceptors:
        - ref: {name: github}
          params:
            - {name: secretRef, value: {secretName: github-secret, secretKey: token}}
            - {name: eventTypes, value: [push]}
${triggerExtra}      bindings: [{name: revision, value: $(body.after)}]
      template: {ref: build}
`;

describe('same-named Secrets in different namespaces', () => {
  it('each (namespace, name) gets its own secretName, and the report says which Secret to copy where', () => {
    const r = run(
      [githubListener('team-a'), template('team-a'), githubListener('team-b'), template('team-b')].join(
        '\n---\n',
      ),
    );
    const refs = r.doc.routes.map((x: any) => [x.namespace, x.secretRef.secretName]);
    expect(refs).toEqual(
      expect.arrayContaining([
        ['team-a', 'team-a-github-secret'],
        ['team-b', 'team-b-github-secret'],
      ]),
    );
    expect(r.report).toContain(
      'warning: Secret team-b/github-secret: another namespace has a Secret named github-secret too, and the secrets directory has no namespaces: this one is secretName team-b-github-secret in the output, read from $SECRETS_DIR/team-b-github-secret/token\n  suggestion: copy Secret team-b/github-secret into a Secret named team-b-github-secret',
    );
    expect(r.report).toContain('copy Secret team-a/github-secret into a Secret named team-a-github-secret');
  });

  it('one namespace keeps the name as it is', () => {
    const r = run([githubListener('team-a'), template('team-a')].join('\n---\n'));
    expect(r.doc.routes[0].secretRef.secretName).toBe('github-secret');
    expect(r.report).toContain(
      'note: Secret team-a/github-secret: the gateway reads key token from $SECRETS_DIR/github-secret/token',
    );
  });
});

describe('the account impersonated where the objects land', () => {
  it('warns when a literal template namespace differs from the one Tekton impersonated in', () => {
    const r = run(
      [
        githubListener('ci', '', '      serviceAccountName: builder\n'),
        template('ci', ', namespace: prod'),
      ].join('\n---\n'),
    );
    expect(r.doc.routes[0].triggers[0].serviceAccountName).toBe('builder');
    expect(r.report).toContain(
      'Tekton created its objects in prod as system:serviceaccount:ci:builder; the gateway impersonates the account of the namespace it creates in, system:serviceaccount:prod:builder, a different account',
    );
    expect(r.report).toContain('create service account builder in prod');
  });

  it('the listener’s account, inherited by the route, is checked the same way', () => {
    const r = run(
      [githubListener('ci', '  serviceAccountName: el-sa\n'), template('ci', ', namespace: prod')].join(
        '\n---\n',
      ),
    );
    expect(r.doc.routes[0].serviceAccountName).toBe('el-sa');
    expect(r.report).toContain('system:serviceaccount:ci:el-sa; the gateway impersonates');
  });

  it('says nothing when the objects land where the account lives', () => {
    const r = run([githubListener('ci', '  serviceAccountName: el-sa\n'), template('ci')].join('\n---\n'));
    expect(r.report).not.toContain('a different account');
  });
});

describe('compareSecret secrets', () => {
  it('are named in the report with the file the gateway reads', () => {
    const listener = `
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: hooks, namespace: ci}
spec:
  triggers:
    - name: build
      interceptors:
        - ref: {name: cel}
          params:
            - name: filter
              value: "header.canonical('X-Token').compareSecret('token', 'ci-token', 'ci')"
      bindings: [{name: revision, value: $(body.after)}]
      template: {ref: build}
`;
    const r = run([listener, template('ci')].join('\n---\n'));
    expect(r.doc.routes[0].triggers[0].filter).toBe(
      "header.canonical('X-Token').compareSecret('token', 'ci-token')",
    );
    expect(r.report).toContain(
      'warning: Secret ci/ci-token: compareSecret in trigger build (route /hooks) reads key token; the gateway reads it from $SECRETS_DIR/ci-token/token, and without it every delivery is answered 422',
    );
  });
});

describe('a template namespace bound to a literal', () => {
  const tt = `
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: deploy, namespace: ci}
spec:
  params: [{name: ns}]
  resourcetemplates:
    - apiVersion: tekton.dev/v1
      kind: PipelineRun
      metadata: {generateName: deploy-, namespace: $(tt.params.ns)}
`;
  const el = (a: string, b: string) => `
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: hooks, namespace: ci}
spec:
  triggers:
    - name: to-a
      bindings: [{name: ns, value: "${a}"}]
      template: {ref: deploy}
    - name: to-b
      bindings: [{name: ns, value: "${b}"}]
      template: {ref: deploy}
`;

  it('different literals move to each trigger’s namespace', () => {
    const r = run([el('staging', 'prod'), tt].join('\n---\n'));
    expect(r.complete).toBe(true);
    expect(r.doc.templates.deploy.resourcetemplates[0].metadata).toEqual({ generateName: 'deploy-' });
    expect(r.doc.routes[0].triggers.map((t: any) => t.namespace)).toEqual(['staging', 'prod']);
  });

  it('a value from the payload stays refused, with a precise suggestion', () => {
    const result = importTekton([{ name: 'in.yaml', text: [el('$(body.ns)', 'prod'), tt].join('\n---\n') }]);
    const report = result.findings.map(formatFinding).join('\n');
    expect(report).toContain(
      "its template's metadata.namespace is $(tt.params.ns), which this trigger sets to $(body.ns); the gateway never lets the payload choose the namespace",
    );
    expect(report).toContain(
      'remove metadata.namespace from the template and give each trigger a literal namespace',
    );
  });
});
