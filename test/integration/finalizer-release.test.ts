// Finalizers never wedge a namespace (runtime/finalizers.ts), against the real API server and
// a LiteLLM test server: a cleanup that fails terminally is retried with backoff instead of
// dropped; `llmtenancy.dev/release-finalizer: "true"` on an object being deleted removes the
// finalizer without cleanup, records a Warning Event, and the orphan collector then deletes
// what the object left in LiteLLM. On a live object the annotation does nothing.
import { TEST_INSTALLATION_ID } from './support/installation.ts';
import {
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, VERSION, type VirtualKey } from '../../crds/api/index.ts';
import { orphanCollection } from '../../operator/src/controllers/orphans/controller.ts';
import { ownerMetadata } from '../../operator/src/controllers/shared/ownership.ts';
import { VIRTUAL_KEY_TARGET } from '../../operator/src/controllers/shared/kinds.ts';
import { Finalizers, RELEASE_FINALIZER_ANNOTATION } from '../../operator/src/runtime/finalizers.ts';
import { Manager } from '../../operator/src/runtime/manager.ts';
import { SingletonLoop } from '../../operator/src/runtime/singleton-loop.ts';
import { ExponentialFailureRateLimiter } from '../../operator/src/runtime/rate-limiter.ts';
import { TerminalError } from '../../operator/src/runtime/result.ts';
import { aVirtualKey } from '../fixtures/builders.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { startLiteLLMServer, type LiteLLMTestServer } from '../litellm-server/server.ts';
import { fastLiteLLMClient, poll, suffix, TEST_RUN_LABEL } from './support/user-operator.ts';
import { kubeClient } from '../../operator/src/runtime/kube-client.ts';

const FINALIZER = 'llmtenancy.dev/cleanup';

