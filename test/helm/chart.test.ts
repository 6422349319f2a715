// The Helm chart, linted and rendered for each value set by the real helm (test/helm/render.ts), then checked
// against the Kubernetes schemas, values.schema.json and what the gateway needs at run time (issue #7).

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SERVE } from '../../src/cli/spec.js';
import { execForm, parseDockerfile } from '../docker/dockerfile.js';
import { CLUSTER_SCOPED, validateObject } from './kinds.js';
import {
  type K8sObject,
  type Rendered,
  type RenderOptions,
  CHART_DIR,
  RELEASE_NAMESPACE,
  REPO,
  lint,
  render,
  tryRender,
} from './render.js';
import { validateValues } from './schema.js';

const chart = parseYaml(readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string };

interface Expected {
  fullname: string;
  image: string;
  /** A fixed count, or autoscaled (no spec.replicas) between min and max. */
  replicas: number | { min: number; max: number };
  pdb: boolean;
  /** Namespaces with a RoleBinding to the create ClusterRole; 'cluster-wide' for a ClusterRoleBinding. */
  createIn: readonly string[] | 'cluster-wide' | 'no-rbac';
  /** Rules added to the ClusterRole after the tekton.dev one. */
  extraRules: readonly IPolicyRule[];
  /** Namespace → service accounts the gateway may impersonate there. */
  impersonate: Readonly<Record<string, readonly string[]>>;
  /** Secret names mounted under SECRETS_DIR. */
  secrets: readonly string[];
  /** Secrets the chart itself creates (createSecrets). */
  createdSecrets: readonly string[];
  routes: { configMap: string; key: string; renderedByChart: boolean; text?: string };
  checksum: boolean;
  shutdown: { preStopSleep?: number; drainDelay: number; shutdownTimeout: number; grace: number };
  heapMiB?: number;
  logLevel: string;
  dryRun: boolean;
  /** serve flags after `serve`. */
  flags: readonly string[];
  /** Environment variables the values add on top of the chart's own. */
  extraEnv: readonly string[];
  serviceAccount: { name: string; created: boolean };
  ingress?: { host: string; path: string; tlsSecret?: string };
  serviceMonitor: boolean;
}

interface ChartCase {
  name: string;
  options: RenderOptions;
  expected: Expected;
}

const defaults: Expected = {
  fullname: 'gw-tekton-gateway',
  image: `ghcr.io/tekton-gateway/tekton-gateway:${chart.appVersion}`,
  replicas: 2,
  pdb: true,
  // The example routes set no namespace, so the gateway creates in "default" (contract §6).
  createIn: ['default'],
  extraRules: [],
  impersonate: {},
  secrets: ['github-webhook'],
  createdSecrets: [],
  routes: { configMap: 'gw-tekton-gateway-routes', key: 'routes.yaml', renderedByChart: true },
  checksum: false,
  shutdown: { preStopSleep: 5, drainDelay: 5, shutdownTimeout: 25, grace: 35 },
  heapMiB: 336,
  logLevel: 'info',
  dryRun: false,
  flags: [],
  extraEnv: [],
  serviceAccount: { name: 'gw-tekton-gateway', created: true },
  serviceMonitor: false,
};

const CASES: readonly ChartCase[] = [
  { name: 'default values', options: {}, expected: defaults },
  {
    name: 'GitOps: routes from an existing ConfigMap, namespaces and Secrets listed',
    options: { valueFiles: ['helm/ci/gitops-values.yaml'] },
    expected: {
      ...defaults,
      createIn: ['ci', 'staging'],
      extraRules: [{ apiGroups: ['builds.example.com'], resources: ['imagebuilds'], verbs: ['create'] }],
      secrets: ['github-webhook', 'gitlab-webhook', 'webhooks.example.com'],
      routes: { configMap: 'tekton-gateway-routes', key: 'gateway-routes.yaml', renderedByChart: false },
    },
  },
  {
    name: 'inline routes with impersonation: RBAC and Secrets derived from routes',
    options: { valueFiles: ['helm/ci/impersonation-values.yaml'] },
    expected: {
      ...defaults,
      // Only the trigger without serviceAccountName creates as the gateway itself.
      createIn: ['ci'],
      impersonate: {
        'argocd-jobs': ['tekton-triggers'],
        ci: ['nightly'],
        'flask-app': ['tekton-triggers'],
        releases: ['release-bot'],
      },
      secrets: ['github-webhook', 'gitlab-webhook', 'gitlab-webhook-next', 'shared-token'],
    },
  },
  {
    name: 'autoscaled with Ingress and ServiceMonitor, routes from --set-file',
    options: { valueFiles: ['helm/ci/ha-values.yaml'], setFiles: { routes: 'test/helm/values/routes.yaml' } },
    expected: {
      ...defaults,
      replicas: { min: 3, max: 10 },
      createIn: ['builds'],
      secrets: ['gitea-webhook'],
      routes: {
        ...defaults.routes,
        text: readFileSync(path.join(REPO, 'test/helm/values/routes.yaml'), 'utf8'),
      },
      checksum: true,
      ingress: { host: 'hooks.example.com', path: '/hooks', tlsSecret: 'hooks-example-com-tls' },
      serviceMonitor: true,
    },
  },
  {
    name: 'one replica, cluster-wide RBAC, a Secret from values, routes as YAML',
    options: { valueFiles: ['helm/ci/single-replica-values.yaml'] },
    expected: {
      ...defaults,
      fullname: 'gateway',
      image: 'ghcr.io/tekton-gateway/tekton-gateway@sha256:' + '0'.repeat(64),
      replicas: 1,
      pdb: false,
      createIn: 'cluster-wide',
      secrets: ['demo-webhook'],
      createdSecrets: ['demo-webhook'],
      routes: { configMap: 'gateway-routes', key: 'routes.yaml', renderedByChart: true },
      shutdown: { preStopSleep: 5, drainDelay: 3, shutdownTimeout: 15, grace: 25 },
      heapMiB: 768,
      logLevel: 'debug',
      flags: ['--server-dry-run'],
      extraEnv: ['HTTPS_PROXY'],
      serviceAccount: { name: 'gateway', created: true },
    },
  },
  {
    name: 'Kubernetes 1.29: no preStop sleep hook, the gateway drains longer instead',
    options: { kubeVersion: 'v1.29.4' },
    expected: { ...defaults, shutdown: { drainDelay: 10, shutdownTimeout: 25, grace: 30 } },
  },
  {
    name: 'NetworkPolicy on: the admin port kept to the release namespace',
    options: { values: { networkPolicy: { enabled: true } } },
    expected: defaults,
  },
  {
    name: 'dry run with an existing service account and no RBAC',
    options: { valueFiles: ['test/helm/values/dry-run-values.yaml'] },
    expected: {
      ...defaults,
      replicas: 1,
      pdb: false,
      createIn: 'no-rbac',
      dryRun: true,
      serviceAccount: { name: 'existing-gateway', created: false },
    },
  },
];

