// Issue #9's acceptance: each seed scenario (test/fixtures/import, see its README) round-trips.
//   Tekton YAML → import → the golden routes.yaml (byte for byte) → loads → recorded deliveries through
//   handleWebhook (dry run) → the same objects Tekton would have created (./tekton-model.ts), deliveries
//   Tekton would have dropped skipped.
// `UPDATE_GOLDEN=1 npx vitest run test/import` rewrites the goldens; review the diff before committing.
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import { importTekton } from '../../src/import/convert.js';
import type { Config, Delivery, JsonObject, PipelineIO, SecretRef, TriggerOutcome } from '../../src/model.js';
import { handleWebhook } from '../../src/pipeline/handle.js';
import { matchRoute } from '../../src/pipeline/match.js';
import { repoRoot } from '../helpers/shared.js';
import { GITEA, GITHUB, GITLAB, type SeedDelivery } from './seed-deliveries.js';
import { TektonModel } from './tekton-model.js';

const fixture = (name: string) => join(repoRoot, 'test/fixtures/import', name);
const golden = (name: string) => join(repoRoot, 'test/golden/import', name);

interface Send {
  /** Which listener's URL the Git host's webhook points at, and so the gateway path. */
  readonly listener: string;
  readonly path: string;
  readonly delivery: SeedDelivery;
  /** What the seed text says should happen: stated here, then checked against the model and the gateway. */
  readonly expect: 'created' | 'not created';
  /** Params the seed text states for the created run. */
  readonly params?: Readonly<Record<string, string>>;
}

interface Scenario {
  readonly name: string;
  readonly fixture: string;
  readonly golden: string;
  readonly sends: readonly Send[];
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'GitLab: three listeners behind one Ingress',
    fixture: 'gitlab-flask-app.yaml',
    golden: 'gitlab-flask-app.routes.yaml',
    sends: [
      {
        listener: 'flask-app-dev',
        path: '/dev',
        delivery: GITLAB.pushDev,
        expect: 'created',
        params: {
          branch: 'dev',
          imageName: 'harbor.example.com/k8s/flask-k8s-example-dev',
          imageTag: 'latest',
          argocdApplicationName: 'flask-dev',
          repositoryUrl: 'https://gitlab.example.com/gitlab/flask-k8s-example.git',
        },
      },
      { listener: 'flask-app-dev', path: '/dev', delivery: GITLAB.pushMain, expect: 'not created' },
      { listener: 'flask-app-dev', path: '/dev', delivery: GITLAB.pushOtherProject, expect: 'not created' },
      { listener: 'flask-app-dev', path: '/dev', delivery: GITLAB.tag, expect: 'not created' },
      {
        listener: 'flask-app-prod',
        path: '/prod',
        delivery: GITLAB.tag,
        expect: 'created',
        params: { branch: 'main', imageName: 'harbor.example.com/k8s/flask-k8s-example', imageTag: '1.1.0' },
      },
      { listener: 'flask-app-prod', path: '/prod', delivery: GITLAB.pushDev, expect: 'not created' },
      {
        listener: 'merge-manifest',
        path: '/manifest',
        delivery: GITLAB.mergeMerged,
        expect: 'created',
        params: { applicationName: 'flask-prod' },
      },
      { listener: 'merge-manifest', path: '/manifest', delivery: GITLAB.mergeOpened, expect: 'not created' },
      // A push payload has no event_type: the first filter errors, in Tekton as in the gateway.
      { listener: 'merge-manifest', path: '/manifest', delivery: GITLAB.pushDev, expect: 'not created' },
    ],
  },
  {
    name: 'GitHub: signed push events only',
    fixture: 'github-push.yaml',
    golden: 'github-push.routes.yaml',
    sends: [
      {
        listener: 'build-deploy-pipeline-listener',
        path: '/build-deploy-pipeline-listener',
        delivery: GITHUB.push,
        expect: 'created',
        params: {
          gitrevision: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
          gitrepositoryurl: 'https://github.com/binkkatal/sample_app',
        },
      },
      {
        listener: 'build-deploy-pipeline-listener',
        path: '/build-deploy-pipeline-listener',
        delivery: GITHUB.ping,
        expect: 'not created',
      },
    ],
  },
  {
    name: 'Gitea: a listener with a static binding',
    fixture: 'gitea-static.yaml',
    golden: 'gitea-static.routes.yaml',
    sends: [
      {
        listener: 'gitea-event-listener',
        path: '/gitea-event-listener',
        delivery: GITEA.push,
        expect: 'created',
        params: { 'gitrevision-tag': 'master' },
      },
      // No interceptor, no filter: Tekton created a run for every event, and so does the import.
      {
        listener: 'gitea-event-listener',
        path: '/gitea-event-listener',
        delivery: GITEA.create,
        expect: 'created',
      },
    ],
  },
];

