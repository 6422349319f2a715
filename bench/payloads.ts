// The request bodies and headers the bench sends, built the same way in every run so that two reports
// compare like with like. BENCHMARKS.md, "Payloads", describes each one.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './env.js';

type Json = Record<string, unknown>;

/** GitHub puts at most 20 commits in a push payload (docs.github.com, webhook events, "push"). */
const GITHUB_MAX_COMMITS = 20;
/** "A real 30 KB GitHub push" (issue #8): the main payload is grown to at least this many bytes. */
export const GITHUB_PUSH_BYTES = 30_000;
/** The branch the filters ask for; no payload pushes to it, so every filter rejects. */
export const REJECTED_REF = 'refs/heads/does-not-exist';

export const GITHUB_SECRET = 'bench-github-webhook-secret-0123456789';
export const GITLAB_TOKEN = 'bench-gitlab-webhook-token-0123456789';

export interface Payload {
  readonly name: string;
  /** What it is and where it comes from, for the report. */
  readonly description: string;
  readonly body: Buffer;
  /** The headers the Git host sends with it (signature included). */
  readonly headers: Readonly<Record<string, string>>;
  /** Route path on the gateway and on the ceiling server; adnanh/webhook serves /hooks/<path without slash>. */
  readonly path: string;
  readonly provider: 'github' | 'gitlab';
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function octokitPushExamples(): Json[] {
  const file = path.join(repoRoot, 'node_modules/@octokit/webhooks-examples/api.github.com/index.json');
  const all = JSON.parse(readFileSync(file, 'utf8')) as { name: string; examples: Json[] }[];
  const push = all.find((e) => e.name === 'push');
  if (!push) throw new Error(`${file} has no push examples`);
  return push.examples;
}

/** The largest branch push among @octokit/webhooks-examples' push examples (7.7 KB, one commit, in 7.6.1). */
function basePush(): Json {
  const branchPushes = octokitPushExamples().filter((e) => String(e['ref']).startsWith('refs/heads/'));
  const largest = branchPushes.sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length)[0];
  if (!largest) throw new Error('no branch push among the @octokit/webhooks-examples push examples');
  return structuredClone(largest);
}

const SUBJECTS = [
  'Fix the retry loop when the registry answers 429',
  'Move the build cache into a shared workspace',
  'Update the base image to the latest patch release',
  'Add integration tests for the tag pipeline',
  'Refactor the deploy task so it reads the image digest',
  'Document the release checklist in CONTRIBUTING.md',
  'Bump dependencies flagged by the weekly audit',
];

/** A commit shaped like the octokit example's, with a realistic message and file list. */
function commit(i: number, files: number, author: Json): Json {
  const id = sha1(`tekton-gateway-bench-commit-${i}`);
  const subject = SUBJECTS[i % SUBJECTS.length]!;
  const body =
    `The previous behaviour surprised users of the dev pipeline (see the issue for the logs). ` +
    `This change keeps the public interface and adds a test for case ${i}.`;
  const dir = ['src/pipeline', 'src/http', 'test/integration', 'helm/templates', 'docs'][i % 5]!;
  return {
    id,
    tree_id: sha1(`tree-${i}`),
    distinct: true,
    message: `${subject} (#${1200 + i})\n\n${body}\n\nSigned-off-by: ${String(author['name'])} <${String(author['email'])}>`,
    timestamp: new Date(Date.UTC(2024, 4, 1, 12, 0, i)).toISOString().replace('.000Z', 'Z'),
    url: `https://github.com/Codertocat/Hello-World/commit/${id}`,
    author,
    committer: author,
    added: i % 3 === 0 ? [`${dir}/new-${i}.ts`] : [],
    removed: [],
    modified: Array.from({ length: files }, (_, f) => `${dir}/module-${(i * 7 + f) % 97}/file-${f}.ts`),
  };
}

function withCommits(push: Json, commits: Json[]): Json {
  const head = commits.at(-1)!;
  return {
    ...push,
    after: head['id'],
    compare: `https://github.com/Codertocat/Hello-World/compare/${String(push['before']).slice(0, 12)}...${String(head['id']).slice(0, 12)}`,
    commits,
    head_commit: head,
  };
}

/**
 * The main GitHub payload: the largest octokit branch-push example with its one commit replaced by 20
 * (GitHub's cap), each changing enough files that the whole body reaches 30 KB. Compact JSON, as GitHub sends.
 */
