// BackgroundRetries with the production create path (makeCreate over real HTTP) against the fake API:
// outages that end and that do not, refusals, the bounds on what is held, redeliveries joining a job, and
// shutdown abandoning what is left.
import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundRetries, byteBudget, type BackgroundOptions } from '../../src/background-retries.js';
import { loadCluster, makeCreate } from '../../src/kube/create.js';
import type { BackgroundFinal, BackgroundJob, JsonObject } from '../../src/model.js';
import { startFakeKube, type FakeKube, type FakeKubeOptions } from '../fake-kube/server.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(
  fakeOptions: FakeKubeOptions = {},
  options: Partial<BackgroundOptions> = {},
): Promise<{
  fake: FakeKube;
  retries: BackgroundRetries;
  finals: BackgroundFinal[];
  budget: { used: number };
  create: ReturnType<typeof makeCreate>;
}> {
  const fake = await startFakeKube({ namespaces: ['ci'], ...fakeOptions });
  cleanup.push(() => fake.close());
  const loaded = loadCluster({ KUBECONFIG: fake.kubeconfigPath });
  if (!loaded.ok) throw new Error(loaded.message);
  const create = makeCreate(loaded.cluster, { random: () => 0 });
  cleanup.push(() => create.close());
  const budget = byteBudget(1_000_000);
  const retries = new BackgroundRetries({
    create,
    maxJobs: 10,
    budget,
    attemptMs: 1_000,
    firstBackoffMs: 50,
    maxBackoffMs: 200,
    random: () => 0,
    ...options,
  });
  cleanup.push(() => retries.abandonAll());
  const finals: BackgroundFinal[] = [];
  retries.subscribe((f) => finals.push(f));
  return { fake, retries, finals, budget, create };
}

function run(name: string, kind = 'PipelineRun'): JsonObject {
  return {
    apiVersion: 'tekton.dev/v1',
    kind,
    metadata: { name, namespace: 'ci', labels: { 'triggers.tekton.dev/triggers-eventid': 'd-1' } },
    spec: kind === 'PipelineRun' ? { pipelineRef: { name: 'build' } } : { taskRef: { name: 'notify' } },
  };
}

function job(objects: JsonObject[], overrides: Partial<BackgroundJob> = {}): BackgroundJob {
  return {
    eventId: 'd-1',
    route: '/github',
    trigger: 'push',
    creates: objects.map((object) => ({
      object,
      group: 'tekton.dev',
      version: 'v1',
      plural: object['kind'] === 'TaskRun' ? 'taskruns' : 'pipelineruns',
      namespace: 'ci',
      impersonate: undefined,
      dryRun: false,
    })),
    done: [],
    windowSeconds: 30,
    ...overrides,
  };
}

