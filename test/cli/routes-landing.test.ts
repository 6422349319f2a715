// `tekton-gateway routes` shows where each template's objects land and as whom (issue #14): a template's
// literal metadata.namespace wins over the trigger's, and the impersonated account is named in that namespace.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

const file = join(mkdtempSync(join(tmpdir(), 'routes-landing-')), 'routes.yaml');
writeFileSync(
  file,
  `apiVersion: tekton-gateway/v1
gateway: {namespace: gw, kinds: [PipelineRun, TaskRun]}
templates:
  two:
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: {generateName: build-}
      - apiVersion: tekton.dev/v1
        kind: TaskRun
        metadata: {generateName: notify-, namespace: ops}
routes:
  - path: /a
    provider: none
    namespace: team-a
    serviceAccountName: el-sa
    triggers:
      - {name: impersonated, template: two}
      - {name: own-account, template: two, namespace: team-b, serviceAccountName: builder}
  - path: /b
    provider: none
    triggers:
      - {name: plain, template: two}
`,
);

describe('routes: landing namespace and account', () => {
  it('prints each object with its namespace and the account it is created as', async () => {
    const r = await cli(['routes', '--routes', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      [
        '  trigger impersonated → template two in namespace team-a',
        '    creates PipelineRun in namespace team-a as system:serviceaccount:team-a:el-sa',
        "    creates TaskRun in namespace ops (the template's metadata.namespace) as system:serviceaccount:ops:el-sa",
        '  trigger own-account → template two in namespace team-b',
        '    creates PipelineRun in namespace team-b as system:serviceaccount:team-b:builder',
        "    creates TaskRun in namespace ops (the template's metadata.namespace) as system:serviceaccount:ops:builder",
      ].join('\n'),
    );
    expect(r.stdout).toContain(
      [
        '  trigger plain → template two in namespace gw',
        "    creates PipelineRun in namespace gw as the gateway's own service account",
        "    creates TaskRun in namespace ops (the template's metadata.namespace) as the gateway's own service account",
      ].join('\n'),
    );
  });
});