// --- helpers -------------------------------------------------------------------------------------------

function ofKind(r: Rendered, kind: string): K8sObject[] {
  return r.objects.filter((o) => o.kind === kind);
}

function only<T = K8sObject>(r: Rendered, kind: string): T {
  const found = ofKind(r, kind);
  expect(
    found.map((o) => o.metadata.name),
    `exactly one ${kind}`,
  ).toHaveLength(1);
  return found[0] as unknown as T;
}

function podSpec(r: Rendered): IPodSpec {
  const spec = only<IDeployment>(r, 'Deployment').spec?.template.spec;
  if (!spec) throw new Error('Deployment has no pod spec');
  return spec;
}

function gateway(r: Rendered): IContainer {
  const containers = podSpec(r).containers;
  expect(containers.map((c) => c.name)).toEqual(['gateway']);
  return containers[0] as IContainer;
}

function env(container: IContainer): Map<string, string | undefined> {
  return new Map((container.env ?? []).map((e) => [e.name, e.value]));
}

function containerPort(container: IContainer, name: string): number | undefined {
  return container.ports?.find((p) => p.name === name)?.containerPort;
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

/** Mebibytes in a whole-number Kubernetes quantity, as the chart's values.schema.json allows them. */
function mebibytes(quantity: string | number): number {
  const units: Record<string, number> = {
    '': 1,
    k: 1e3,
    Ki: 1024,
    M: 1e6,
    Mi: 2 ** 20,
    G: 1e9,
    Gi: 2 ** 30,
    T: 1e12,
    Ti: 2 ** 40,
  };
  const match = /^(\d+)([kMGT]i?|Ki)?$/.exec(String(quantity));
  if (!match) throw new Error(`not a whole-number quantity: ${quantity}`);
  return Math.floor((Number(match[1]) * (units[match[2] ?? ''] ?? NaN)) / 2 ** 20);
}

/** Kubernetes' QoS class rules (pkg/apis/core/v1/helper/qos): requests default to limits. */
function qosClass(pod: IPodSpec): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  let anySet = false;
  let guaranteed = true;
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const resource of ['cpu', 'memory']) {
      const limit = c.resources?.limits?.[resource];
      const request = c.resources?.requests?.[resource] ?? limit;
      if (limit !== undefined || request !== undefined) anySet = true;
      if (limit === undefined || String(request) !== String(limit)) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function rulesOf(r: Rendered): IPolicyRule[] {
  return [...ofKind(r, 'ClusterRole'), ...ofKind(r, 'Role')].flatMap(
    (role) => (role.rules as IPolicyRule[]) ?? [],
  );
}

function subset(small: Record<string, string> | undefined, big: Record<string, string> | undefined): boolean {
  return Object.entries(small ?? {}).every(([k, v]) => big?.[k] === v);
}

// The image the Dockerfile builds: where the chart's args must find the entry point.
const dockerfile = parseDockerfile(readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'));
const runtimeStage = dockerfile.stages[dockerfile.stages.length - 1];
const runtimeWorkdir = runtimeStage?.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args ?? '/';
const runtimeCmd =
  execForm(runtimeStage?.instructions.filter((i) => i.keyword === 'CMD').at(-1)?.args ?? '') ?? [];
const runtimeUser = runtimeStage?.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';

/** The ClusterRole rule for following the runs it created (follow.mode on or log). */
const FOLLOW_RULE: IPolicyRule = {
  apiGroups: ['tekton.dev'],
  resources: ['pipelineruns', 'taskruns'],
  verbs: ['get', 'list', 'watch', 'patch', 'delete'],
};

const isFollowRule = (rule: IPolicyRule) => JSON.stringify(rule) === JSON.stringify(FOLLOW_RULE);

function leaseName(expected: Expected): string {
  return `${expected.fullname}-lease`;
}

/** gateway.name of the routes the chart stored (the Lease is tekton-gateway-<name>). */
function gatewayName(r: Rendered): string {
  for (const configMap of ofKind(r, 'ConfigMap')) {
    for (const text of Object.values((configMap.data as Record<string, string>) ?? {})) {
      const doc = parseYaml(text) as { gateway?: { name?: string } } | null;
      if (doc?.gateway?.name) return doc.gateway.name;
    }
  }
  return 'tekton-gateway';
}

const SERVE_ENV = new Set(SERVE.flags.flatMap((f) => (f.env ? [f.env] : [])));
const flagSpec = (name: string) => SERVE.flags.find((f) => f.name === name);

// --- the value sets --------------------------------------------------------------------------------------

describe.each(CASES)('helm chart, $name', ({ options, expected }) => {
  let r: Rendered;
  beforeAll(() => {
    r = render(options);
  });

  it('helm lint --strict passes', () => {
    const result = lint(options);
    expect(result.ok ? '' : result.error).toBe('');
  });

  it('merged values pass values.schema.json, as helm checks before rendering', () => {
    expect(validateValues(r.values)).toEqual([]);
  });

  it('every object matches its Kubernetes schema, once, with the release labels', () => {
    expect(r.objects.length).toBeGreaterThan(0);
    for (const obj of r.objects) {
      expect(() => validateObject(obj)).not.toThrow();
      expect(obj.metadata.labels?.['app.kubernetes.io/instance'], `${obj.kind}/${obj.metadata.name}`).toBe(
        'gw',
      );
      const commonLabels = r.values.commonLabels as Record<string, string>;
      expect(subset(commonLabels, obj.metadata.labels), `${obj.kind}/${obj.metadata.name} commonLabels`).toBe(
        true,
      );
      if (CLUSTER_SCOPED.has(obj.kind)) expect(obj.metadata.namespace).toBeUndefined();
      else
        expect(obj.metadata.namespace, `${obj.kind}/${obj.metadata.name} namespace`).toMatch(/^[a-z0-9-]+$/);
    }
    const ids = r.objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('RBAC: create on pipelineruns/taskruns, bound in exactly the target namespaces', () => {
    // The follow-only ClusterRole (impersonated namespaces) has its own test below.
    const clusterRoles = ofKind(r, 'ClusterRole').filter((c) => !c.metadata.name.endsWith('-follow'));
    const bindings = ofKind(r, 'RoleBinding') as unknown as IRoleBinding[];
    const createBindings = bindings.filter(
      (b) => b.roleRef.kind === 'ClusterRole' && !b.roleRef.name.endsWith('-follow'),
    );
    const clusterBindings = ofKind(r, 'ClusterRoleBinding') as unknown as IRoleBinding[];
    if (expected.createIn === 'no-rbac') {
      expect([...ofKind(r, 'ClusterRole'), ...bindings, ...clusterBindings, ...ofKind(r, 'Role')]).toEqual(
        [],
      );
      return;
    }
    expect(clusterRoles).toHaveLength(1);
    const role = clusterRoles[0] as K8sObject;
    // create, then following the runs it created (follow.mode on by default): watch, patch, prune.
    expect(role.rules).toEqual([
      { apiGroups: ['tekton.dev'], resources: ['pipelineruns', 'taskruns'], verbs: ['create'] },
      FOLLOW_RULE,
      ...expected.extraRules,
    ]);
    const subject = {
      kind: 'ServiceAccount',
      name: expected.serviceAccount.name,
      namespace: RELEASE_NAMESPACE,
    };
    if (expected.createIn === 'cluster-wide') {
      expect(createBindings).toEqual([]);
      expect(clusterBindings).toHaveLength(1);
      expect(clusterBindings[0]?.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: role.metadata.name,
      });
      expect(clusterBindings[0]?.subjects).toEqual([subject]);
      return;
    }
    expect(clusterBindings).toEqual([]);
    expect(sorted(createBindings.map((b) => b.metadata?.namespace ?? ''))).toEqual(sorted(expected.createIn));
    for (const binding of createBindings) {
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: role.metadata.name,
      });
      expect(binding.subjects).toEqual([subject]);
    }
  });

  it('RBAC: runs are followed (watch, patch, delete) in every namespace they are created in, impersonated ones too, without create there', () => {
    if (!Array.isArray(expected.createIn)) return; // no RBAC, or one ClusterRoleBinding covering everything
    const createIn = expected.createIn as readonly string[];
    const roles = new Map(ofKind(r, 'ClusterRole').map((c) => [c.metadata.name, c.rules as IPolicyRule[]]));
    const followIn = (ofKind(r, 'RoleBinding') as unknown as IRoleBinding[])
      .filter((b) => b.roleRef.kind === 'ClusterRole' && roles.get(b.roleRef.name)?.some(isFollowRule))
      .map((b) => b.metadata?.namespace ?? '');
    const follows = [...roles.values()].some((rules) => rules.some(isFollowRule));
    const wanted = follows ? [...new Set([...createIn, ...Object.keys(expected.impersonate)])] : [];
    expect(sorted(followIn)).toEqual(sorted(wanted));
    const followOnly = ofKind(r, 'ClusterRole').find((c) => c.metadata.name.endsWith('-follow'));
    if (followOnly) expect(followOnly.rules).toEqual([FOLLOW_RULE]);
  });

  it('RBAC: impersonate only the service accounts the routes run as', () => {
    const roles = ofKind(r, 'Role').filter((role) => role.metadata.name !== leaseName(expected));
    const granted: Record<string, string[]> = {};
    for (const role of roles) {
      const rules = role.rules as IPolicyRule[];
      expect(rules).toHaveLength(1);
      const rule = rules[0] as IPolicyRule;
      expect(rule).toMatchObject({ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] });
      expect(rule.resourceNames?.length).toBeGreaterThan(0);
      granted[role.metadata.namespace ?? ''] = sorted(rule.resourceNames ?? []);
      const binding = (ofKind(r, 'RoleBinding') as unknown as IRoleBinding[]).find(
        (b) => b.metadata?.namespace === role.metadata.namespace && b.roleRef.kind === 'Role',
      );
      expect(binding?.roleRef.name).toBe(role.metadata.name);
      expect(binding?.subjects).toEqual([
        { kind: 'ServiceAccount', name: expected.serviceAccount.name, namespace: RELEASE_NAMESPACE },
      ]);
    }
    expect(granted).toEqual(expected.createIn === 'no-rbac' ? {} : expected.impersonate);
  });

  it('RBAC: the Lease Role in the release namespace reaches one Lease by name, bound to the gateway', () => {
    const leaseRoles = ofKind(r, 'Role').filter((role) => role.metadata.name === leaseName(expected));
    const leaseBindings = (ofKind(r, 'RoleBinding') as unknown as IRoleBinding[]).filter(
      (b) => b.roleRef.kind === 'Role' && b.roleRef.name === leaseName(expected),
    );
    if (expected.createIn === 'no-rbac') {
      expect([...leaseRoles, ...leaseBindings]).toEqual([]);
      return;
    }
    expect(leaseRoles).toHaveLength(1);
    const role = leaseRoles[0] as K8sObject;
    expect(role.metadata.namespace).toBe(RELEASE_NAMESPACE);
    // create cannot be limited by resourceNames; get/update only on the gateway's own Lease.
    expect(role.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: [`tekton-gateway-${gatewayName(r)}`],
        verbs: ['get', 'update'],
      },
    ]);
    expect(leaseBindings).toHaveLength(1);
    expect(leaseBindings[0]?.metadata?.namespace).toBe(RELEASE_NAMESPACE);
    expect(leaseBindings[0]?.subjects).toEqual([
      { kind: 'ServiceAccount', name: expected.serviceAccount.name, namespace: RELEASE_NAMESPACE },
    ]);
  });

  it('RBAC: no rule reaches Secrets or uses a wildcard', () => {
    const extra = new Set(expected.extraRules.map((rule) => JSON.stringify(rule)));
    for (const rule of rulesOf(r)) {
      for (const list of [rule.apiGroups ?? [], rule.resources ?? [], rule.verbs])
        expect(list).not.toContain('*');
      expect(rule.resources ?? []).not.toContain('secrets');
      if (extra.has(JSON.stringify(rule))) continue;
      const [group] = rule.apiGroups ?? [];
      // Every rule is one of: runs (create, follow), impersonation, the Lease.
      if (group === 'tekton.dev') {
        expect(rule.resources).toEqual(['pipelineruns', 'taskruns']);
        expect(['create', 'get', 'list', 'watch', 'patch', 'delete']).toEqual(
          expect.arrayContaining(rule.verbs),
        );
      } else if (group === '') {
        expect(rule.resources).toEqual(['serviceaccounts']);
        expect(rule.verbs).toEqual(['impersonate']);
        expect(rule.resourceNames?.length).toBeGreaterThan(0);
      } else {
        expect(group).toBe('coordination.k8s.io');
        expect(rule.resources).toEqual(['leases']);
        if (rule.verbs.join() !== 'create') {
          expect(rule.verbs).toEqual(['get', 'update']);
          expect(rule.resourceNames).toHaveLength(1);
        }
      }
      expect(rule.apiGroups).toHaveLength(1);
    }
  });

  it('the pod is never BestEffort: requests and a memory limit are set', () => {
    const pod = podSpec(r);
    expect(qosClass(pod)).not.toBe('BestEffort');
    const resources = gateway(r).resources;
    expect(resources?.requests?.cpu).toBeDefined();
    expect(resources?.requests?.memory).toBeDefined();
    expect(resources?.limits?.memory).toBeDefined();
  });

  it('runs as non-root under the restricted Pod Security profile', () => {
    const pod = podSpec(r);
    const container = gateway(r);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const uid = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    expect(uid).toBeGreaterThan(0);
    // The same user the image declares, so file ownership and runAsNonRoot agree with the Dockerfile.
    expect(`${uid}:${container.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup}`).toBe(
      runtimeUser,
    );
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.securityContext?.capabilities?.add).toBeUndefined();
    expect(container.securityContext?.privileged ?? false).toBe(false);
    expect(pod.hostNetwork ?? false).toBe(false);
  });

  it('routes.yaml comes from a ConfigMap mounted as a directory (no subPath, so reloads work)', () => {
    const pod = podSpec(r);
    const container = gateway(r);
    const routesFile = env(container).get('ROUTES_FILE') ?? '';
    const volume = pod.volumes?.find((v) => v.configMap);
    expect(volume?.configMap?.name).toBe(expected.routes.configMap);
    expect(volume?.configMap?.items).toBeUndefined();
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount?.subPath).toBeUndefined();
    expect(mount?.readOnly).toBe(true);
    expect(routesFile).toBe(path.posix.join(mount?.mountPath ?? '?', expected.routes.key));
    for (const m of container.volumeMounts ?? []) expect(m.subPath, m.name).toBeUndefined();

    const configMaps = ofKind(r, 'ConfigMap');
    if (!expected.routes.renderedByChart) {
      expect(configMaps).toEqual([]);
      return;
    }
    expect(configMaps.map((c) => c.metadata.name)).toEqual([expected.routes.configMap]);
    const text = (configMaps[0]?.data as Record<string, string>)[expected.routes.key] ?? '';
    const doc = parseYaml(text) as { apiVersion?: string; routes?: unknown[] };
    expect(doc.apiVersion).toBe('tekton-gateway/v1');
    expect(doc.routes?.length).toBeGreaterThan(0);
    // Byte for byte, so the gateway's config_info{sha256} matches the file that was given.
    if (expected.routes.text !== undefined) expect(text).toBe(expected.routes.text);
  });

  it('every Secret the routes need is mounted as a directory under SECRETS_DIR', () => {
    const pod = podSpec(r);
    const container = gateway(r);
    const secretsDir = env(container).get('SECRETS_DIR') ?? flagSpec('secrets-dir')?.default;
    const mounted = new Map<string, string>();
    for (const volume of pod.volumes ?? []) {
      expect(volume.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(volume.name.length).toBeLessThanOrEqual(63);
      // The deliveries page's admin token (test/helm/deliveries.test.ts) and the state key live outside
      // SECRETS_DIR on purpose: no route's secretRef can name them. Checked below.
      if (!volume.secret || volume.name === 'admin-token' || volume.name === 'state-key') continue;
      const mount = container.volumeMounts?.find((m) => m.name === volume.name);
      expect(mount, `mount of ${volume.name}`).toBeDefined();
      expect(mount?.readOnly).toBe(true);
      mounted.set(volume.secret.secretName ?? '', mount?.mountPath ?? '');
    }
    expect(sorted(mounted.keys())).toEqual(sorted(expected.secrets));
    for (const [name, mountPath] of mounted) expect(mountPath).toBe(`${secretsDir}/${name}`);
    // The chart writes secret values only when asked to, besides the two keys it generates itself.
    const generated = [`${expected.fullname}-admin-token`, `${expected.fullname}-state-key`];
    const created = ofKind(r, 'Secret').filter((s) => !generated.includes(s.metadata.name));
    expect(sorted(created.map((s) => s.metadata.name))).toEqual(sorted(expected.createdSecrets));
    for (const secret of created) expect(secret.data).toBeUndefined();
    expect(
      ofKind(r, 'Secret')
        .filter((s) => generated.includes(s.metadata.name))
        .map((s) => s.metadata.name),
    ).toEqual(generated);
  });

  it('the state key and the admin token are their own read-only mounts, outside SECRETS_DIR', () => {
    const pod = podSpec(r);
    const container = gateway(r);
    const vars = env(container);
    const secretsDir = vars.get('SECRETS_DIR') ?? flagSpec('secrets-dir')?.default ?? '?';
    const files = { 'state-key': 'STATE_KEY_FILE', 'admin-token': 'ADMIN_TOKEN_FILE' } as const;
    for (const [volumeName, variable] of Object.entries(files)) {
      const volume = pod.volumes?.find((v) => v.name === volumeName);
      expect(volume?.secret?.secretName, volumeName).toBe(`${expected.fullname}-${volumeName}`);
      const mount = container.volumeMounts?.find((m) => m.name === volumeName);
      expect(mount?.readOnly, volumeName).toBe(true);
      expect(mount?.subPath).toBeUndefined();
      expect(`${mount?.mountPath ?? '?'}/`.startsWith(`${secretsDir}/`), volumeName).toBe(false);
      expect(path.posix.dirname(vars.get(variable) ?? '')).toBe(mount?.mountPath);
    }
    expect(vars.get('STATE_KEY_FILE')).toMatch(/\/key$/);
    const stateKey = ofKind(r, 'Secret').find((s) => s.metadata.name === `${expected.fullname}-state-key`);
    expect(Buffer.from((stateKey?.data as { key: string }).key, 'base64')).toHaveLength(48);
  });

  it('args, env and ports use only what `serve` accepts (src/cli/spec.ts)', () => {
    const container = gateway(r);
    expect(container.command).toBeUndefined(); // the image's entrypoint: node
    const [script, command, ...flags] = container.args ?? [];
    expect(script).toBe(path.posix.join(runtimeWorkdir, runtimeCmd[0] ?? '?'));
    expect(command).toBe(SERVE.name);
    expect(command).toBe(runtimeCmd[1]);
    for (const flag of flags) {
      const spec = flagSpec(flag.replace(/^--/, '').replace(/=.*$/, ''));
      expect(spec, `${flag} is a serve flag`).toBeDefined();
      if (spec && !spec.value) expect(flag, `${flag} takes no value`).not.toContain('=');
    }
    expect(flags).toEqual(expected.flags);

    const vars = env(container);
    // serve also reads who it is (POD_NAME/POD_NAMESPACE, leader election) and the standard OTEL_* variables.
    const allowed = new Set([
      ...SERVE_ENV,
      'NODE_OPTIONS',
      'POD_NAME',
      'POD_NAMESPACE',
      ...expected.extraEnv,
    ]);
    for (const name of vars.keys())
      if (!name.startsWith('OTEL_')) expect(allowed, `env ${name}`).toContain(name);
    const fromPod = { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' } as const;
    for (const e of container.env ?? []) {
      if (e.name in fromPod) {
        expect(e.valueFrom, e.name).toEqual({
          fieldRef: { fieldPath: fromPod[e.name as keyof typeof fromPod] },
        });
        continue;
      }
      expect(typeof e.value, `${e.name} is a string`).toBe('string');
    }
    expect(sorted(Object.keys(fromPod).filter((name) => vars.has(name)))).toEqual(Object.keys(fromPod));
    expect(flagSpec('follow')?.choices).toContain(vars.get('FOLLOW'));
    expect(vars.get('FOLLOW')).toBe('on');
    expect(vars.has('STATUS_API_ORIGINS')).toBe(false);
    // Tracing stays off (no OTEL_* at all) unless tracing.endpoint is set (test/helm/tracing.test.ts).
    expect([...vars.keys()].filter((name) => name.startsWith('OTEL_'))).toEqual([]);
    expect(flagSpec('log-level')?.choices).toContain(vars.get('LOG_LEVEL'));
    expect(vars.get('LOG_LEVEL')).toBe(expected.logLevel);
    expect(vars.get('DRY_RUN')).toBe(expected.dryRun ? 'true' : undefined);
    for (const name of expected.extraEnv) expect(vars.has(name)).toBe(true);

    expect(sorted((container.ports ?? []).map((p) => p.name ?? ''))).toEqual(['admin', 'http']);
    expect(vars.get('PORT')).toBe(String(containerPort(container, 'http')));
    expect(vars.get('ADMIN_PORT')).toBe(String(containerPort(container, 'admin')));
    expect(containerPort(container, 'http')).toBe(Number(flagSpec('port')?.default));
    expect(containerPort(container, 'admin')).toBe(Number(flagSpec('admin-port')?.default));
    expect(container.image).toBe(expected.image);
    expect(podSpec(r).enableServiceLinks).toBe(false);
    // The API token is mounted only when the gateway talks to the cluster.
    expect(podSpec(r).automountServiceAccountToken).toBe(!expected.dryRun);
    expect(podSpec(r).serviceAccountName).toBe(expected.serviceAccount.name);
    expect(ofKind(r, 'ServiceAccount').map((a) => a.metadata.name)).toEqual(
      expected.serviceAccount.created ? [expected.serviceAccount.name] : [],
    );
  });

  it('probes: liveness on /healthz and readiness on /readyz, on a container port', () => {
    const container = gateway(r);
    const ports = (container.ports ?? []).map((p) => p.name);
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(ports).toContain(container.livenessProbe?.httpGet?.port);
    expect(ports).toContain(container.readinessProbe?.httpGet?.port);
  });

  it('shutdown: preStop sleep + shutdown timeout fit in terminationGracePeriodSeconds', () => {
    const container = gateway(r);
    const vars = env(container);
    const preStop = container.lifecycle?.preStop?.sleep?.seconds;
    const drain = Number(vars.get('DRAIN_DELAY_SECONDS'));
    const timeout = Number(vars.get('SHUTDOWN_TIMEOUT_SECONDS'));
    const grace = podSpec(r).terminationGracePeriodSeconds ?? 30;
    expect({ preStopSleep: preStop, drainDelay: drain, shutdownTimeout: timeout, grace }).toEqual({
      preStopSleep: expected.shutdown.preStopSleep,
      ...expected.shutdown,
    });
    expect(timeout).toBeGreaterThan(drain);
    expect(grace).toBeGreaterThanOrEqual((preStop ?? 0) + timeout);
    // No shell in the distroless image, so an exec hook could not run.
    expect(container.lifecycle?.preStop?.exec).toBeUndefined();
  });

  it('NODE_OPTIONS sizes the heap from the memory limit', () => {
    const container = gateway(r);
    const options = env(container).get('NODE_OPTIONS') ?? '';
    const heap = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
    expect(heap).toBe(expected.heapMiB);
    const limit = mebibytes(container.resources?.limits?.memory ?? 0);
    expect(heap).toBe(Math.floor((limit * Number(r.values.heapPercentOfMemoryLimit)) / 100));
    expect(heap).toBeLessThan(limit);
  });

  it('replicas or HPA, and a PodDisruptionBudget only with more than one replica', () => {
    const deployment = only<IDeployment>(r, 'Deployment');
    const hpas = ofKind(r, 'HorizontalPodAutoscaler') as unknown as IHorizontalPodAutoscaler[];
    if (typeof expected.replicas === 'number') {
      expect(deployment.spec?.replicas).toBe(expected.replicas);
      expect(hpas).toEqual([]);
    } else {
      // Left out so that helm upgrade does not reset the count the HPA chose.
      expect(deployment.spec?.replicas).toBeUndefined();
      expect(hpas).toHaveLength(1);
      expect(hpas[0]?.spec).toMatchObject({
        minReplicas: expected.replicas.min,
        maxReplicas: expected.replicas.max,
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata?.name },
      });
    }
    expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    const pdbs = ofKind(r, 'PodDisruptionBudget') as unknown as IPodDisruptionBudget[];
    expect(pdbs.length).toBe(expected.pdb ? 1 : 0);
    const podLabels = deployment.spec?.template.metadata?.labels;
    for (const pdb of pdbs) expect(subset(pdb.spec?.selector?.matchLabels, podLabels)).toBe(true);
    expect(subset(deployment.spec?.selector.matchLabels, podLabels)).toBe(true);
    // podLabels go on the pods only: a selector is immutable, so it must not change with them.
    expect(subset(r.values.podLabels as Record<string, string>, podLabels)).toBe(true);
    expect(Object.keys(deployment.spec?.selector.matchLabels ?? {}).sort()).toEqual([
      'app.kubernetes.io/instance',
      'app.kubernetes.io/name',
    ]);
    expect(deployment.metadata?.name).toBe(expected.fullname);
  });

  it('Service, Ingress and ServiceMonitor reach the right ports', () => {
    const podLabels = only<IDeployment>(r, 'Deployment').spec?.template.metadata?.labels;
    const services = ofKind(r, 'Service') as unknown as IService[];
    const named = new Map(services.map((s) => [s.metadata?.name, s]));
    expect(sorted(named.keys() as Iterable<string>)).toEqual([
      expected.fullname,
      `${expected.fullname}-admin`,
    ]);
    const service = named.get(expected.fullname) as IService;
    const admin = named.get(`${expected.fullname}-admin`) as IService;
    for (const s of services) expect(subset(s.spec?.selector, podLabels)).toBe(true);
    // Webhooks only on the Service that service.type may publish; the admin port stays on a ClusterIP one.
    expect(service.spec?.ports?.map((p) => [p.name, p.targetPort])).toEqual([['http', 'http']]);
    expect(service.spec?.type).toBe(r.values.service && (r.values.service as { type: string }).type);
    expect(admin.spec?.type).toBe('ClusterIP');
    expect(admin.spec?.ports?.map((p) => [p.name, p.targetPort])).toEqual([['admin', 'admin']]);

    const ingresses = ofKind(r, 'Ingress') as unknown as IIngress[];
    if (!expected.ingress) {
      expect(ingresses).toEqual([]);
    } else {
      expect(ingresses).toHaveLength(1);
      const spec = ingresses[0]?.spec;
      expect(spec?.rules).toHaveLength(1);
      expect(spec?.rules?.[0]?.host).toBe(expected.ingress.host);
      const paths = spec?.rules?.[0]?.http?.paths ?? [];
      expect(paths).toHaveLength(1);
      expect(paths[0]?.path).toBe(expected.ingress.path);
      // Webhooks only: /metrics and /routes stay inside the cluster.
      expect(paths[0]?.backend.service).toEqual({ name: service.metadata?.name, port: { name: 'http' } });
      expect(spec?.tls).toEqual(
        expected.ingress.tlsSecret
          ? [{ secretName: expected.ingress.tlsSecret, hosts: [expected.ingress.host] }]
          : undefined,
      );
    }

    const monitors = ofKind(r, 'ServiceMonitor');
    expect(monitors.length).toBe(expected.serviceMonitor ? 1 : 0);
    for (const monitor of monitors) {
      const spec = monitor.spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
      expect(spec.endpoints).toEqual([expect.objectContaining({ port: 'admin', path: '/metrics' })]);
      expect(subset(spec.selector.matchLabels, admin.metadata?.labels)).toBe(true);
      expect(subset(spec.selector.matchLabels, service.metadata?.labels)).toBe(false);
    }
  });

  it("topology spread constraints select this release's pods", () => {
    const pod = podSpec(r);
    const labels = only<IDeployment>(r, 'Deployment').spec?.template.metadata?.labels;
    expect(pod.topologySpreadConstraints?.length).toBeGreaterThan(0);
    for (const constraint of pod.topologySpreadConstraints ?? []) {
      expect(constraint.labelSelector?.matchLabels).toBeDefined();
      expect(subset(constraint.labelSelector?.matchLabels, labels)).toBe(true);
    }
  });

  it('checksum/config rolls the pods only when asked and only for a ConfigMap the chart renders', () => {
    const annotations = only<IDeployment>(r, 'Deployment').spec?.template.metadata?.annotations ?? {};
    const checksum = annotations['checksum/config'];
    if (!expected.checksum) {
      expect(checksum).toBeUndefined();
      return;
    }
    const configMap = r.manifests.find((m) => m.source.endsWith('/templates/configmap.yaml'));
    // The chart hashes configmap.yaml's whole output; helm template prints it trimmed, and the template's
    // text starts with the newline after `{{- if … }}` and ends with the file's last newline.
    expect(checksum).toBe(
      createHash('sha256')
        .update(`\n${configMap?.content ?? ''}\n`)
        .digest('hex'),
    );
  });

  it('NOTES.txt renders with the webhook URL and the Secrets to create', () => {
    if (expected === defaults)
      expect(r.notes).toContain('create secret generic github-webhook --from-literal=token=<value>');
    expect(r.notes).toContain(
      expected.ingress
        ? `${expected.ingress.host}${expected.ingress.path}`
        : `${expected.fullname}.${RELEASE_NAMESPACE}.svc`,
    );
    for (const secret of expected.secrets) {
      const created = expected.createdSecrets.includes(secret);
      expect(r.notes).toContain(created ? `- ${secret}` : `create secret generic ${secret} --from-literal=`);
    }
    expect(r.notes).not.toMatch(/<no value>|%!/);
  });
});