const until = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('background completion', () => {
  it('keeps retrying while the API is down, then creates each object once, in order', async () => {
    const { fake, retries, finals, budget } = await setup({ faults: { errorRate: 1, status: 503 } });
    const ticket = retries.accept(job([run('build-a1'), run('notify-a1', 'TaskRun')]));
    expect(ticket!.retryUntil).toBeGreaterThan(Date.now() + 25_000);
    expect(budget.used).toBeGreaterThan(0);
    await until(() => fake.requests.length >= 3);
    expect(finals).toEqual([]);
    fake.setFaults({});
    await until(() => finals.length === 1);
    expect(finals[0]).toMatchObject({
      eventId: 'd-1',
      route: '/github',
      trigger: 'push',
      result: 'created',
      resources: [
        { kind: 'PipelineRun', namespace: 'ci', name: 'build-a1' },
        { kind: 'TaskRun', namespace: 'ci', name: 'notify-a1' },
      ],
    });
    expect((fake.objects() as { metadata: { name: string } }[]).map((o) => o.metadata.name)).toEqual([
      'build-a1',
      'notify-a1',
    ]);
    expect([retries.size, budget.used]).toEqual([0, 0]);
  });

  it('a redelivery that created the run meanwhile → duplicate, still one run', async () => {
    const { fake, retries, finals, create } = await setup(
      { faults: { errorRate: 1, status: 503 } },
      { firstBackoffMs: 60_000, maxBackoffMs: 60_000 },
    );
    const background = job([run('build-b1')]);
    retries.accept(background);
    fake.setFaults({});
    // What the sender's redelivery does while the job waits: create the same deterministic name.
    const redelivered = await create({ ...background.creates[0]!, deadline: Date.now() + 2_000 });
    expect(redelivered.kind).toBe('created');
    expect(await retries.drain(Date.now() + 5_000)).toEqual([]);
    expect(finals.map((f) => f.result)).toEqual(['duplicate']);
    expect(fake.objects()).toHaveLength(1);
  });

  it('the same delivery and trigger twice joins the first job', async () => {
    const { retries } = await setup({ faults: { errorRate: 1, status: 503 } });
    const first = retries.accept(job([run('build-c1')]));
    const second = retries.accept(job([run('build-c1')]));
    expect(second).toEqual(first);
    expect(retries.size).toBe(1);
  });

  it('an object that already exists counts as done: duplicate', async () => {
    const { fake, retries, finals } = await setup();
    retries.accept(job([run('build-d1')]));
    await until(() => finals.length === 1);
    retries.accept(job([run('build-d1')], { eventId: 'd-2' }));
    await until(() => finals.length === 2);
    expect(finals.map((f) => f.result)).toEqual(['created', 'duplicate']);
    expect(fake.objects()).toHaveLength(1);
  });

  it('a refusal ends the job at once: gave_up with the API message', async () => {
    const { retries, finals } = await setup({ rbac: [{ user: '*', namespace: 'elsewhere', resource: '*' }] });
    retries.accept(job([run('build-e1')]));
    await until(() => finals.length === 1);
    expect(finals[0]).toMatchObject({ result: 'gave_up', attempts: 1 });
    expect(finals[0]!.reason).toMatch(
      /^the cluster refused it \(HTTP 403\): pipelineruns.tekton.dev is forbidden/,
    );
  });

  it('an outage longer than the window → gave_up naming the last problem', async () => {
    const { fake, retries, finals } = await setup({ faults: { errorRate: 1, status: 503 } });
    retries.accept(job([run('build-f1')], { windowSeconds: 1 }));
    await until(() => finals.length === 1);
    expect(finals[0]).toMatchObject({ result: 'gave_up' });
    expect(finals[0]!.reason).toMatch(
      /^the cluster was unavailable until the retry window closed: the Kubernetes API answered 503/,
    );
    expect(fake.objects()).toEqual([]);
  });

  it('bounds: past maxJobs or the byte budget a job is refused, and says which bound', async () => {
    const refused: string[] = [];
    const { retries } = await setup(
      { faults: { errorRate: 1, status: 503 } },
      { maxJobs: 1, onRefused: (_job, bound) => refused.push(bound) },
    );
    expect(retries.accept(job([run('build-g1')]))).toBeDefined();
    expect(retries.accept(job([run('build-g2')], { eventId: 'd-2' }))).toBeUndefined();

    const small = await setup(
      { faults: { errorRate: 1, status: 503 } },
      { budget: byteBudget(100), onRefused: (_job, bound) => refused.push(bound) },
    );
    expect(small.retries.accept(job([run('build-g3')]))).toBeUndefined();
    expect(refused).toEqual(['count', 'bytes']);
  });

  it('drain: one attempt at once, then abandon what is left at the deadline', async () => {
    const { fake, retries, finals } = await setup(
      { faults: { errorRate: 1, status: 503 } },
      { firstBackoffMs: 60_000, maxBackoffMs: 60_000 },
    );
    retries.accept(job([run('build-h1')]));
    retries.accept(job([run('build-h2')], { eventId: 'd-2' }));
    expect(fake.requests).toHaveLength(0);
    const abandoned = await retries.drain(Date.now() + 1_500);
    // The drain woke both jobs out of their 60 s backoff for an attempt each.
    expect(fake.requests.length).toBeGreaterThanOrEqual(2);
    expect(abandoned.map((f) => [f.eventId, f.result])).toEqual([
      ['d-1', 'abandoned'],
      ['d-2', 'abandoned'],
    ]);
    expect(finals).toEqual(abandoned);
    expect(retries.accept(job([run('build-h3')], { eventId: 'd-3' }))).toBeUndefined();
  });

  it('drain: a cluster back by then completes the jobs, nothing abandoned', async () => {
    const { fake, retries, finals } = await setup(
      { faults: { errorRate: 1, status: 503 } },
      { firstBackoffMs: 60_000, maxBackoffMs: 60_000 },
    );
    retries.accept(job([run('build-i1')]));
    fake.setFaults({});
    expect(await retries.drain(Date.now() + 5_000)).toEqual([]);
    expect(finals.map((f) => f.result)).toEqual(['created']);
  });

  it('a subscriber that throws does not stop the others', async () => {
    const { retries, finals } = await setup();
    retries.subscribe(() => {
      throw new Error('subscriber bug');
    });
    const seen: string[] = [];
    retries.subscribe((f) => seen.push(f.result));
    retries.accept(job([run('build-j1')]));
    await until(() => seen.length === 1);
    expect([finals.length, seen]).toEqual([1, ['created']]);
  });
});
