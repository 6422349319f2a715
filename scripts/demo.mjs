#!/usr/bin/env node
// `npm run demo`: starts the built gateway in dry-run mode (no cluster needed) on the example routes.yaml,
// sends it recorded webhooks signed the way each Git host signs them, prints what would be created and what
// was skipped or refused and why, then stops the gateway.
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const secretsDir = join(root, 'test/fixtures/secrets');
const secret = (name, key) => readFileSync(join(secretsDir, name, key), 'utf8').replace(/\r?\n$/, '');
const body = (file) => readFileSync(join(root, 'examples/deliveries', file));

const sign = {
  gitlab: (_raw, event) => ({
    'X-Gitlab-Event': event,
    'X-Gitlab-Token': secret('gitlab-webhook', 'token'),
    'Idempotency-Key': randomUUID(),
  }),
  github: (raw, event) => ({
    'X-GitHub-Event': event,
    'X-GitHub-Delivery': randomUUID(),
    'X-Hub-Signature-256': `sha256=${createHmac('sha256', secret('github-webhook', 'secretkey')).update(raw).digest('hex')}`,
  }),
  gitea: (raw, event) => {
    const signature = createHmac('sha256', secret('gitea-webhook', 'secret')).update(raw).digest('hex');
    const id = randomUUID();
    // Gitea also sends GitHub- and Gogs-style copies of its headers; the gateway reads only X-Gitea-*.
    return {
      'X-Gitea-Event': event,
      'X-Gitea-Delivery': id,
      'X-Gitea-Signature': signature,
      'X-GitHub-Event': event,
      'X-GitHub-Delivery': id,
      'X-Hub-Signature-256': `sha256=${signature}`,
    };
  },
};

const deliveries = [
  {
    title: 'GitLab push to branch dev',
    path: '/gitlab',
    provider: 'gitlab',
    event: 'Push Hook',
    file: 'gitlab-push-dev.json',
  },
  {
    title: 'GitLab push to main',
    path: '/gitlab',
    provider: 'gitlab',
    event: 'Push Hook',
    file: 'gitlab-push-main.json',
  },
  {
    title: 'GitLab tag push v1.1.0',
    path: '/gitlab',
    provider: 'gitlab',
    event: 'Tag Push Hook',
    file: 'gitlab-tag-push.json',
  },
  {
    title: 'GitLab merge request merged into main',
    path: '/gitlab',
    provider: 'gitlab',
    event: 'Merge Request Hook',
    file: 'gitlab-merge-request-merged.json',
  },
  { title: 'GitHub push', path: '/github', provider: 'github', event: 'push', file: 'github-push.json' },
  {
    title: 'GitHub ping (sent when the hook is created)',
    path: '/github',
    provider: 'github',
    event: 'ping',
    file: 'github-ping.json',
  },
  { title: 'Gitea push', path: '/gitea', provider: 'gitea', event: 'push', file: 'gitea-push.json' },
  {
    title: 'GitHub push whose body was altered after signing',
    path: '/github',
    provider: 'github',
    event: 'push',
    file: 'github-push.json',
    tamper: true,
  },
];

const server = spawn(
  process.execPath,
  [
    join(root, 'dist/main.js'),
    'serve',
    '--dry-run',
    '--routes',
    join(root, 'routes.yaml'),
    '--secrets-dir',
    secretsDir,
    '--port',
    '0',
    '--admin-port',
    '0',
    '--drain-delay',
    '0',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise((resolve, reject) => {
  let buffered = '';
  server.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (const line of buffered.split('\n')) {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') resolve(entry.port);
      } catch {
        // a partial line; wait for more
      }
    }
  });
  server.once('exit', (code) => reject(new Error(`the gateway exited with code ${code} before listening`)));
});

console.log(`tekton-gateway is serving routes.yaml in dry-run mode on http://127.0.0.1:${port}\n`);
let failures = 0;
for (const d of deliveries) {
  const raw = body(d.file);
  const headers = { 'Content-Type': 'application/json', ...sign[d.provider](raw, d.event) };
  const sent = d.tamper ? Buffer.from(raw.toString().replace('"master"', '"evil"')) : raw;
  const res = await fetch(`http://127.0.0.1:${port}${d.path}`, { method: 'POST', headers, body: sent });
  const answer = await res.json();
  console.log(`▶ ${d.title}\n  POST ${d.path}  ${d.event}  →  HTTP ${res.status}`);
  if (answer.error) console.log(`  refused: ${answer.error}`);
  for (const t of answer.triggers ?? []) {
    if (t.outcome === 'rendered') {
      for (const o of t.objects) {
        const params = (o.spec?.params ?? []).map((p) => `${p.name}=${JSON.stringify(p.value)}`).join(' ');
        console.log(
          `  ✔ ${t.name}: would create ${o.kind} ${o.metadata.namespace}/${o.metadata.name ?? o.metadata.generateName}`,
        );
        if (params) console.log(`      ${params}`);
      }
    } else {
      console.log(`  · ${t.name}: ${t.outcome}${t.reason ? ` (${t.reason})` : ''}`);
    }
  }
  console.log('');
  const expectedRefusal = d.tamper ? 401 : 200;
  if (res.status !== expectedRefusal) failures++;
}

server.kill('SIGTERM');
const code = await new Promise((resolve) => server.once('exit', resolve));
console.log(`The gateway stopped (exit code ${code}). Nothing was created: this was a dry run.`);
console.log(
  'Next: `node dist/main.js render --help`, or point it at a cluster with `node dist/main.js serve`.',
);
process.exit(failures === 0 && code === 0 ? 0 : 1);
