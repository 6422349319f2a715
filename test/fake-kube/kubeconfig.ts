// A real kubeconfig file for the fake API server, so tests reach it exactly as the gateway reaches a
// cluster: through KUBECONFIG and client-node's own loader, not through injected objects.
import fs from 'node:fs';
import path from 'node:path';

export interface KubeconfigOptions {
  readonly server: string;
  /** PEM of the server's certificate for https; omitted for http (which client-node allows only with skip). */
  readonly caPem?: string | Buffer;
  /** Bearer token; null writes a user without credentials. */
  readonly token: string | null;
  /** The kubeconfig user's `as:` (client-node then sends Impersonate-User on every request). */
  readonly as?: string;
  readonly namespace?: string;
}

/** Writes the kubeconfig (JSON, which is valid YAML) to `file` and returns the path. */
export function writeKubeconfig(file: string, options: KubeconfigOptions): string {
  const cluster: Record<string, unknown> = { server: options.server };
  if (options.caPem !== undefined) {
    cluster['certificate-authority-data'] = Buffer.from(options.caPem).toString('base64');
  } else {
    cluster['insecure-skip-tls-verify'] = true;
  }
  const user: Record<string, unknown> = {};
  if (options.token !== null) user['token'] = options.token;
  if (options.as !== undefined) user['as'] = options.as;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster }],
    users: [{ name: 'fake', user }],
    contexts: [
      { name: 'fake', context: { cluster: 'fake', user: 'fake', namespace: options.namespace ?? 'default' } },
    ],
    'current-context': 'fake',
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}
