// The chart's v2 pieces for following runs (contract §12, §12.0 items 2, 3, 9): RBAC on runs and on one
// Lease, POD_NAME/POD_NAMESPACE from the downward API, the generated state key, status Secrets mounted.
import { describe, expect, it } from 'vitest';
import { RELEASE_NAMESPACE, render } from './render.js';

const ROUTES = `apiVersion: tekton-gateway/v1
gateway: {name: gw, namespace: ci}
routes:
  - path: /github
    provider: github
    secretRef: {secretName: gh-webhook, secretKey: token}
    status:
      tokenRef: {secretName: gh-status, secretKey: token}
    triggers:
      - name: build
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: b-}, spec: {pipelineRef: {name: b}}}
`;

describe('chart: following runs', () => {
  it('grants get/list/watch/patch/delete on runs and get/update on the one Lease, and generates the state key', async () => {
    const rendered = await render({
      values: { routes: ROUTES, follow: { statusApiOrigins: ['https://api.github.com'] } },
    });
    const clusterRole = rendered.objects.find((o) => o.kind === 'ClusterRole')! as unknown as {
      rules: { verbs: string[]; resources: string[] }[];
    };
    expect(clusterRole.rules.flatMap((r) => r.verbs)).toEqual(
      expect.arrayContaining(['create', 'get', 'list', 'watch', 'patch', 'delete']),
    );
    const role = rendered.objects.find(
      (o) => o.kind === 'Role' && o.metadata.name.endsWith('-lease'),
    )! as unknown as {
      metadata: { namespace: string };
      rules: { resourceNames?: string[]; verbs: string[] }[];
    };
    expect(role.metadata.namespace).toBe(RELEASE_NAMESPACE);
    expect(role.rules).toContainEqual({
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      resourceNames: ['tekton-gateway-gw'],
      verbs: ['get', 'update'],
    });
    const secret = rendered.objects.find(
      (o) => o.kind === 'Secret' && o.metadata.name.endsWith('-state-key'),
    )! as unknown as { data: { key: string } };
    expect(Buffer.from(secret.data.key, 'base64').length).toBe(48);

    const deployment = rendered.objects.find((o) => o.kind === 'Deployment')! as unknown as {
      spec: {
        template: {
          spec: {
            containers: {
              env: { name: string; value?: string; valueFrom?: unknown }[];
              volumeMounts: { name: string; mountPath: string }[];
            }[];
            volumes: { name: string; secret?: { secretName: string } }[];
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    const env = Object.fromEntries(pod.containers[0]!.env.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env['POD_NAME']).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(env['POD_NAMESPACE']).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
    expect(env['STATUS_API_ORIGINS']).toBe('https://api.github.com');
    expect(env['STATE_KEY_FILE']).toMatch(/state-key\/key$/);
    expect(pod.volumes.map((v) => v.secret?.secretName)).toEqual(
      expect.arrayContaining(['gh-status', 'gh-webhook']),
    );
  });

  it('follow.mode off: no follow RBAC, no Lease Role', async () => {
    const rendered = await render({ values: { routes: ROUTES, follow: { mode: 'off' } } });
    const clusterRole = rendered.objects.find((o) => o.kind === 'ClusterRole')! as unknown as {
      rules: { verbs: string[] }[];
    };
    expect(clusterRole.rules.flatMap((r) => r.verbs)).not.toContain('watch');
    expect(rendered.objects.some((o) => o.kind === 'Role' && o.metadata.name.endsWith('-lease'))).toBe(false);
  });
});

describe('chart: the Lease name with routes from a ConfigMap the chart cannot read', () => {
  const leaseNames = (rendered: Awaited<ReturnType<typeof render>>) =>
    (
      rendered.objects.find((o) => o.kind === 'Role' && o.metadata.name.endsWith('-lease')) as unknown as {
        rules: { resourceNames?: string[] }[];
      }
    ).rules.flatMap((r) => r.resourceNames ?? []);

  it('is named after routesConfigMap.gatewayName, not the example routes in values.yaml', async () => {
    const rendered = await render({
      values: { routesConfigMap: { name: 'team-routes', gatewayName: 'ci-gateway' } },
    });
    expect(leaseNames(rendered)).toEqual(['tekton-gateway-ci-gateway']);
  });

  it('without gatewayName it is the gateway default, tekton-gateway', async () => {
    const rendered = await render({ values: { routesConfigMap: { name: 'team-routes' } } });
    expect(leaseNames(rendered)).toEqual(['tekton-gateway-tekton-gateway']);
  });
});
