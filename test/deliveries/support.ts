// Shared set-up for the deliveries suites: a routes file with a GitHub, a generic and a compareSecret route,
// an admin token file, and small HTTP helpers for the admin port.
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoSecret, post } from '../helpers/gateway.js';

export const githubSecret = demoSecret('github-webhook', 'secretkey');
export const extraToken = demoSecret('gitlab-webhook', 'token');

export function routesYaml(gateway = ''): string {
  return `apiVersion: tekton-gateway/v1
gateway:
  name: deliveries-test
${gateway
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => `  ${l}`)
  .join('\n')}
templates:
  build:
    params: [{name: revision}]
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: {generateName: build-}
        spec:
          pipelineRef: {name: build}
          params: [{name: revision, value: $(tt.params.revision)}]
routes:
  - path: /github
    provider: github
    secretRef: {secretName: github-webhook, secretKey: secretkey}
    triggers:
      - name: push
        filter: body.ref == 'refs/heads/main'
        bindings: [{name: revision, value: $(body.after)}]
        template: build
  - path: /generic
    provider: generic
    secretRef: {secretName: github-webhook, secretKey: secretkey}
    signature: {header: X-My-Sig, algorithm: sha256, encoding: hex}
    deliveryHeader: X-Delivery
    triggers:
      - name: any
        bindings: [{name: revision, value: $(body.after)}]
        template: build
  - path: /shared
    provider: none
    deliveryHeader: X-Delivery
    triggers:
      - name: guarded
        filter: header.canonical('X-Extra-Token').compareSecret('token', 'gitlab-webhook')
        bindings: [{name: revision, value: $(body.after)}]
        template: build
`;
}

export function tokenFile(token: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'admin-token-')), 'token');
  writeFileSync(file, `${token}\n`);
  return file;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const basic = (token: string, user = 'admin') => ({
  authorization: `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`,
});

export function pushBody(fields: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      ref: 'refs/heads/main',
      after: 'a'.repeat(40),
      repository: { full_name: 'o/r' },
      ...fields,
    }),
  );
}

export function sendGithub(url: string, body: Buffer, delivery: string, extra: Record<string, string> = {}) {
  return post(`${url}/github`, body, {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': delivery,
    'x-hub-signature-256': `sha256=${createHmac('sha256', githubSecret).update(body).digest('hex')}`,
    ...extra,
  });
}

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function postJson(url: string, headers: Record<string, string> = {}, body?: string) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
