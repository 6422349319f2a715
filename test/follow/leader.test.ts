// Leader election on a Lease in the fake API (contract §12, §12.0 item 9): one leader at a time, hand-over
// after the leader stops renewing, release on shutdown, same identity takes its Lease back at once.
import { afterEach, describe, expect, it } from 'vitest';
import { checkTimings, LeaderElector, microTime, type LeaderTimings } from '../../src/follow/leader.js';
import type { LeanKubeClient } from '../../src/kube/client.js';
import { startFakeKube, type FakeKube } from '../fake-kube/server.js';
import { clientFor, until } from './kube.js';

const FAST: LeaderTimings = { leaseDurationMs: 1_000, renewDeadlineMs: 700, retryPeriodMs: 200 };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup() {
  const fake = await startFakeKube({ namespaces: ['gw'] });
  cleanup.push(() => fake.close());
  return fake;
}

function elector(fake: FakeKube, identity: string, changes: boolean[] = [], errors: string[] = []) {
  const client: LeanKubeClient = clientFor(fake);
  const e = new LeaderElector({
    client,
    namespace: 'gw',
    name: 'tekton-gateway-x',
    identity,
    timings: FAST,
    onChange: (leading) => changes.push(leading),
    onError: (message) => errors.push(message),
  });
  cleanup.push(async () => {
    await e.stop();
    client.close();
  });
  return e;
}

describe('leader election', () => {
  it('MicroTime has six fractional digits; timings are checked like client-go', () => {
    expect(microTime(Date.parse('2026-12-02T12:00:00.123Z'))).toBe('2026-12-02T12:00:00.123000Z');
    expect(
      checkTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    ).toBeUndefined();
    expect(checkTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).toMatch(
      /greater/,
    );
    expect(checkTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toMatch(
      /1.2/,
    );
  });

  it('exactly one of two replicas leads; the Lease names it', async () => {
    const fake = await setup();
    const a = elector(fake, 'pod-a');
    const b = elector(fake, 'pod-b');
    a.start();
    b.start();
    await until(() => a.isLeader() || b.isLeader());
    await new Promise((r) => setTimeout(r, 600));
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const lease = fake.get('leases', 'gw', 'tekton-gateway-x') as { spec: Record<string, unknown> };
    expect(lease.spec.holderIdentity).toBe(a.isLeader() ? 'pod-a' : 'pod-b');
    expect(lease.spec.leaseDurationSeconds).toBe(1);
    expect(lease.spec.renewTime).toMatch(/\.\d{6}Z$/);
  });

  it('on stop the leader releases (empty holder, 1 s) and the other leads promptly', async () => {
    const fake = await setup();
    const changes: boolean[] = [];
    const a = elector(fake, 'pod-a', changes);
    a.start();
    await until(() => a.isLeader());
    const b = elector(fake, 'pod-b');
    b.start();
    await new Promise((r) => setTimeout(r, 400));
    expect(b.isLeader()).toBe(false);
    await a.stop();
    expect(changes).toEqual([true, false]);
    const released = fake.get('leases', 'gw', 'tekton-gateway-x') as { spec: Record<string, unknown> };
    expect(released.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await until(() => b.isLeader(), 3_000);
    const lease = fake.get('leases', 'gw', 'tekton-gateway-x') as { spec: Record<string, unknown> };
    expect(lease.spec.leaseTransitions).toBe(1);
  });

  it('a leader that cannot renew (API down) stops leading; another takes over after the lease expires', async () => {
    const fake = await setup();
    const a = elector(fake, 'pod-a');
    a.start();
    await until(() => a.isLeader());
    // Only pod-a's requests fail: requests carry no identity, so fail every request and start b after.
    fake.setFaults({ errorRate: 1, status: 503 });
    await until(() => !a.isLeader(), 3_000);
    fake.setFaults({});
    const b = elector(fake, 'pod-b');
    b.start();
    await until(() => a.isLeader() || b.isLeader(), 4_000);
  });

  it('a replica restarted with the same identity takes its Lease back at once', async () => {
    const fake = await setup();
    const first = elector(fake, 'pod-a');
    first.start();
    await until(() => first.isLeader());
    // A crash: no release. The new process with the same POD_NAME does not wait for the lease to expire.
    const second = elector(fake, 'pod-a');
    const started = Date.now();
    second.start();
    await until(() => second.isLeader(), 2_000);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('Lease refused by RBAC: never leads, and says so', async () => {
    const fake = await startFakeKube({
      namespaces: ['gw'],
      rbac: [{ user: '*', namespace: '*', resource: 'leases', verbs: ['get'] }],
    });
    cleanup.push(() => fake.close());
    const errors: string[] = [];
    const a = elector(fake, 'pod-a', [], errors);
    a.start();
    await until(() => errors.length > 0);
    expect(a.isLeader()).toBe(false);
    expect(errors[0]).toMatch(/could not create the Lease gw\/tekton-gateway-x \(HTTP 403\)/);
  });
});
