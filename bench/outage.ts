// The "outage" figures of issue #15 (background completion, contract §3): 100 keyed GitHub deliveries reach
// a gateway while the fake Kubernetes API refuses every create (503) for 30 s; then the API recovers. Every
// delivery must end as exactly one PipelineRun without any redelivery, and we measure how long after the
// recovery the last run was created.
//
// Usage (after `npm run bench` has built dist/ and .bench-tmp/build/):
//   node .bench-tmp/build/bench/outage.js [--gateway PATH/main.js] [--deliveries N] [--outage-seconds S]
// Prints one JSON line of figures on stdout; progress on stderr.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeKube } from '../test/fake-kube/server.js';
import { repoRoot } from './env.js';

const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const gatewayMain = path.resolve(arg('--gateway', path.join(repoRoot, 'dist/main.js')));
const DELIVERIES = Number(arg('--deliveries', '100'));
const OUTAGE_MS = Number(arg('--outage-seconds', '30')) * 1000;
const SECRET = 'outage-bench-secret';
const EVENTID = 'triggers.tekton.dev/triggers-eventid';
const progress = (m: string) => process.stderr.write(`[outage] ${m}\n`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'outage-'));
mkdirSync(path.join(dir, 'secrets', 'github-webhook'), { recursive: true });
writeFileSync(path.join(dir, 'secrets', 'github-webhook', 'secretkey'), SECRET);
const routes = path.join(dir, 'routes.yaml');
writeFileSync(
  routes,
  `apiVersion: tekton-gateway/v1
gateway:
  namespace: ci
routes:
  - path: /github
    provider: github
    secretRef: {secretName: github-webhook, secretKey: secretkey}
    triggers:
      - name: build
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: build-}, spec: {pipelineRef: {name: build}}}
`,
);

const fake = await startFakeKube({ namespaces: ['ci'], faults: { errorRate: 1, status: 503 } });
const child = spawn(
  process.execPath,
  [
    gatewayMain,
    'serve',
    '--routes',
    routes,
    '--secrets-dir',
    path.join(dir, 'secrets'),
    '--port',
    '0',
    '--admin-port',
    '0',
    '--drain-delay',
    '0',
    // Every delivery is held until its 9 s deadline during the outage: room for all of them at once.
    '--max-in-flight',
    String(DELIVERIES + 10),
    '--max-in-flight-per-route',
    String(DELIVERIES + 10),
  ],
  {
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, KUBECONFIG: fake.kubeconfigPath },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const port = await new Promise<number>((resolve, reject) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'listening') resolve(entry.port!);
    } catch {
      // not a log line
    }
  });
  child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}`)));
});

const started = Date.now();
progress(`${DELIVERIES} deliveries while the API answers 503 to every create for ${OUTAGE_MS / 1000} s`);
const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', head_commit: { id: 'a'.repeat(40) } }));
const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
const answers = await Promise.all(
  Array.from({ length: DELIVERIES }, async (_, i) => {
    const res = await fetch(`http://127.0.0.1:${port}/github`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': `outage-${i}`,
        'x-hub-signature-256': signature,
      },
    });
    const json = (await res.json()) as { triggers?: { retrying?: boolean }[] };
    return { status: res.status, retrying: json.triggers?.[0]?.retrying === true };
  }),
);
const retrying = answers.filter((a) => a.status === 503 && a.retrying).length;
progress(`answers: ${retrying} × 503 retrying, others ${JSON.stringify(answers.filter((a) => !a.retrying))}`);

// The outage lasts at least until every delivery has its 503 (the 9 s webhook deadline), whatever --outage-seconds says.
await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + OUTAGE_MS - Date.now())));
const refusedDuringOutage = fake.requests.length;
fake.setFaults({});
const recovered = Date.now();
progress(
  `API recovered after ${((recovered - started) / 1000).toFixed(1)} s; ${refusedDuringOutage} creates refused`,
);

const eventIds = () =>
  (fake.objects() as { metadata: { labels: Record<string, string> } }[]).map(
    (o) => o.metadata.labels[EVENTID],
  );
let lastCreate = recovered;
let seen = 0;
while (Date.now() - recovered < 120_000) {
  const count = fake.objects().length;
  if (count !== seen) {
    seen = count;
    lastCreate = Date.now();
  }
  if (count >= DELIVERIES) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const ids = eventIds();
const figures = {
  deliveries: DELIVERIES,
  outageSeconds: OUTAGE_MS / 1000,
  answered503Retrying: retrying,
  runsCreated: ids.length,
  distinctDeliveries: new Set(ids).size,
  duplicates: ids.length - new Set(ids).size,
  createsRefusedDuringOutage: refusedDuringOutage,
  createCallsAfterRecovery: fake.requests.length - refusedDuringOutage,
  secondsFromRecoveryToLastCreate: Number(((lastCreate - recovered) / 1000).toFixed(2)),
};
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
await fake.close();
process.stdout.write(`${JSON.stringify(figures)}\n`);