describe('finalizer release', () => {
  let kc: KubeConfig;
  let api: CustomObjectsApi;
  let events: EventsV1Api;
  let litellm: LiteLLMTestServer;
  let manager: Manager | undefined;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    api = kc.makeApiClient(CustomObjectsApi);
    events = kc.makeApiClient(EventsV1Api);
    litellm = await startLiteLLMServer({ masterKey: 'sk-master-release', models: ['m'] });
  });
  afterAll(async () => {
    await litellm?.stop();
  });
  afterEach(async () => {
    await manager?.stop();
    manager = undefined;
  });

  /**
   * An operator whose VirtualKey cleanup always fails terminally (LiteLLM refuses, for good)
   * unless `cleanupWorks`, plus the orphan collector, both limited to this run's objects.
   */
  async function start(run: string, cleanupWorks = false) {
    const selector = `${TEST_RUN_LABEL}=${run}`;
    const target = { ...VIRTUAL_KEY_TARGET, labelSelector: selector };
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    manager = new Manager({
      kubeConfig: kc,
      leaderElection: false,
      healthPort: false,
      handleSignals: false,
      logger,
      registry: new Registry(),
    });
    const store = manager.informers.informerFor<VirtualKey>(target).store;
    const finalizers = new Finalizers(kubeClient(kc), { fieldManager: 'finalizer-release-test' });
    const counts = { applies: 0, cleanups: 0 };
    manager.addController({
      name: 'keys',
      for: { target },
      // Fast backoff, so several retries happen within the test.
      rateLimiter: new ExponentialFailureRateLimiter({ baseDelayMs: 50, maxDelayMs: 400 }),
      reconciler: async (request) => {
        const key = store.getByName(request.name, request.namespace);
        if (!key) return {};
        return finalizers.reconcile(key, FINALIZER, {
          apply: () => {
            counts.applies++;
            return Promise.resolve({});
          },
          cleanup: () => {
            counts.cleanups++;
            return cleanupWorks
              ? Promise.resolve({})
              : Promise.reject(new TerminalError('LiteLLM refused to delete the key'));
          },
        });
      },
    });
    const orphans = orphanCollection({
      manager,
      litellm: fastLiteLLMClient(litellm),
      mode: 'on',
      installationId: TEST_INSTALLATION_ID,
      intervalMs: 1_000,
      labelSelectors: { Team: selector, User: selector, VirtualKey: selector },
    });
    manager.add(new SingletonLoop(manager, orphans), { leaderOnly: true });
    manager.start().catch(() => {});
    await expect.poll(() => manager!.readiness().ready, poll).toBe(true);
    return counts;
  }

  async function createKey(namespace: string, run: string): Promise<VirtualKey> {
    const body = aVirtualKey('chatbot')
      .inNamespace(namespace)
      .with('metadata.labels', { [TEST_RUN_LABEL]: run })
      .build();
    return (await api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'virtualkeys',
      body,
    })) as VirtualKey;
  }

  const readKey = async (namespace: string): Promise<VirtualKey | undefined> => {
    try {
      return (await api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'virtualkeys',
        name: 'chatbot',
      })) as VirtualKey;
    } catch {
      return undefined;
    }
  };

  const annotateRelease = (namespace: string) =>
    api.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'virtualkeys',
        name: 'chatbot',
        body: { metadata: { annotations: { [RELEASE_FINALIZER_ANNOTATION]: 'true' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

  it('retries a terminally failing cleanup, and the release annotation lets the orphan collector finish it', async () => {
    const run = suffix();
    const namespace = await uniqueNamespace('finalizer-release');
    const counts = await start(run);
    const key = await createKey(namespace, run);
    await expect
      .poll(async () => (await readKey(namespace))?.metadata.finalizers, poll)
      .toContain(FINALIZER);
    const token = `released${run}`.padEnd(64, '0');
    litellm.store.newKey({
      token,
      key_name: 'sk-...test',
      metadata: ownerMetadata({
        kind: 'VirtualKey',
        namespace,
        name: 'chatbot',
        uid: key.metadata.uid!,
        installation: TEST_INSTALLATION_ID,
      }),
    });

    await api.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'virtualkeys',
      name: 'chatbot',
    });
    // Terminal errors in cleanup are retried (not dropped): the count keeps growing.
    await expect.poll(() => counts.cleanups, poll).toBeGreaterThanOrEqual(3);
    const stuck = await readKey(namespace);
    expect(stuck?.metadata.deletionTimestamp).toBeDefined();
    expect(stuck?.metadata.finalizers).toContain(FINALIZER);
    // Its owner is still there (being deleted): the collector keeps the key meanwhile.
    await expect
      .poll(() => litellm.calls.count('GET', '/key/list'), poll)
      .toBeGreaterThanOrEqual(2);
    expect(litellm.store.keys.has(token)).toBe(true);

    await annotateRelease(namespace);
    await expect.poll(() => readKey(namespace), poll).toBeUndefined();
    const released = await events.listNamespacedEvent({ namespace });
    const event = released.items.find((e) => e.reason === 'FinalizerReleased');
    expect(event?.type).toBe('Warning');
    expect(event?.regarding?.uid).toBe(key.metadata.uid);
    expect(event?.note).toContain(FINALIZER);
    expect(event?.note).toContain('LiteLLM refused to delete the key');
    // The owner is gone now: a later orphan collection pass deletes the key in LiteLLM.
    await expect.poll(() => litellm.store.keys.has(token), poll).toBe(false);
  });

  it('does nothing on an object that is not being deleted', async () => {
    const run = suffix();
    const namespace = await uniqueNamespace('finalizer-release-live');
    const counts = await start(run);
    await createKey(namespace, run);
    await expect.poll(() => counts.applies, poll).toBeGreaterThanOrEqual(1);
    const before = counts.applies;
    await annotateRelease(namespace);
    // The annotation change is reconciled (an annotation update passes the predicate)...
    await expect.poll(() => counts.applies, poll).toBeGreaterThan(before);
    // ...and the finalizer stays, with no cleanup run.
    const live = await readKey(namespace);
    expect(live?.metadata.finalizers).toContain(FINALIZER);
    expect(counts.cleanups).toBe(0);
  });

  it('cleans up as usual when the annotation is set while cleanup works: no release', async () => {
    const run = suffix();
    const namespace = await uniqueNamespace('finalizer-release-works');
    const counts = await start(run, true);
    await createKey(namespace, run);
    await expect
      .poll(async () => (await readKey(namespace))?.metadata.finalizers, poll)
      .toContain(FINALIZER);
    await annotateRelease(namespace);
    await api.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'virtualkeys',
      name: 'chatbot',
    });
    await expect.poll(() => readKey(namespace), poll).toBeUndefined();
    expect(counts.cleanups).toBeGreaterThanOrEqual(1);
    const recorded = await events.listNamespacedEvent({ namespace });
    expect(recorded.items.filter((e) => e.reason === 'FinalizerReleased')).toEqual([]);
  });
});
