// The built create path loads client-node's KubeConfig and auth but never its generated API, node-fetch or
// openid-client. A child process runs dist/kube/create.js with a resolve hook of its own that reports every
// module URL it resolves; the same child importing client-node's index shows that the tracing can fail.
// `npm test` builds first; run `npm run build` before running this suite alone.
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/shared.js';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';

const run = promisify(execFile);
const HEAVY = /\/@kubernetes\/client-node\/dist\/gen\/|\/node_modules\/(node-fetch|openid-client)\//;

/** Registered first, so the gateway's hook (registered later) runs before it and may short-circuit. */
const TRACE = `
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.startsWith('file:')) process._rawDebug('RESOLVED ' + resolved.url);
  return resolved;
}`;
const traceFlag = `--import=data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'; register(${JSON.stringify(
    `data:text/javascript,${encodeURIComponent(TRACE)}`,
  )});`,
)}`;

function assertFreshBuild(): void {
  for (const file of ['kube/create', 'kube/client', 'kube/client-node']) {
    const js = join(repoRoot, `dist/${file}.js`);
    if (!existsSync(js)) throw new Error(`${js} is missing: run \`npm run build\` first`);
    if (statSync(js).mtimeMs < statSync(join(repoRoot, `src/${file}.ts`)).mtimeMs) {
      throw new Error(`${js} is older than src/${file}.ts: run \`npm run build\``);
    }
  }
}

async function child(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; resolved: string[] }> {
  const { stdout, stderr } = await run(process.execPath, [traceFlag, '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { PATH: process.env['PATH'] ?? '', ...env },
  });
  const resolved = stderr
    .split('\n')
    .filter((line) => line.startsWith('RESOLVED '))
    .map((line) => line.slice('RESOLVED '.length));
  return { stdout, resolved };
}

let fake: FakeKube;
beforeAll(async () => {
  assertFreshBuild();
  fake = await startFakeKube({ namespaces: ['ci'] });
});
afterAll(async () => {
  await fake?.close();
});

describe('the create path without the generated API', () => {
  it('loads a kubeconfig, creates a run, and never resolves the generated models, node-fetch or openid-client', async () => {
    const createJs = pathToFileURL(join(repoRoot, 'dist/kube/create.js')).href;
    const script = `
      const { loadCluster, makeCreate } = await import(${JSON.stringify(createJs)});
      const loaded = loadCluster(process.env);
      if (!loaded.ok) throw new Error(loaded.message);
      const create = makeCreate(loaded.cluster);
      const result = await create({
        group: 'tekton.dev', version: 'v1', plural: 'pipelineruns', namespace: 'ci', dryRun: false,
        deadline: Date.now() + 5000,
        object: { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { generateName: 'lean-' },
                  spec: { pipelineRef: { name: 'build' } } },
      });
      create.close();
      console.log(result.kind);`;
    const { stdout, resolved } = await child(script, { KUBECONFIG: fake.kubeconfigPath });
    expect(stdout.trim()).toBe('created');
    expect(fake.objects()).toHaveLength(1);
    // client-node itself was loaded (the trace works) ...
    expect(resolved.some((url) => url.endsWith('/@kubernetes/client-node/dist/config.js'))).toBe(true);
    // ... but none of the heavy parts.
    expect(resolved.filter((url) => HEAVY.test(url))).toEqual([]);
  });

  it('control: importing client-node as published does resolve them', async () => {
    const { resolved } = await child(`await import('@kubernetes/client-node');`, {});
    expect(resolved.filter((url) => HEAVY.test(url)).length).toBeGreaterThan(1000);
  });
});