function importFixture(scenario: Scenario): string {
  const text = readFileSync(fixture(scenario.fixture), 'utf8');
  const result = importTekton([{ name: scenario.fixture, text }]);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  expect(result.complete, JSON.stringify(result.findings.filter((f) => f.level === 'left-out'))).toBe(true);
  return result.yaml;
}

function toDelivery(path: string, d: SeedDelivery, body = Buffer.from(JSON.stringify(d.body))): Delivery {
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(d.headers)) headers[k.toLowerCase()] = [v];
  return { method: 'POST', path, requestURL: path, headers, body };
}

function pipelineIO(
  options: { secrets?: (ref: SecretRef) => Buffer | undefined; skipVerify?: boolean } = {},
): PipelineIO {
  return {
    now: Date.now,
    randomUUID: () => '00000000-0000-4000-8000-000000000001',
    secrets: options.secrets ?? (() => undefined),
    create: undefined,
    serverDryRun: false,
    skipVerify: options.skipVerify ?? true,
    deadline: Date.now() + 20_000,
    trace: undefined,
  };
}

async function send(config: Config, path: string, d: SeedDelivery) {
  const route = matchRoute(config.routes, path);
  if (!route) throw new Error(`no route for ${path}`);
  return handleWebhook(config, route, toDelivery(path, d), pipelineIO());
}

const params = (object: JsonObject): Record<string, string> =>
  Object.fromEntries(
    (((object.spec as JsonObject).params ?? []) as { name: string; value: string }[]).map((p) => [
      p.name,
      p.value,
    ]),
  );

