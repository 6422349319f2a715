// Files the servers and wrk read: the gateway's routes files and secrets, adnanh/webhook's hooks.json, and
// one wrk Lua script per payload. All generated into .bench-tmp/work on every run.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { workDir } from './env.js';
import { GITHUB_SECRET, GITLAB_TOKEN, REJECTED_REF, type Payload } from './payloads.js';

export const CREATE_NAMESPACE = 'bench';

export interface Fixtures {
  readonly secretsDir: string;
  /** /github and /gitlab (filters that reject) and /github-create (a filter that passes). */
  readonly routesFile: string;
  readonly hooksFile: string;
}

const TEMPLATES = `templates:
  build:
    params: [{ name: revision }, { name: url }]
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: { generateName: bench-build- }
        spec:
          pipelineRef: { name: build }
          params:
            - { name: revision, value: $(tt.params.revision) }
            - { name: url, value: $(tt.params.url) }
  release:
    params: [{ name: revision }, { name: version }]
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: { generateName: bench-release- }
        spec:
          pipelineRef: { name: release }
          params:
            - { name: revision, value: $(tt.params.revision) }
            - { name: version, value: $(tt.params.version) }
  test:
    params: [{ name: revision }, { name: url }]
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: { generateName: bench-test- }
        spec:
          pipelineRef: { name: test }
          params:
            - { name: revision, value: $(tt.params.revision) }
            - { name: url, value: $(tt.params.url) }
`;

const GITHUB_SECRET_REF = '{ secretName: github-webhook, secretKey: secret }';

export function writeFixtures(): Fixtures {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const secretsDir = path.join(workDir, 'secrets');
  for (const [name, key, value] of [
    ['github-webhook', 'secret', GITHUB_SECRET],
    ['gitlab-webhook', 'token', GITLAB_TOKEN],
  ] as const) {
    mkdirSync(path.join(secretsDir, name), { recursive: true });
    writeFileSync(path.join(secretsDir, name, key), value);
  }

  const routesFile = path.join(workDir, 'routes.yaml');
  writeFileSync(
    routesFile,
    `apiVersion: tekton-gateway/v1
${TEMPLATES}
routes:
  # The verify + filter path: the signature is checked, the body parsed, and the filter says no (200, skipped).
  - path: /github
    provider: github
    secretRef: ${GITHUB_SECRET_REF}
    triggers:
      - name: reject
        filter: body.ref == '${REJECTED_REF}'
        bindings:
          - { name: revision, value: $(body.after) }
          - { name: url, value: $(body.repository.clone_url) }
        template: build
  - path: /gitlab
    provider: gitlab
    secretRef: { secretName: gitlab-webhook, secretKey: token }
    triggers:
      - name: reject
        filter: body.ref == '${REJECTED_REF}'
        bindings:
          - { name: revision, value: $(body.checkout_sha) }
          - { name: url, value: $(body.project.git_http_url) }
        template: build
  # The create path: the filter passes and one PipelineRun is created (201).
  - path: /github-create
    provider: github
    secretRef: ${GITHUB_SECRET_REF}
    namespace: ${CREATE_NAMESPACE}
    triggers:
      - name: build
        filter: body.ref.startsWith('refs/heads/')
        bindings:
          - { name: revision, value: $(body.after) }
          - { name: url, value: $(body.repository.clone_url) }
        template: build
`,
  );

  // adnanh/webhook doing the same job: the signature (or token) rule, then a match on ref that fails.
  const refRule = {
    match: { type: 'value', value: REJECTED_REF, parameter: { source: 'payload', name: 'ref' } },
  };
  const hooks = [
    {
      id: 'github',
      'execute-command': '/bin/true',
      'trigger-rule': {
        and: [
          {
            match: {
              type: 'payload-hmac-sha256',
              secret: GITHUB_SECRET,
              parameter: { source: 'header', name: 'X-Hub-Signature-256' },
            },
          },
          refRule,
        ],
      },
    },
    {
      id: 'gitlab',
      'execute-command': '/bin/true',
      'trigger-rule': {
        and: [
          {
            match: {
              type: 'value',
              value: GITLAB_TOKEN,
              parameter: { source: 'header', name: 'X-Gitlab-Token' },
            },
          },
          refRule,
        ],
      },
    },
  ];
  const hooksFile = path.join(workDir, 'hooks.json');
  writeFileSync(hooksFile, JSON.stringify(hooks, null, 2));
  return { secretsDir, routesFile, hooksFile };
}

/**
 * `routes` GitHub routes with three triggers each, as a mid-size organisation might write them: a build on
 * main, a release on v* tags (with an overlay), tests on pull requests. A push to another branch skips all
 * three of any route, so the work per request is the same whatever the route count.
 */
export function writeManyRoutes(routes: number): string {
  const lines = [`apiVersion: tekton-gateway/v1`, TEMPLATES, 'routes:'];
  for (let i = 0; i < routes; i++) {
    const repo = `org/repo-${String(i).padStart(4, '0')}`;
    lines.push(`  - path: ${manyRoutesPath(i)}
    provider: github
    secretRef: ${GITHUB_SECRET_REF}
    namespace: ci
    triggers:
      - name: build-main
        events: [push]
        filter: body.ref == 'refs/heads/main' && body.repository.full_name == '${repo}'
        bindings:
          - { name: revision, value: $(body.after) }
          - { name: url, value: $(body.repository.clone_url) }
        template: build
      - name: release-tag
        events: [push]
        filter: body.ref.startsWith('refs/tags/v')
        overlays:
          - key: version
            expression: "body.ref.split('/')[2].replace('v', '')"
        bindings:
          - { name: revision, value: $(body.after) }
          - { name: version, value: $(extensions.version) }
        template: release
      - name: pull-request
        events: [pull_request]
        filter: body.action in ['opened', 'synchronize']
        bindings:
          - { name: revision, value: $(body.pull_request.head.sha) }
          - { name: url, value: $(body.repository.clone_url) }
        template: test`);
  }
  const file = path.join(workDir, `routes-${routes}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

export function manyRoutesPath(i: number): string {
  return `/repo-${String(i).padStart(4, '0')}`;
}

function luaString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * A wrk script that POSTs the payload with its headers, and prints one JSON line at the end with the counts
 * and latency percentiles (µs) that the report needs, so nothing depends on wrk's human-readable output.
 */
export function writeWrkScript(payload: Payload, tag: string): string {
  const bodyFile = path.join(workDir, `${tag}.body`);
  writeFileSync(bodyFile, payload.body);
  const headers = Object.entries(payload.headers)
    .map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)
    .join('\n');
  const script = `local f = assert(io.open(${luaString(bodyFile)}, "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
${headers}

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
`;
  const file = path.join(workDir, `${tag}.lua`);
  writeFileSync(file, script);
  return file;
}
