// A lost lease stops writes at once (runtime/manager.ts, leader-election.ts, write-fence.ts):
// two managers against the real API server; the leader's Lease is stolen by writing its
// holder directly. The old leader aborts its in-flight reconcile and its leader-only loops
// (orphan collection, routing check and prune), refuses every write after the loss, and
// start() rejects with LeadershipLostError (main.ts then exits 1); the new leader writes.
import { TEST_INSTALLATION_ID } from './support/installation.ts';
import { createServer, connect, type Socket } from 'node:net';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  V1MicroTime,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VirtualKey } from '../../crds/api/index.ts';
import { orphanCollection } from '../../operator/src/controllers/orphans/controller.ts';
import { VIRTUAL_KEY_TARGET } from '../../operator/src/controllers/shared/kinds.ts';
import { RoutingPublisher } from '../../operator/src/routing/routing-publisher.ts';
import { createRoutingRedis } from '../../operator/src/routing/routing-redis.ts';
import { routingSync } from '../../operator/src/routing/routing-sync.ts';
import type { Controller } from '../../operator/src/runtime/controller.ts';
import { LeadershipLostError, Manager } from '../../operator/src/runtime/manager.ts';
import { SingletonLoop } from '../../operator/src/runtime/singleton-loop.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { startLiteLLMServer, type LiteLLMTestServer } from '../litellm-server/server.ts';
import { fastLiteLLMClient, poll, suffix, TEST_RUN_LABEL } from './support/user-operator.ts';

const LEASE = 'operator';
const timing = { leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 500 };

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

interface Replica {
  identity: string;
  manager: Manager;
  running: Promise<void>;
  /** The signal of the in-flight reconcile of the `writer` controller, once it started. */
  writerSignal?: AbortSignal;
  /** What the writer's ConfigMap create did after the gate opened. */
  writeOutcome?: string;
  /** Signals of the `loop` controller's passes. */
  loopSignals: AbortSignal[];
  stopRedis(): void;
}

