// The production Kubernetes client pointed at a fake API server, as `serve` builds it from a kubeconfig.
import { kubeClientFromConfig, type LeanKubeClient } from '../../src/kube/client.js';
import { loadCluster } from '../../src/kube/create.js';
import type { FakeKube } from '../fake-kube/server.js';

export function clientFor(fake: FakeKube): LeanKubeClient {
  const cluster = loadCluster({ KUBECONFIG: fake.kubeconfigPath });
  if (!cluster.ok) throw new Error(cluster.message);
  return kubeClientFromConfig(cluster.cluster.kubeConfig);
}

export async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
