// Recorded payloads for the seed scenarios, from test/fixtures/payloads/ (go-playground/webhooks, MIT),
// edited here, and only where the seed's filters look:
// - GitLab push/tag payloads: real GitLab deliveries carry `event_name` ("push" / "tag_push", GitLab's
//   webhook docs) next to `object_kind`; the go-playground fixtures lack it, and the seed filters on it, so
//   it is added. `ref`, `project.path_with_namespace` and `project.git_http_url` name the seed's repository.
// - GitLab merge request: merged into main of the manifest repository (`object_attributes.action: merge`).
// - GitHub and Gitea payloads are used as recorded.
import type { JsonObject } from '../../src/model.js';
import { payload } from '../helpers/shared.js';

export interface SeedDelivery {
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: JsonObject;
}

const json = (relative: string): any => JSON.parse(payload(relative).toString('utf8'));

const APP = 'gitlab/flask-k8s-example';
const MANIFEST = 'gitlab/flask-k8s-manifest';

function gitlabPush(ref: string, project = APP): JsonObject {
  const body = json('gitlab/push-event.json');
  body.event_name = 'push';
  body.ref = ref;
  body.project.path_with_namespace = project;
  body.project.git_http_url = `https://gitlab.example.com/${project}.git`;
  return body;
}

function gitlabMergeRequest(action: string): JsonObject {
  const body = json('gitlab/merge-request-event.json');
  body.object_attributes.action = action;
  body.object_attributes.state = action === 'merge' ? 'merged' : 'opened';
  body.object_attributes.target_branch = 'main';
  body.project.path_with_namespace = MANIFEST;
  body.project.git_http_url = `https://gitlab.example.com/${MANIFEST}.git`;
  return body;
}

function gitlabTag(ref: string): JsonObject {
  const body = json('gitlab/tag-event.json');
  body.event_name = 'tag_push';
  body.ref = ref;
  body.project.path_with_namespace = APP;
  body.project.git_http_url = `https://gitlab.example.com/${APP}.git`;
  return body;
}

const gitlabHeaders = (event: string, id: string) => ({
  'Content-Type': 'application/json',
  'X-Gitlab-Event': event,
  'Idempotency-Key': id,
});

export const GITLAB = {
  pushDev: {
    name: 'push to dev',
    headers: gitlabHeaders('Push Hook', 'gl-1'),
    body: gitlabPush('refs/heads/dev'),
  },
  pushMain: {
    name: 'push to main',
    headers: gitlabHeaders('Push Hook', 'gl-2'),
    body: gitlabPush('refs/heads/main'),
  },
  pushOtherProject: {
    name: 'push to dev of another project',
    headers: gitlabHeaders('Push Hook', 'gl-3'),
    body: gitlabPush('refs/heads/dev', 'mike/diaspora'),
  },
  tag: {
    name: 'tag v1.1.0',
    headers: gitlabHeaders('Tag Push Hook', 'gl-4'),
    body: gitlabTag('refs/tags/v1.1.0'),
  },
  mergeMerged: {
    name: 'manifest MR merged into main',
    headers: gitlabHeaders('Merge Request Hook', 'gl-5'),
    body: gitlabMergeRequest('merge'),
  },
  mergeOpened: {
    name: 'manifest MR opened',
    headers: gitlabHeaders('Merge Request Hook', 'gl-6'),
    body: gitlabMergeRequest('open'),
  },
} satisfies Record<string, SeedDelivery>;

const githubHeaders = (event: string, id: string) => ({
  'Content-Type': 'application/json',
  'X-GitHub-Event': event,
  'X-GitHub-Delivery': id,
});

export const GITHUB = {
  push: {
    name: 'push',
    headers: githubHeaders('push', '72d3162e-cc78-11e3-81ab-4c9367dc0958'),
    body: json('github/push.json'),
  },
  ping: {
    name: 'ping on hook creation',
    headers: githubHeaders('ping', '0b989ba4-242f-11e5-81e1-c7b5f6a6a3d7'),
    body: json('github/ping.json'),
  },
} satisfies Record<string, SeedDelivery>;

const giteaHeaders = (event: string, id: string) => ({
  'Content-Type': 'application/json',
  'X-Gitea-Event': event,
  'X-Gitea-Delivery': id,
});

export const GITEA = {
  push: { name: 'push', headers: giteaHeaders('push', 'gt-1'), body: json('gitea/push-event.json') },
  create: {
    name: 'branch created',
    headers: giteaHeaders('create', 'gt-2'),
    body: json('gitea/create-event.json'),
  },
} satisfies Record<string, SeedDelivery>;
