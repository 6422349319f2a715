// Issue #15's "CPU per create": the CPU one create costs the process that sends it, through the gateway's
// Kubernetes client (dist/kube/create.js), against a bare node:https request carrying the same object, the
// same path, query and headers to the same fake API (TLS, no injected latency, a process of its own).
//
// Each measurement is a fresh process (its JIT warmed by WARMUP creates first) timing process.cpuUsage()
// around COUNT sequential creates; the kinds are interleaved round by round, so a noisy machine slows all
// of them alike and the ratio holds better than the absolute figures.
//
// Usage (after `npm run bench` has built dist/ and .bench-tmp/build/):
//   node .bench-tmp/build/bench/create-cpu.js [--gateway PATH/main.js] [--baseline PATH/main.js]
//        [--rounds N] [--count N] [--instructions]
// Prints one JSON line {kind: [µs per create, one per round]} on stdout; progress on stderr. With
// --instructions (needs valgrind), one figure per kind: instructions per create counted by callgrind.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startFakeKube } from '../test/fake-kube/server.js';
import { repoRoot } from './env.js';

const NAMESPACE = 'bench';
const WARMUP = 300;
/** What the gateway renders for the bench's create route: a PipelineRun with its labels and annotations. */
const OBJECT = {
  apiVersion: 'tekton.dev/v1',
  kind: 'PipelineRun',
  metadata: {
    generateName: 'build-',
    namespace: NAMESPACE,
    labels: {
      'app.kubernetes.io/managed-by': 'tekton-gateway',
      'triggers.tekton.dev/eventlistener': 'bench',
      'triggers.tekton.dev/trigger': 'build',
      'triggers.tekton.dev/triggers-eventid': '0d7d7a34-6c0e-4a4c-9e0b-2f4ad9b9d6e1',
    },
    annotations: {
      'tekton-gateway.dev/route': '/github-create',
      'tekton-gateway.dev/received-at': '2026-12-02T16:00:00.000Z',
    },
  },
  spec: {
    pipelineRef: { name: 'build' },
    params: [
      { name: 'revision', value: '9b2c6f8e3a1d4b5c6e7f8a9b0c1d2e3f4a5b6c7d' },
      { name: 'url', value: 'https://github.com/octo-org/octo-repo.git' },
    ],
  },
};

const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const progress = (m: string) => process.stderr.write(`[create-cpu] ${m}\n`);

/** One measurement, in this process: WARMUP creates, then COUNT timed ones; prints µs of CPU per create. */
async function worker(kind: string, main: string, kubeconfig: string, count: number): Promise<void> {
  let createOne: () => Promise<void>;
  if (kind === 'bare') {
    // What any client must do: the kubeconfig's server, CA and token, a keep-alive agent, the object as JSON
    // out and the answer parsed.
    const config = JSON.parse(readFileSync(kubeconfig, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { token: string } }[];
    };
    const { server, 'certificate-authority-data': ca } = config.clusters[0]!.cluster;
    const url = new URL(server);
    const agent = new https.Agent({ keepAlive: true, ca: Buffer.from(ca, 'base64') });
    const token = config.users[0]!.user.token;
    const requestPath = `/apis/tekton.dev/v1/namespaces/${NAMESPACE}/pipelineruns?fieldManager=tekton-gateway&fieldValidation=Strict`;
    createOne = () =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify(OBJECT);
        const req = https.request(
          {
            agent,
            method: 'POST',
            hostname: url.hostname,
            port: url.port,
            path: requestPath,
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/json',
              'user-agent': 'tekton-gateway',
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (res.statusCode === 201) resolve();
              else reject(new Error(`answered ${res.statusCode}`));
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
  } else {
    const kube = (await import(pathToFileURL(path.join(path.dirname(main), 'kube/create.js')).href)) as {
      loadCluster(env: NodeJS.ProcessEnv): { ok: true; cluster: unknown } | { ok: false; message: string };
      makeCreate(cluster: unknown): (request: Record<string, unknown>) => Promise<{ kind: string }>;
    };
    const loaded = kube.loadCluster({ KUBECONFIG: kubeconfig });
    if (!loaded.ok) throw new Error(loaded.message);
    const create = kube.makeCreate(loaded.cluster);
    createOne = async () => {
      const result = await create({
        group: 'tekton.dev',
        version: 'v1',
        plural: 'pipelineruns',
        namespace: NAMESPACE,
        // The create does not change the object; the gateway renders a new one per webhook.
        object: OBJECT,
        deadline: Date.now() + 9_000,
      });
      if (result.kind !== 'created') throw new Error(`create: ${JSON.stringify(result)}`);
    };
  }
  for (let i = 0; i < WARMUP; i++) await createOne();
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await createOne();
  const used = process.cpuUsage(before);
  process.stdout.write(`${((used.user + used.system) / count).toFixed(1)}\n`);
  process.exit(0);
}

function spawnWorker(kind: string, main: string, kubeconfig: string, count: number, valgrind: boolean) {
  const args = [process.argv[1]!, '--worker', kind, '--gateway', main, '--kubeconfig', kubeconfig];
  const node = [process.execPath, ...args, '--count', String(count)];
  return valgrind
    ? spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', ...node], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(node[0]!, node.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** µs of CPU per create, from one fresh process. */
function measure(kind: string, main: string, kubeconfig: string, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawnWorker(kind, main, kubeconfig, count, false);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(Number(out.trim())) : reject(new Error(`${kind} worker exited with ${code}`)),
    );
  });
}

