// Lease-based leader election between two electors on a real API server: only one leads,
// and when the leader steps down (releases the lease) the other takes over well within the
// lease duration; when the leader vanishes without releasing, the other waits the lease out.
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../operator/src/runtime/leader-election.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { kubeClient } from '../../operator/src/runtime/kube-client.ts';

interface Candidate {
  elector: LeaderElector;
  stop: AbortController;
  done: Promise<void>;
  log: string[];
}

describe('LeaderElector', () => {
  let kc: KubeConfig;
  const candidates: Candidate[] = [];

  beforeAll(() => {
    kc = kubeConfigFromInject();
  });
  afterEach(async () => {
    for (const c of candidates.splice(0)) {
      c.stop.abort();
      await c.done;
    }
  });

  function candidate(
    namespace: string,
    identity: string,
    timing = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
  ): Candidate {
    const stop = new AbortController();
    const log: string[] = [];
    const elector = new LeaderElector(kubeClient(kc), {
      leaseName: 'operator',
      leaseNamespace: namespace,
      identity,
      ...timing,
      onStartedLeading: () => log.push('started'),
      onStoppedLeading: () => void log.push('stopped'),
    });
    const c = { elector, stop, log, done: elector.run(stop.signal) };
    candidates.push(c);
    return c;
  }

  const poll = { timeout: 30_000, interval: 50 };
  const lease = (namespace: string) =>
    kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'operator', namespace });

  it('lets exactly one of two candidates lead, and hands over on release', async () => {
    const namespace = await uniqueNamespace('leader');
    // A lease (60 s) longer than any wait below (30 s): a takeover can only come from the
    // release, never from the lease running out.
    const timing = { leaseDurationMs: 60_000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
    const a = candidate(namespace, 'replica-a', timing);
    const b = candidate(namespace, 'replica-b', timing);
    await expect.poll(() => a.elector.isLeader() || b.elector.isLeader(), poll).toBe(true);
    const [leader, standby] = a.elector.isLeader() ? [a, b] : [b, a];

    // The standby keeps trying for a few retry periods and never leads alongside.
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      expect(leader.elector.isLeader() && standby.elector.isLeader()).toBe(false);
      expect(standby.elector.isLeader()).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
    }
    const held = await lease(namespace);
    expect(held.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(held.spec?.leaseDurationSeconds).toBe(60);

    // Step down: the lease is released (no holder) and the standby takes it.
    leader.stop.abort();
    await leader.done;
    expect(leader.log).toEqual(['started', 'stopped']);
    await expect.poll(() => standby.elector.isLeader(), poll).toBe(true);
    const taken = await lease(namespace);
    expect(taken.spec?.holderIdentity).toBe(standby.elector.identity);
    expect(taken.spec?.leaseTransitions).toBe(1);
    expect(standby.log).toEqual(['started']);
  });

  it('keeps a lease that is still renewed, and takes one whose holder stopped renewing', async () => {
    const namespace = await uniqueNamespace('leader-expiry');
    const api = kc.makeApiClient(CoordinationV1Api);
    // A holder that died without releasing: a lease nobody renews.
    await api.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'operator', namespace },
        spec: { holderIdentity: 'crashed-replica', leaseDurationSeconds: 3, leaseTransitions: 4 },
      },
    });
    const c = candidate(namespace, 'replica-c', {
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 300,
    });
    // Not before it has itself seen the lease unchanged for the whole lease duration.
    await new Promise((r) => setTimeout(r, 1000));
    expect(c.elector.isLeader()).toBe(false);
    await expect.poll(() => c.elector.isLeader(), poll).toBe(true);
    const taken = await lease(namespace);
    expect(taken.spec?.holderIdentity).toBe('replica-c');
    expect(taken.spec?.leaseTransitions).toBe(5);
  });

  it('stops leading when the lease is taken away and renewals fail', async () => {
    const namespace = await uniqueNamespace('leader-lost');
    const c = candidate(namespace, 'replica-d', {
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 300,
    });
    await expect.poll(() => c.elector.isLeader(), poll).toBe(true);
    // Someone else writes the lease (an admin, or a replica after a network partition).
    const api = kc.makeApiClient(CoordinationV1Api);
    const current = await lease(namespace);
    await api.replaceNamespacedLease({
      name: 'operator',
      namespace,
      body: {
        ...current,
        spec: { ...current.spec, holderIdentity: 'usurper', leaseDurationSeconds: 3600 },
      },
    });
    await c.done; // run() returns: its term is over
    expect(c.elector.isLeader()).toBe(false);
    expect(c.log).toEqual(['started', 'stopped']);
    expect((await lease(namespace)).spec?.holderIdentity).toBe('usurper');
  });
});
