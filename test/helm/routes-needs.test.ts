// The chart works out from inline routes which namespaces the gateway creates in, which service accounts it
// impersonates and which Secrets it reads (templates/_helpers.tpl, "tekton-gateway.plan"). This checks that
// reading against the gateway's own: the routes.yaml stored in the rendered ConfigMap is loaded with the
// gateway's loader, and the namespaces follow the same rule the pipeline applies when it creates
// (src/pipeline/handle.ts and render.ts). Any drift between the two would mean 403s at run time.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfigBytes } from '../../src/config/load.js';
import type { Config } from '../../src/model.js';
import { type RenderOptions, REPO, type Rendered, render } from './render.js';

interface Needs {
  createIn: string[];
  /** Where runs are watched, patched and pruned: created in as the gateway or as an impersonated account. */
  followIn: string[];
  impersonate: Record<string, string[]>;
  secrets: string[];
}

/** What the gateway will do with this config, by the pipeline's rules (contract §6). */
function needsOf(config: Config): Needs {
  const createIn = new Set<string>();
  const impersonate: Record<string, Set<string>> = {};
  const secrets = new Set<string>();
  // A schedule's route stands in for a webhook route: its one trigger has the schedule's namespace and account.
  for (const route of [...config.routes, ...config.schedules.map((s) => s.route)]) {
    for (const ref of route.secretRefs) secrets.add(ref.secretName);
    for (const trigger of route.triggers) {
      const account = trigger.serviceAccountName ?? route.serviceAccountName;
      const fallback = trigger.namespace ?? route.namespace ?? config.gateway.namespace;
      for (const resource of trigger.template.resourcetemplates) {
        const metadata = resource.metadata as { namespace?: unknown } | undefined;
        const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : fallback;
        if (account) (impersonate[namespace] ??= new Set()).add(account);
        else createIn.add(namespace);
      }
    }
  }
  return {
    createIn: [...createIn].sort(),
    followIn: [...new Set([...createIn, ...Object.keys(impersonate)])].sort(),
    impersonate: Object.fromEntries(
      Object.entries(impersonate).map(([ns, accounts]) => [ns, [...accounts].sort()]),
    ),
    secrets: [...secrets].sort(),
  };
}

/** What the rendered chart grants and mounts. */
function grantsOf(r: Rendered): Needs {
  const bindings = r.objects.filter((o) => o.kind === 'RoleBinding') as unknown as IRoleBinding[];
  // The Lease Role (following runs, test/helm/follow.test.ts) does not depend on the routes.
  const roles = r.objects.filter((o) => o.kind === 'Role' && !o.metadata.name.endsWith('-lease'));
  const pod = (
    r.objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: IPodSpec } } }
  ).spec.template.spec;
  return {
    createIn: bindings
      .filter((b) => b.roleRef.kind === 'ClusterRole' && !b.roleRef.name.endsWith('-follow'))
      .map((b) => b.metadata?.namespace ?? '')
      .sort(),
    // The create ClusterRole carries the follow rules too; the -follow one only them.
    followIn: bindings
      .filter((b) => b.roleRef.kind === 'ClusterRole')
      .map((b) => b.metadata?.namespace ?? '')
      .sort(),
    impersonate: Object.fromEntries(
      roles.map((role) => [
        role.metadata.namespace ?? '',
        [...((role.rules as IPolicyRule[])[0]?.resourceNames ?? [])].sort(),
      ]),
    ),
    // The state key and the admin token are the chart's own Secrets, not ones the routes name.
    secrets: (pod.volumes ?? [])
      .filter((v) => v.name !== 'state-key' && v.name !== 'admin-token')
      .flatMap((v) => (v.secret?.secretName ? [v.secret.secretName] : []))
      .sort(),
  };
}

/** routes from a values file, alone, so the file's other settings (extra namespaces, Secrets) stay out. */
function routesOf(valuesFile: string): RenderOptions {
  const values = parseYaml(readFileSync(path.join(REPO, valuesFile), 'utf8')) as { routes: unknown };
  return { values: { routes: values.routes } };
}

const SOURCES: readonly { name: string; options: RenderOptions }[] = [
  { name: 'the example in values.yaml', options: {} },
  { name: "the repository's routes.yaml via --set-file", options: { setFiles: { routes: 'routes.yaml' } } },
  {
    name: 'helm/ci/impersonation-values.yaml (impersonation, literal namespaces)',
    options: routesOf('helm/ci/impersonation-values.yaml'),
  },
  {
    name: 'helm/ci/single-replica-values.yaml (routes written as YAML)',
    options: routesOf('helm/ci/single-replica-values.yaml'),
  },
  {
    name: 'schedules: in their own namespace, as an impersonated account, and by gateway.namespace',
    options: {
      values: {
        routes: `apiVersion: tekton-gateway/v1
gateway: {namespace: ci}
templates:
  nightly: {resourcetemplates: [{apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: n-}, spec: {pipelineRef: {name: n}}}]}
routes:
  - path: /hook
    provider: none
    triggers:
      - name: build
        template: nightly
schedules:
  - {name: nightly, cron: "0 3 * * *", namespace: batch, keep: 7, template: nightly}
  - {name: as-bot, cron: "0 4 * * *", namespace: bots, serviceAccountName: bot, template: nightly}
  - name: report
    cron: "0 5 * * *"
    template: {resourcetemplates: [{apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: r-, namespace: reports}, spec: {taskRef: {name: r}}}]}
`,
      },
    },
  },
  {
    name: 'test/helm/values/routes.yaml via --set-file',
    options: { setFiles: { routes: 'test/helm/values/routes.yaml' } },
  },
];

describe('chart RBAC and Secret mounts follow what the gateway does with the routes', () => {
  it.each(SOURCES)('$name', ({ options }) => {
    const r = render(options);
    const configMap = r.objects.find((o) => o.kind === 'ConfigMap');
    const text = (configMap?.data as Record<string, string> | undefined)?.['routes.yaml'] ?? '';
    const loaded = loadConfigBytes(Buffer.from(text), 'routes.yaml');
    if (!loaded.ok)
      throw new Error(`the routes the chart stores do not load:\n${loaded.problems.join('\n')}`);
    const needs = needsOf(loaded.config);
    expect(needs.createIn.length + Object.keys(needs.impersonate).length).toBeGreaterThan(0);
    expect(grantsOf(r)).toEqual(needs);
  });
});
