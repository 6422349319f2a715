// The fake Kubernetes API of the tests (test/fake-kube/server.ts, compiled with the bench) as a process of
// its own, over TLS like a real API server, answering every create after an injected delay.
//
// Usage (the bench starts it): node fake-kube-server.js LATENCY_MS NAMESPACE
// Prints one JSON line {url, kubeconfigPath} once it listens; stops on SIGTERM.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startFakeKube } from '../test/fake-kube/server.js';
import { repoRoot } from './env.js';

const latencyMs = Number(process.argv[2]);
const namespace = process.argv[3]!;
const tls = path.join(repoRoot, 'test/fake-kube/tls');
const fake = await startFakeKube({
  namespaces: ['default', namespace],
  faults: { latencyMs },
  tls: { key: readFileSync(path.join(tls, 'key.pem')), cert: readFileSync(path.join(tls, 'cert.pem')) },
});
process.stdout.write(`${JSON.stringify({ url: fake.url, kubeconfigPath: fake.kubeconfigPath })}\n`);
process.on('SIGTERM', () => {
  void fake.close().then(() => process.exit(0));
});