describe.each(SCENARIOS)('$name', (scenario) => {
  const model = new TektonModel(readFileSync(fixture(scenario.fixture), 'utf8'));

  it('imports to the reviewed golden routes.yaml, byte for byte, with nothing left out', () => {
    const yaml = importFixture(scenario);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden(scenario.golden), yaml);
    expect(yaml).toBe(readFileSync(golden(scenario.golden), 'utf8'));
  });

  it('passes validate', () => {
    const loaded = loadConfigBytes(Buffer.from(importFixture(scenario)), scenario.golden);
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
  });

  it.each(scenario.sends.map((s) => ({ ...s, label: `${s.delivery.name} → ${s.path}` })))(
    '$label: $expect, as Tekton would',
    async (s) => {
      const loaded = loadConfigBytes(Buffer.from(importFixture(scenario)), scenario.golden);
      if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
      const config = loaded.config;
      const result = await send(config, s.path, s.delivery);
      if (result.kind !== 'processed') throw new Error(`rejected: ${result.rejection.message}`);
      const tekton = model.handle(
        s.listener,
        { headers: s.delivery.headers, body: s.delivery.body, path: s.path },
        result.eventId,
      );

      // The seed text's expectation, the model and the gateway agree on whether anything is created.
      const created = (o: TriggerOutcome) => o.outcome === 'rendered';
      expect(tekton.some((t) => t.result === 'created')).toBe(s.expect === 'created');
      expect(result.triggers.some(created)).toBe(s.expect === 'created');
      expect(result.triggers.map((t) => t.name).sort()).toEqual(tekton.map((t) => t.trigger).sort());

      for (const expected of tekton) {
        const ours = result.triggers.find((t) => t.name === expected.trigger)!;
        if (expected.result === 'stopped') {
          expect(ours.outcome).toBe('skipped');
          continue;
        }
        if (expected.result === 'error') {
          expect(ours.outcome === 'failed' ? ours.failure : ours.outcome).toBe('cel');
          continue;
        }
        if (ours.outcome !== 'rendered')
          throw new Error(`${ours.name}: ${ours.outcome} ${JSON.stringify(ours)}`);
        expect(ours.objects).toHaveLength(expected.objects.length);
        expected.objects.forEach((want, i) => {
          const got = ours.objects[i]!;
          const gotMeta = got.metadata as JsonObject;
          const wantMeta = want.metadata as JsonObject;
          expect(got.kind).toBe(want.kind);
          expect(got.apiVersion).toBe(want.apiVersion);
          expect(gotMeta.namespace).toBe(wantMeta.namespace);
          expect(got.spec).toEqual(want.spec);
          expect(params(got)).toEqual(params(want));
          // Our name is the template's generateName plus a suffix (a fixed name when the delivery has a dedupe key).
          expect(String(gotMeta.name ?? gotMeta.generateName)).toMatch(
            new RegExp(`^${String(wantMeta.generateName)}`),
          );
          // Tekton's labels, except that the eventlistener label holds gateway.name (a documented difference),
          // plus the gateway's own: managed-by, and the instance that made the run (v2).
          expect(gotMeta.labels).toEqual({
            ...(wantMeta.labels as JsonObject),
            'triggers.tekton.dev/eventlistener': config.gateway.name,
            'app.kubernetes.io/managed-by': 'tekton-gateway',
            'tekton-gateway.dev/instance': `${config.gateway.namespace}.${config.gateway.name}`,
          });
        });
        if (s.params) expect(params(ours.objects[0]!)).toMatchObject(s.params);
      }
    },
  );
});

describe('GitHub scenario with signatures checked (the seed: unsigned requests and ping must not create)', () => {
  const secret = 'it-is-a-secret';
  const secrets = (ref: SecretRef) =>
    ref.secretName === 'github-webhook' && ref.secretKey === 'secretkey' ? Buffer.from(secret) : undefined;
  const path = '/build-deploy-pipeline-listener';

  async function run(d: SeedDelivery, sign: string | undefined) {
    const loaded = loadConfigBytes(Buffer.from(importFixture(SCENARIOS[1]!)), 'github.routes.yaml');
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    const body = Buffer.from(JSON.stringify(d.body));
    const delivery = toDelivery(path, d, body);
    const headers = { ...delivery.headers } as Record<string, string[]>;
    if (sign !== undefined)
      headers['x-hub-signature-256'] = [`sha256=${createHmac('sha256', sign).update(body).digest('hex')}`];
    const route = matchRoute(loaded.config.routes, path)!;
    return handleWebhook(
      loaded.config,
      route,
      { ...delivery, headers },
      pipelineIO({ secrets, skipVerify: false }),
    );
  }

  it.each([
    { name: 'signed push is rendered', d: GITHUB.push, sign: secret, want: 'rendered' },
    { name: 'unsigned push is rejected', d: GITHUB.push, sign: undefined, want: 'signature' },
    { name: 'push signed with another secret is rejected', d: GITHUB.push, sign: 'wrong', want: 'signature' },
    {
      name: 'signed ping is skipped (event type ping is not allowed)',
      d: GITHUB.ping,
      sign: secret,
      want: 'skipped',
    },
  ])('$name', async ({ d, sign, want }) => {
    const result = await run(d, sign);
    const got = result.kind === 'rejected' ? result.rejection.kind : result.triggers[0]!.outcome;
    expect(got).toBe(want);
  });
});

describe('goldens', () => {
  it.each(SCENARIOS.map((s) => s.golden))('%s loads with the gateway loader', (name) => {
    const loaded = loadConfigBytes(readFileSync(golden(name)), name);
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
  });
});
