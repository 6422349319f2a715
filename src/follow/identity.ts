// Who this replica is (contract §7, §12, §12.0 item 2): POD_NAMESPACE (default the service account's
// namespace file, else gateway.namespace) and POD_NAME (default the host name). The chart sets both from the
// downward API; the instance label and the Lease are derived from them.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface Identity {
  readonly podNamespace: string;
  readonly podName: string;
}

export function resolveIdentity(
  env: Readonly<Record<string, string | undefined>>,
  gatewayNamespace: string,
  namespaceFile = SERVICE_ACCOUNT_NAMESPACE_FILE,
): Identity {
  let podNamespace = env['POD_NAMESPACE'];
  if (!podNamespace) {
    try {
      podNamespace = readFileSync(namespaceFile, 'utf8').trim() || undefined;
    } catch {
      // Not in a cluster: the config's namespace is the only other answer.
    }
  }
  return {
    podNamespace: podNamespace ?? gatewayNamespace,
    podName: env['POD_NAME'] || os.hostname(),
  };
}
