// Payload text can never change what is created: whatever a sender puts in a field lands as one inert string
// value where the template placed its param (contract §5), with `$(` escaped so Tekton Pipelines does not
// evaluate it. Tekton's byte-level substitution broke on exactly these inputs (tektoncd/triggers#1184).
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import type { JsonObject, PipelineIO } from '../../src/model.js';
import { handleWebhook } from '../../src/pipeline/handle.js';

const ROUTES = `apiVersion: tekton-gateway/v1
routes:
  - path: /hook
    provider: none
    triggers:
      - name: t
        bindings:
          - {name: message, value: $(body.message)}
          - {name: branch, value: "refs/$(body.branch)"}
        template:
          params: [{name: message}, {name: branch}]
          resourcetemplates:
            - apiVersion: tekton.dev/v1
              kind: PipelineRun
              metadata:
                generateName: run-
                labels: {team: ci}
              spec:
                pipelineRef: {name: build}
                params:
                  - {name: message, value: $(tt.params.message)}
                  - {name: branch, value: $(tt.params.branch)}
`;

const loaded = loadConfigBytes(Buffer.from(ROUTES), 'routes.yaml');
if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
const config = loaded.config;

async function render(body: JsonObject): Promise<JsonObject> {
  const io: PipelineIO = {
    now: () => 0,
    randomUUID: () => '00000000-0000-4000-8000-000000000000',
    secrets: () => undefined,
    create: undefined,
    serverDryRun: false,
    skipVerify: false,
    deadline: 60_000,
    trace: undefined,
  };
  const result = await handleWebhook(
    config,
    config.routes[0]!,
    {
      method: 'POST',
      path: '/hook',
      requestURL: '/hook',
      headers: {},
      body: Buffer.from(JSON.stringify(body)),
    },
    io,
  );
  if (result.kind !== 'processed' || result.triggers[0]!.outcome !== 'rendered') {
    throw new Error(`not rendered: ${JSON.stringify(result)}`);
  }
  return result.triggers[0]!.objects[0]!;
}

/** The template's own shape, with the two param values put where the template says. */
function expected(message: string, branch: string): JsonObject {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: {
      // The gateway names runs itself (contract §12.0 item 3): generateName plus 10 random [a-z0-9].
      name: expect.stringMatching(/^run-[a-z0-9]{10}$/),
      namespace: 'default',
      labels: {
        team: 'ci',
        'triggers.tekton.dev/eventlistener': 'tekton-gateway',
        'triggers.tekton.dev/trigger': 't',
        'triggers.tekton.dev/triggers-eventid': '00000000-0000-4000-8000-000000000000',
        'app.kubernetes.io/managed-by': 'tekton-gateway',
        'tekton-gateway.dev/instance': 'default.tekton-gateway',
      },
      annotations: {
        'tekton-gateway.dev/route': '/hook',
        'tekton-gateway.dev/received-at': '1970-01-01T00:00:00.000Z',
      },
    },
    spec: {
      pipelineRef: { name: 'build' },
      params: [
        { name: 'message', value: message },
        { name: 'branch', value: branch },
      ],
    },
  };
}

describe('payload text stays inert', () => {
  it.each([
    ['a param reference', '$(tt.params.branch)', '$$(tt.params.branch)'],
    ['a uid reference', 'x $(uid) y', 'x $$(uid) y'],
    [
      'a Tekton Pipelines variable',
      '$(params.secret) $(workspaces.creds.path)',
      '$$(params.secret) $$(workspaces.creds.path)',
    ],
    ['an already escaped reference', '$$(tasks.a.results.b)', '$$$(tasks.a.results.b)'],
    ['double quotes', 'say "hi" \\"there\\"', 'say "hi" \\"there\\"'],
    ['newlines and tabs', 'line1\nline2\r\n\tend', 'line1\nline2\r\n\tend'],
    ['a JSON fragment', '", "name": "evil", "value": "x', '", "name": "evil", "value": "x'],
    [
      'a JSON object',
      '{"spec": {"serviceAccountName": "admin"}}',
      '{"spec": {"serviceAccountName": "admin"}}',
    ],
    [
      'a YAML fragment',
      'x\nspec:\n  serviceAccountName: admin\n---\nkind: Secret',
      'x\nspec:\n  serviceAccountName: admin\n---\nkind: Secret',
    ],
    ['HTML and unicode', '<script>&amp; 烈 \u0000', '<script>&amp; 烈 \u0000'],
  ])('%s', async (_name, payloadText, inserted) => {
    const object = await render({ message: payloadText, branch: 'heads/$(uid)' });
    expect(object).toEqual(expected(inserted, 'refs/heads/$$(uid)'));
  });

  it('an object or array in a field becomes one JSON string, not structure', async () => {
    const object = await render({ message: { namespace: 'kube-system', list: [1, 'a'] }, branch: 'main' });
    expect(object).toEqual(expected('{"list":[1,"a"],"namespace":"kube-system"}', 'refs/main'));
  });
});
