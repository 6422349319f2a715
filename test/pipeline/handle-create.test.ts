// handleWebhook's create step with a scripted `create` function: what HTTP cannot reach on demand, such as
// a create that outlives the request deadline (the gateway's own timer answers, not the client's).
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import type { CreateFn, CreateRequest, CreateResult, PipelineIO } from '../../src/model.js';
import { handleWebhook } from '../../src/pipeline/handle.js';

const ROUTES = `apiVersion: tekton-gateway/v1
routes:
  - path: /hook
    provider: none
    deliveryHeader: X-Delivery
    triggers:
      - name: pair
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: build-}, spec: {pipelineRef: {name: b}}}
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: notify-}, spec: {taskRef: {name: n}}}
`;

const timers: NodeJS.Timeout[] = [];
afterEach(() => timers.splice(0).forEach(clearTimeout));

async function deliver(create: CreateFn, deadlineMs: number) {
  const loaded = loadConfigBytes(Buffer.from(ROUTES), 'routes.yaml', {});
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const config = loaded.config;
  const io: PipelineIO = {
    now: Date.now,
    randomUUID: () => 'uuid',
    secrets: () => undefined,
    create,
    serverDryRun: false,
    skipVerify: true,
    deadline: Date.now() + deadlineMs,
    trace: undefined,
  };
  const body = Buffer.from('{}');
  const headers = { 'content-type': ['application/json'], 'x-delivery': ['d-1'] };
  return handleWebhook(
    config,
    config.routes[0]!,
    { method: 'POST', path: '/hook', requestURL: '/hook', headers, body },
    io,
  );
}

describe('the request deadline', () => {
  it('a create still running at the deadline → failed timeout, listing what was created before it', async () => {
    const seen: CreateRequest[] = [];
    const create: CreateFn = (request) => {
      seen.push(request);
      if (seen.length === 1) {
        const metadata = request.object['metadata'] as Record<string, string>;
        return Promise.resolve({ kind: 'created', object: { ...request.object, metadata: { ...metadata } } });
      }
      // The second never answers within the deadline (an API call that cannot be aborted in time).
      return new Promise<CreateResult>((resolve) => {
        timers.push(setTimeout(() => resolve({ kind: 'created', object: request.object }), 5_000));
      });
    };
    const result = await deliver(create, 300);
    if (result.kind !== 'processed') throw new Error(`rejected: ${JSON.stringify(result)}`);
    const [trigger] = result.triggers;
    expect(trigger).toMatchObject({ name: 'pair', outcome: 'failed', failure: 'timeout' });
    const metadata = seen[0]!.object['metadata'] as Record<string, string>;
    expect(trigger!.outcome === 'failed' && trigger!.resources).toEqual([
      { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'default', name: metadata['name'] },
    ]);
    expect(seen).toHaveLength(2);
  });

  it('a create that finishes in time is not affected by the deadline timer', async () => {
    const create: CreateFn = (request) => Promise.resolve({ kind: 'created', object: request.object });
    const result = await deliver(create, 2_000);
    if (result.kind !== 'processed') throw new Error('rejected');
    expect(result.triggers[0]).toMatchObject({ outcome: 'created' });
    expect(result.triggers[0]!.outcome === 'created' && result.triggers[0]!.resources).toHaveLength(2);
  });
});

describe('a TaskRun created pending (concurrency.limit) on Tekton Pipelines older than v1.11', () => {
  const routes = `apiVersion: tekton-gateway/v1
routes:
  - path: /hook
    provider: none
    deliveryHeader: X-Delivery
    triggers:
      - name: queued
        concurrency: {key: 'one-group', limit: 1}
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: queued-}, spec: {taskRef: {name: n}}}
`;
  async function refusedWith(message: string) {
    const loaded = loadConfigBytes(Buffer.from(routes), 'routes.yaml', {});
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    const sent: CreateRequest[] = [];
    const create: CreateFn = (request) => {
      sent.push(request);
      return Promise.resolve({ kind: 'refused', code: 400, message });
    };
    const io: PipelineIO = {
      now: Date.now,
      randomUUID: () => 'uuid',
      secrets: () => undefined,
      create,
      serverDryRun: false,
      skipVerify: true,
      deadline: Date.now() + 5_000,
      trace: undefined,
    };
    const headers = { 'content-type': ['application/json'], 'x-delivery': ['d-2'] };
    const result = await handleWebhook(
      loaded.config,
      loaded.config.routes[0]!,
      { method: 'POST', path: '/hook', requestURL: '/hook', headers, body: Buffer.from('{}') },
      io,
    );
    return { result, sent };
  }

  it('the refusal (502) names the Tekton version that TaskRunPending needs', async () => {
    const { result, sent } = await refusedWith(
      'admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: invalid value: TaskRunPending: spec.status',
    );
    expect((sent[0]!.object['spec'] as Record<string, unknown>)['status']).toBe('TaskRunPending');
    if (result.kind !== 'processed') throw new Error(result.kind);
    const outcome = result.triggers[0]!;
    expect(outcome).toMatchObject({ outcome: 'failed', failure: 'cluster-refused' });
    expect(outcome.outcome === 'failed' && outcome.reason).toMatch(
      /invalid value: TaskRunPending: spec\.status — concurrency\.limit creates TaskRuns pending \(TaskRunPending\), which needs Tekton Pipelines v1\.11 or later$/,
    );
  });
});
