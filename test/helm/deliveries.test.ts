// The chart's side of the deliveries page (contract §14, issue #19): the admin token comes from a Secret that
// the chart generates on install unless one is given, is mounted outside the secrets directory and named by
// ADMIN_TOKEN_FILE, and NOTES print how to read it and port-forward to the page.
import { describe, expect, it } from 'vitest';
import { render, type K8sObject } from './render.js';

const FULLNAME = 'gw-tekton-gateway';

function gatewayContainer(objects: readonly K8sObject[]) {
  const deployment = objects.find((o) => o.kind === 'Deployment')!;
  const pod = (deployment as any).spec.template.spec;
  const container = pod.containers.find((c: any) => c.name === 'gateway');
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
  return { pod, container, env };
}

const secrets = (objects: readonly K8sObject[]) => objects.filter((o) => o.kind === 'Secret');

describe('chart: the admin token of the deliveries page', () => {
  it('by default generates a random token in <fullname>-admin-token and mounts it for ADMIN_TOKEN_FILE', () => {
    const { objects, notes } = render();
    const secret = secrets(objects).find((s) => s.metadata.name === `${FULLNAME}-admin-token`) as any;
    expect(secret).toBeDefined();
    const token = Buffer.from(secret.data.token, 'base64').toString('utf8');
    expect(token).toMatch(/^[A-Za-z0-9]{40}$/);

    const { pod, container, env } = gatewayContainer(objects);
    expect(env.ADMIN_TOKEN_FILE).toBe('/etc/tekton-gateway/admin-token/token');
    const volume = pod.volumes.find((v: any) => v.secret?.secretName === `${FULLNAME}-admin-token`);
    expect(volume.secret.items).toEqual([{ key: 'token', path: 'token' }]);
    const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
    expect(mount).toMatchObject({ mountPath: '/etc/tekton-gateway/admin-token', readOnly: true });
    // Not a subPath mount (a rotated token would never arrive) and not under SECRETS_DIR (§12.0 item 4).
    expect(mount.subPath).toBeUndefined();
    expect(env.ADMIN_TOKEN_FILE.startsWith(`${env.SECRETS_DIR}/`)).toBe(false);

    expect(notes).toContain(
      `kubectl -n tekton-gateway get secret ${FULLNAME}-admin-token -o jsonpath='{.data.token}' | base64 -d`,
    );
    expect(notes).toContain(`kubectl -n tekton-gateway port-forward deploy/${FULLNAME} 9090:9090`);
    expect(notes).toContain('http://localhost:9090/');
    expect(notes).not.toContain(token);
  });

  it('an existing Secret and key: no Secret rendered, that one mounted', () => {
    const { objects, notes } = render({ values: { adminToken: { existingSecret: 'my-admin', key: 'pw' } } });
    expect(secrets(objects).map((s) => s.metadata.name)).not.toContain(`${FULLNAME}-admin-token`);
    const { pod, env } = gatewayContainer(objects);
    expect(env.ADMIN_TOKEN_FILE).toBe('/etc/tekton-gateway/admin-token/pw');
    expect(pod.volumes.find((v: any) => v.secret?.secretName === 'my-admin').secret.items).toEqual([
      { key: 'pw', path: 'pw' },
    ]);
    expect(notes).toContain("get secret my-admin -o jsonpath='{.data.pw}'");
  });

  it('adminToken.enabled=false: no token, no mount, no ADMIN_TOKEN_FILE (the page answers 404)', () => {
    const { objects, notes } = render({ values: { adminToken: { enabled: false } } });
    expect(secrets(objects).map((s) => s.metadata.name)).not.toContain(`${FULLNAME}-admin-token`);
    const { pod, env } = gatewayContainer(objects);
    expect(env.ADMIN_TOKEN_FILE).toBeUndefined();
    expect(pod.volumes.some((v: any) => v.name === 'admin-token')).toBe(false);
    expect(notes).not.toContain('admin-token');
  });
});