// --- values the chart refuses -------------------------------------------------------------------------------

interface RefusedCase {
  name: string;
  options: RenderOptions;
  error: RegExp;
}

const REFUSED: readonly RefusedCase[] = [
  {
    name: 'shutdown timeout not longer than the drain delay',
    options: { values: { gateway: { drainDelaySeconds: 20, shutdownTimeoutSeconds: 20 } } },
    error: /gateway\.shutdownTimeoutSeconds \(20\) must be longer than the drain delay \(20 s\)/,
  },
  {
    name: 'on 1.29 the preStop sleep joins the drain delay and no longer fits',
    options: {
      values: { gateway: { drainDelaySeconds: 20, shutdownTimeoutSeconds: 24 } },
      kubeVersion: 'v1.29.0',
    },
    error: /must be longer than the drain delay \(25 s\)/,
  },
  {
    name: 'a grace period shorter than preStop + shutdown timeout',
    options: { values: { terminationGracePeriodSeconds: 20 } },
    error: /terminationGracePeriodSeconds \(20\) must be at least .* \(30 s\)/,
  },
  {
    name: 'routes that are not YAML',
    options: { values: { routes: 'apiVersion: [unclosed' } },
    error: /routes is not valid YAML/,
  },
  {
    name: 'neither routes nor routesConfigMap',
    options: { values: { routes: '' } },
    error: /set routes \(e\.g\. --set-file routes=routes\.yaml\) or routesConfigMap\.name/,
  },
  {
    name: 'autoscaling without a CPU request',
    options: { values: { autoscaling: { enabled: true }, resources: { requests: { cpu: null } } } },
    error: /autoscaling needs resources\.requests\.cpu/,
  },
  {
    name: 'Ingress TLS without a host',
    options: { values: { ingress: { enabled: true, tls: { secretName: 'tls' } } } },
    error: /ingress\.host is required/,
  },
  {
    name: 'an existing service account without its name',
    options: { values: { serviceAccount: { create: false } } },
    error: /serviceAccount\.name is required/,
  },
  {
    name: 'a cluster older than Chart.yaml kubeVersion',
    options: { kubeVersion: 'v1.24.9' },
    error: /incompatible with Kubernetes v1\.24\.9/,
  },
];