describe('lease loss', () => {
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  const replicas: Replica[] = [];
  const gates: (() => void)[] = [];

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await startLiteLLMServer({ masterKey: 'sk-master-lease', models: ['m'] });
    return () => litellm.stop();
  });
  afterEach(async () => {
    for (const open of gates.splice(0)) open(); // blocked reconciles must end for stop()
    for (const replica of replicas.splice(0)) {
      await replica.manager.stop();
      replica.stopRedis();
    }
  });

  /**
   * A manager with a `writer` controller whose reconcile blocks until `gate` opens and then
   * creates a ConfigMap through the manager's KubeConfig (ignoring its signal on purpose:
   * the fence, not the reconciler's care, must stop it), a `loop` controller requeueing
   * itself, and the real leader-only loops: orphan collection and the routing sync.
   */
  function replica(
    namespace: string,
    identity: string,
    gate: Promise<void>,
    kubeConfig: KubeConfig = kc,
  ): Replica {
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const registry = new Registry();
    const manager = new Manager({
      kubeConfig,
      name: identity,
      logger,
      registry,
      healthPort: false,
      handleSignals: false,
      leaderElection: { leaseName: LEASE, leaseNamespace: namespace, identity, ...timing },
    });
    const core = manager.kubeConfig.makeApiClient(CoreV1Api);
    const self: Replica = {
      identity,
      manager,
      running: undefined as never,
      loopSignals: [],
      stopRedis: () => {},
    };
    manager.addController({
      name: 'writer',
      sources: [(enqueue) => enqueue({ namespace, name: 'x' })],
      reconciler: async (_request, { signal }) => {
        self.writerSignal = signal;
        await gate;
        try {
          await core.createNamespacedConfigMap({
            namespace,
            body: { metadata: { name: `written-by-${identity}` }, data: { by: identity } },
          });
          self.writeOutcome = 'written';
        } catch (err) {
          self.writeOutcome = (err as Error).name;
        }
        return {};
      },
    });
    manager.addController({
      name: 'loop',
      sources: [(enqueue) => enqueue({ name: 'loop' })],
      reconciler: (_request, { signal }) => {
        self.loopSignals.push(signal);
        return Promise.resolve({ requeueAfter: 1_000 });
      },
    });
    const selector = `${TEST_RUN_LABEL}=${suffix()}`;
    const owners = { Team: selector, User: selector, VirtualKey: selector };
    const orphans = orphanCollection({
      manager,
      litellm: fastLiteLLMClient(litellm),
      mode: 'on',
      installationId: TEST_INSTALLATION_ID,
      intervalMs: 1_000,
      labelSelectors: owners,
    });
    manager.add(new SingletonLoop(manager, orphans), { leaderOnly: true });
    const redis = createRoutingRedis(inject('redisUrl'), logger);
    self.stopRedis = () => redis.disconnect();
    const sync = routingSync({
      informers: manager.informers,
      publisher: new RoutingPublisher({
        redis,
        prefix: `lease-loss-${suffix()}:`,
        logger,
        registry,
      }),
      redis,
      virtualKeys: manager.informers.informerFor<VirtualKey>({
        ...VIRTUAL_KEY_TARGET,
        labelSelector: selector,
      }).store,
      checkIntervalMs: 500,
    });
    manager.add(new SingletonLoop(manager, sync), { leaderOnly: true });
    self.running = manager.start();
    self.running.catch(() => {});
    replicas.push(self);
    return self;
  }

  const leases = () => kc.makeApiClient(CoordinationV1Api);
  const configMapExists = async (namespace: string, name: string) => {
    try {
      await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace, name });
      return true;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return false;
      throw err;
    }
  };
  /** Writes `thief` as the Lease's holder (retrying while the leader renews in between). */
  async function steal(namespace: string, from: string, thief: string): Promise<void> {
    for (;;) {
      const lease = await leases().readNamespacedLease({ name: LEASE, namespace });
      expect(lease.spec?.holderIdentity).toBe(from);
      const now = new V1MicroTime(Date.now());
      try {
        await leases().replaceNamespacedLease({
          name: LEASE,
          namespace,
          body: {
            metadata: { name: LEASE, namespace, resourceVersion: lease.metadata?.resourceVersion },
            spec: {
              holderIdentity: thief,
              leaseDurationSeconds: timing.leaseDurationMs / 1000,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1,
            },
          },
        });
        return;
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 409)) throw err;
      }
    }
  }

  const controllersOf = (r: Replica): readonly Controller[] => r.manager.controllers;

  it('aborts in-flight reconciles and leader-only loops and refuses writes once the lease is stolen', async () => {
    const namespace = await uniqueNamespace('lease-loss');
    const gate = deferred();
    gates.push(gate.resolve);
    const a = replica(namespace, 'replica-a', gate.promise);
    await expect.poll(() => a.manager.leading, poll).toBe(true);
    const b = replica(namespace, 'replica-b', gate.promise);
    await expect.poll(() => b.manager.readiness().ready, poll).toBe(true);
    expect(b.manager.leading).toBe(false);
    // A leads: its reconcile is in flight (blocked), its loops run.
    await expect.poll(() => a.writerSignal, poll).toBeDefined();
    await expect.poll(() => a.loopSignals.length, poll).toBeGreaterThanOrEqual(2);
    expect(b.writerSignal).toBeUndefined();

    // Steal the lease: write B as its holder, as a split brain or an admin would.
    await steal(namespace, 'replica-a', 'replica-b');

    // A reports the loss (main.ts exits 1 on it) without waiting for its blocked reconcile.
    await expect(a.running).rejects.toBeInstanceOf(LeadershipLostError);
    expect(a.manager.leading).toBe(false);
    expect(a.manager.lostLeadership).toBeInstanceOf(LeadershipLostError);
    // The in-flight reconcile's signal is aborted; every controller, the leader-only loops
    // among them (orphan collection, routing sync), has stopped and starts nothing more.
    expect(a.writerSignal!.aborted).toBe(true);
    expect(a.loopSignals.at(-1)!.aborted).toBe(true);
    const names = controllersOf(a).map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['writer', 'loop', 'orphan-collector', 'routing-sync']),
    );
    for (const controller of controllersOf(a)) {
      expect(controller.queue.shuttingDown, controller.name).toBe(true);
    }
    const loopPasses = a.loopSignals.length;

    // B, now the holder, leads and its reconcile runs.
    await expect.poll(() => b.manager.leading, poll).toBe(true);
    await expect.poll(() => b.writerSignal, poll).toBeDefined();

    // The reconcile A had in flight tries to write after the loss, ignoring its signal: the
    // write is refused before it is sent. B's goes through.
    gate.resolve();
    await expect.poll(() => a.writeOutcome, poll).toBe('FencedWriteError');
    await expect.poll(() => b.writeOutcome, poll).toBe('written');
    expect(await configMapExists(namespace, 'written-by-replica-a')).toBe(false);
    expect(await configMapExists(namespace, 'written-by-replica-b')).toBe(true);
    // A's loop ran no pass after the loss.
    expect(a.loopSignals).toHaveLength(loopPasses);
  });
  /** A TCP proxy to the API server that can be cut: a replica behind it loses the server. */
  async function cuttableApiServer(): Promise<{ kubeConfig: KubeConfig; cut(): void }> {
    const target = new URL(kc.getCurrentCluster()!.server);
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const proxied = new KubeConfig();
    proxied.loadFromOptions({
      clusters: kc.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${port}` })),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    return {
      kubeConfig: proxied,
      cut: () => {
        server.close();
        for (const s of sockets) s.destroy();
      },
    };
  }

  it('stops at the renew deadline when the API server is gone, before another replica leads', async () => {
    const namespace = await uniqueNamespace('lease-deadline');
    const gate = deferred();
    gates.push(gate.resolve);
    const apiServer = await cuttableApiServer();
    const a = replica(namespace, 'replica-a', gate.promise, apiServer.kubeConfig);
    let lostAt: number | undefined;
    a.running.catch(() => (lostAt = Date.now()));
    await expect.poll(() => a.manager.leading, poll).toBe(true);
    const b = replica(namespace, 'replica-b', gate.promise);
    await expect.poll(() => b.manager.readiness().ready, poll).toBe(true);
    await expect.poll(() => a.writerSignal, poll).toBeDefined();

    apiServer.cut(); // A can no longer renew
    await expect(a.running).rejects.toBeInstanceOf(LeadershipLostError);
    expect(a.writerSignal!.aborted).toBe(true);
    for (const controller of controllersOf(a)) {
      expect(controller.queue.shuttingDown, controller.name).toBe(true);
    }
    await expect.poll(() => b.manager.leading, poll).toBe(true);
    // A had stopped before B acquired the lease (B waited out the lease duration).
    const held = await leases().readNamespacedLease({ name: LEASE, namespace });
    expect(held.spec?.holderIdentity).toBe('replica-b');
    expect(lostAt).toBeDefined();
    expect(lostAt!).toBeLessThan(new Date(held.spec!.acquireTime as unknown as string).getTime());
    gate.resolve();
    await expect.poll(() => a.writeOutcome, poll).toBe('FencedWriteError');
  });
});