/**
 * Instructions per create under valgrind's callgrind, which counts instructions rather than time: the same
 * figure whatever else the machine runs. Two processes, SMALL and SMALL + count creates after the same
 * warm-up; the difference divided by `count` leaves out start-up and warm-up.
 */
async function instructions(kind: string, main: string, kubeconfig: string, count: number): Promise<number> {
  const total = (n: number) =>
    new Promise<number>((resolve, reject) => {
      const child = spawnWorker(kind, main, kubeconfig, n, true);
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.on('exit', (code) => {
        const m = /Collected : (\d+)/.exec(err);
        if (code === 0 && m) resolve(Number(m[1]));
        else reject(new Error(`${kind} under callgrind exited with ${code}: ${err.slice(-300)}`));
      });
    });
  const small = await total(SMALL);
  return (await total(SMALL + count)) / count - small / count;
}
const SMALL = 200;

async function coordinator(): Promise<void> {
  const gateway = path.resolve(arg('--gateway', path.join(repoRoot, 'dist/main.js')));
  const baseline = process.argv.includes('--baseline') ? path.resolve(arg('--baseline', '')) : undefined;
  const rounds = Number(arg('--rounds', '4'));
  const count = Number(arg('--count', '1500'));
  const tls = path.join(repoRoot, 'test/fake-kube/tls');
  // In this process, with the fake's own request log off the measured processes' CPU.
  const fake = await startFakeKube({
    namespaces: [NAMESPACE],
    tls: { key: readFileSync(path.join(tls, 'key.pem')), cert: readFileSync(path.join(tls, 'cert.pem')) },
  });
  const kinds: [string, string][] = [
    ['gateway', gateway],
    ['bare', gateway],
    ...(baseline ? ([['baseline', baseline]] as [string, string][]) : []),
  ];
  const results: Record<string, number[]> = Object.fromEntries(kinds.map(([k]) => [k, []]));
  try {
    if (process.argv.includes('--instructions')) {
      // Deterministic enough for one round: callgrind's counts repeat within about 1 % (JIT decisions vary).
      for (const [kind, main] of kinds) {
        const per = await instructions(kind, main, fake.kubeconfigPath, Math.min(count, 1000));
        results[kind]!.push(Math.round(per));
        progress(`${kind}: ${Math.round(per)} instructions per create (callgrind)`);
      }
    } else {
      for (let round = 1; round <= rounds; round++) {
        for (const [kind, main] of kinds) {
          const us = await measure(kind, main, fake.kubeconfigPath, count);
          results[kind]!.push(us);
          progress(`round ${round}/${rounds}: ${kind} ${us} µs per create`);
        }
      }
    }
  } finally {
    await fake.close();
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (process.argv.includes('--worker')) {
  await worker(
    arg('--worker', ''),
    arg('--gateway', ''),
    arg('--kubeconfig', ''),
    Number(arg('--count', '0')),
  );
} else {
  await coordinator();
}