describe('helm chart refuses values that would break the gateway', () => {
  it.each(REFUSED)('$name', ({ options, error }) => {
    // The schema lets these through, so it is the templates that must catch them.
    const merged = tryRender({ ...options, valuesOnly: true });
    expect(merged.ok && validateValues(merged.rendered.values)).toEqual([]);
    const result = tryRender(options);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toMatch(error);
  });
});

describe('helm chart coverage', () => {
  it('every template renders an object in at least one value set', () => {
    const templates = readdirSync(path.join(CHART_DIR, 'templates')).filter(
      (f) => !f.startsWith('_') && f.endsWith('.yaml'),
    );
    const rendered = new Set(
      CASES.flatMap((c) => render(c.options).manifests.map((m) => path.basename(m.source))),
    );
    expect(sorted(templates.filter((t) => !rendered.has(t)))).toEqual([]);
  });

  it.each(readdirSync(path.join(CHART_DIR, 'ci')).map((f) => `helm/ci/${f}`))(
    '%s lints and renders on its own, as chart-testing runs it',
    (file) => {
      const linted = lint({ valueFiles: [file] });
      expect(linted.ok ? '' : linted.error).toBe('');
      const rendered = tryRender({ valueFiles: [file] });
      expect(rendered.ok ? '' : rendered.error).toBe('');
    },
  );

  it('every value set under helm/ci is one of the tested cases', () => {
    const files = readdirSync(path.join(CHART_DIR, 'ci')).map((f) => `helm/ci/${f}`);
    const tested = new Set(CASES.flatMap((c) => c.options.valueFiles ?? []));
    expect(files.filter((f) => !tested.has(f))).toEqual([]);
  });
});

describe('helm chart in-flight limits', () => {
  const limitEnv = (values?: Record<string, unknown>) => env(gateway(render(values ? { values } : {})));

  it('passes gateway.maxInFlight as MAX_IN_FLIGHT and leaves the per-route share to serve by default', () => {
    const vars = limitEnv();
    expect(vars.get('MAX_IN_FLIGHT')).toBe(flagSpec('max-in-flight')?.default);
    expect(vars.has('MAX_IN_FLIGHT_PER_ROUTE')).toBe(false);
  });

  it('passes both when set', () => {
    const vars = limitEnv({ gateway: { maxInFlight: 100, maxInFlightPerRoute: 10 } });
    expect(vars.get('MAX_IN_FLIGHT')).toBe('100');
    expect(vars.get('MAX_IN_FLIGHT_PER_ROUTE')).toBe('10');
  });
});