export function githubPush30k(): Buffer {
  const base = basePush();
  const author = (base['commits'] as Json[])[0]!['author'] as Json;
  for (let files = 1; ; files++) {
    const commits = Array.from({ length: GITHUB_MAX_COMMITS }, (_, i) => commit(i, files, author));
    const text = JSON.stringify(withCommits(base, commits));
    if (Buffer.byteLength(text) >= GITHUB_PUSH_BYTES) return Buffer.from(text);
  }
}

/**
 * A GitHub-shaped push of about `target` bytes for the size series: the octokit example with its repository
 * and sender cut to the fields pipelines read, plus as many commits as fit (past GitHub's cap of 20: only
 * the size matters here). The smallest size keeps one commit.
 */
export function sizedPush(target: number): Buffer {
  const base = basePush();
  const repo = base['repository'] as Json;
  const author = (base['commits'] as Json[])[0]!['author'] as Json;
  const trimmed: Json = {
    ...base,
    repository: Object.fromEntries(
      ['id', 'name', 'full_name', 'private', 'html_url', 'clone_url', 'default_branch'].map((k) => [
        k,
        repo[k],
      ]),
    ),
    sender: { login: (base['sender'] as Json)['login'], id: (base['sender'] as Json)['id'] },
  };
  delete trimmed['installation'];
  const commits: Json[] = [commit(0, 2, author)];
  let size = Buffer.byteLength(JSON.stringify(withCommits(trimmed, commits)));
  // Each commit adds its JSON and a comma; the head_commit copy changes by at most one commit's size.
  for (let i = 1; ; i++) {
    const next = commit(i, 2, author);
    const grow = Buffer.byteLength(JSON.stringify(next)) + 1;
    if (size + grow > target) break;
    commits.push(next);
    size += grow;
  }
  return Buffer.from(JSON.stringify(withCommits(trimmed, commits)));
}

/** GitLab's push example (go-playground/webhooks, MIT) from test/fixtures, byte for byte as the file holds it. */
export function gitlabPush(): Buffer {
  return readFileSync(path.join(repoRoot, 'test', 'fixtures', 'payloads', 'gitlab', 'push-event.json'));
}

export function githubHeaders(
  body: Buffer,
  delivery = '72d3162e-cc78-11e3-81ab-4c9367dc0958',
): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'GitHub-Hookshot/044aadd',
    'X-GitHub-Event': 'push',
    'X-GitHub-Delivery': delivery,
    'X-GitHub-Hook-ID': '292430182',
    'X-GitHub-Hook-Installation-Target-ID': '79929171',
    'X-GitHub-Hook-Installation-Target-Type': 'repository',
    // GitHub still sends the SHA-1 signature too; neither server reads it.
    'X-Hub-Signature': `sha1=${createHmac('sha1', GITHUB_SECRET).update(body).digest('hex')}`,
    'X-Hub-Signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`,
  };
}

export function gitlabHeaders(): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'GitLab/17.5.0',
    'X-Gitlab-Event': 'Push Hook',
    'X-Gitlab-Token': GITLAB_TOKEN,
    'X-Gitlab-Instance': 'https://gitlab.example.com',
    'X-Gitlab-Webhook-UUID': '0f4f2a4e-9a4c-4a1f-8d1e-52d3a1f5b6c7',
    'X-Gitlab-Event-UUID': '5e3b6c1a-2f0d-4e8a-9b7c-1d2e3f4a5b6c',
    'Idempotency-Key': '5e3b6c1a-2f0d-4e8a-9b7c-1d2e3f4a5b6c',
  };
}

export function githubPayload(name: string, description: string, body: Buffer): Payload {
  return { name, description, body, headers: githubHeaders(body), path: '/github', provider: 'github' };
}

export function mainPayloads(): Payload[] {
  const github = githubPush30k();
  const gitlab = gitlabPush();
  return [
    githubPayload(
      'github-push',
      `GitHub push, ${github.length} B: the largest @octokit/webhooks-examples branch push with 20 commits ` +
        '(GitHub’s cap), compact JSON, HMAC-SHA256 in X-Hub-Signature-256',
      github,
    ),
    {
      name: 'gitlab-push',
      description:
        `GitLab push, ${gitlab.length} B: test/fixtures/payloads/gitlab/push-event.json as is, ` +
        'X-Gitlab-Token (GitLab’s default: a token, no HMAC)',
      body: gitlab,
      headers: gitlabHeaders(),
      path: '/gitlab',
      provider: 'gitlab',
    },
  ];
}
