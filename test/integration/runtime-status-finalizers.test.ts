// Status writes through /status and the finalizer helper, against the real API server with
// our CRDs (Team: cluster-scoped; ModelSubscription: namespaced) and ConfigMaps.
import { randomBytes } from 'node:crypto';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelSubscription, Team } from '../../crds/api/index.ts';
import { setCondition } from '../../operator/src/runtime/conditions.ts';
import type { ResourceType } from '../../operator/src/runtime/discovery.ts';
import { Finalizers } from '../../operator/src/runtime/finalizers.ts';
import { StatusWriter } from '../../operator/src/runtime/status.ts';
import { aModelSubscription, aTeam } from '../fixtures/builders.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { kubeClient } from '../../operator/src/runtime/kube-client.ts';
import { KubeTransport } from '../../contracts/kube/kube-transport.ts';
import { apiServerAddress, startTcpProxy } from './support/tcp-proxy.ts';

const teams: ResourceType = {
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'Team',
  plural: 'teams',
  namespaced: false,
};
const subscriptions: ResourceType = {
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'ModelSubscription',
  plural: 'modelsubscriptions',
  namespaced: true,
};
const group = 'llmtenancy.dev';
const version = 'v1alpha1';
const FINALIZER = 'llmtenancy.dev/test-cleanup';
const suffix = () => randomBytes(3).toString('hex');

describe('StatusWriter', () => {
  let kc: KubeConfig;
  let api: CustomObjectsApi;
  let writer: StatusWriter;
  beforeAll(() => {
    kc = kubeConfigFromInject();
    api = kc.makeApiClient(CustomObjectsApi);
    writer = new StatusWriter(kubeClient(kc), { fieldManager: 'team-controller' });
  });

  const createTeam = async () =>
    (await api.createClusterCustomObject({
      group,
      version,
      plural: 'teams',
      body: aTeam(`status-${suffix()}`).build(),
    })) as Team;
  const readTeam = async (name: string) =>
    (await api.getClusterCustomObject({ group, version, plural: 'teams', name })) as Team;
  const ready = (team: Team, reason: string) => ({
    observedGeneration: team.metadata.generation,
    conditions: setCondition(team.status?.conditions, {
      type: 'Ready',
      status: reason === 'Reconciled' ? 'True' : 'False',
      reason,
      observedGeneration: team.metadata.generation,
    }),
  });

  it('writes status through /status under its field manager, leaving spec alone', async () => {
    const team = await createTeam();
    const result = await writer.update(
      teams,
      { ...team, spec: { ...team.spec, displayName: 'not written' } },
      (t) => ready(t, 'Reconciled'),
    );
    expect(result.outcome).toBe('updated');
    const stored = await readTeam(team.metadata.name!);
    expect(stored.status?.conditions?.[0]).toMatchObject({
      type: 'Ready',
      status: 'True',
      reason: 'Reconciled',
      observedGeneration: 1,
    });
    expect(stored.status?.observedGeneration).toBe(1);
    expect(stored.spec.displayName).toBeUndefined(); // the status subresource ignores spec
    const managers = (stored.metadata.managedFields ?? []).map(
      (f) => `${f.manager}:${f.subresource ?? ''}`,
    );
    expect(managers).toContain('team-controller:status');
  });

  it('writes 50 statuses over one kept-alive connection, not one connection each', async () => {
    // Counted where the server sees them: a client building a dispatcher per call (as
    // client-node 2.0.1 does) opens about one per write here. Two, not one: a request sent
    // the moment the previous answer was read may find its connection not yet released.
    const proxy = await startTcpProxy(apiServerAddress(kc));
    const proxied = proxy.kubeConfig(kc);
    try {
      const pooled = new StatusWriter(kubeClient(proxied), { fieldManager: 'team-controller' });
      let team = await createTeam();
      for (let i = 0; i < 50; i++) {
        const written = await pooled.update(teams, team, (t) => ready(t, `Step${i}`));
        if (written.outcome !== 'updated') throw new Error(written.outcome);
        team = written.object;
      }
      expect(proxy.connections).toBeLessThanOrEqual(2);
      expect(KubeTransport.of(proxied).connectionsOpened).toBe(proxy.connections);
    } finally {
      await KubeTransport.of(proxied).close();
      await proxy.close();
    }
  });

  it('skips the write when the status is already what it would write', async () => {
    const team = await createTeam();
    const first = await writer.update(teams, team, (t) => ready(t, 'Reconciled'));
    if (first.outcome !== 'updated') throw new Error(first.outcome);
    const second = await writer.update(teams, first.object, (t) => ready(t, 'Reconciled'));
    expect(second.outcome).toBe('unchanged');
    expect((await readTeam(team.metadata.name!)).metadata.resourceVersion).toBe(
      first.object.metadata.resourceVersion,
    );
  });

  it('on 409 re-reads the object, recomputes from it and retries once', async () => {
    const team = await createTeam();
    const first = await writer.update(teams, team, (t) => ready(t, 'Waiting'));
    if (first.outcome !== 'updated') throw new Error(first.outcome);
    // Someone else changes the object: our copy (`first.object`) is now stale.
    await api.patchClusterCustomObject({
      group,
      version,
      plural: 'teams',
      name: team.metadata.name!,
      body: [{ op: 'add', path: '/metadata/labels', value: { touched: 'yes' } }],
    });
    const seen: (string | undefined)[] = [];
    const result = await writer.update(teams, first.object, (t) => {
      seen.push(t.metadata.labels?.touched);
      return ready(t, 'Reconciled');
    });
    expect(result.outcome).toBe('updated');
    expect(seen).toEqual([undefined, 'yes']); // computed from the stale copy, then from the fresh one
    const stored = await readTeam(team.metadata.name!);
    expect(stored.status?.conditions?.[0]?.reason).toBe('Reconciled');
    // The transition time comes from the fresh object's condition, not a stale one.
    expect(stored.status?.conditions?.[0]?.status).toBe('True');
  });

  it('reports an object deleted meanwhile as gone, without throwing', async () => {
    const team = await createTeam();
    await api.deleteClusterCustomObject({
      group,
      version,
      plural: 'teams',
      name: team.metadata.name!,
    });
    expect((await writer.update(teams, team, (t) => ready(t, 'Reconciled'))).outcome).toBe('gone');
  });

  it('writes the status of namespaced custom resources', async () => {
    const namespace = await uniqueNamespace('status-ns');
    const created = (await api.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'modelsubscriptions',
      body: aModelSubscription('granite').inNamespace(namespace).build(),
    })) as ModelSubscription;
    const result = await writer.update(subscriptions, created, {
      phase: 'Pending',
      observedGeneration: 1,
    } as NonNullable<ModelSubscription['status']>);
    expect(result.outcome).toBe('updated');
    const stored = (await api.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'modelsubscriptions',
      name: 'granite',
    })) as ModelSubscription;
    expect(stored.status).toMatchObject({ phase: 'Pending', observedGeneration: 1 });
  });
});

describe('Finalizers', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let finalizers: Finalizers;
  beforeAll(() => {
    kc = kubeConfigFromInject();
    core = kc.makeApiClient(CoreV1Api);
    finalizers = new Finalizers(kubeClient(kc), { fieldManager: 'test-controller' });
  });

  /** A ConfigMap as the informer caches it: wire JSON with apiVersion and kind. */
  const configMap = async (namespace: string, name: string): Promise<V1ConfigMap> => {
    const cm = await core.readNamespacedConfigMap({ namespace, name });
    return { ...cm, apiVersion: 'v1', kind: 'ConfigMap' };
  };
  const gone = async (namespace: string, name: string) =>
    core.readNamespacedConfigMap({ namespace, name }).then(
      () => false,
      (err: unknown) => err instanceof ApiException && err.code === 404,
    );

  it('adds and removes a finalizer, keeping the others, and refuses a stale copy (409)', async () => {
    const namespace = await uniqueNamespace('finalizers');
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'cm', finalizers: ['example.com/other'] } },
    });
    const original = await configMap(namespace, 'cm');
    const added = await finalizers.add(original, FINALIZER);
    expect(added.metadata?.finalizers).toEqual(['example.com/other', FINALIZER]);
    expect(await finalizers.add(added, FINALIZER)).toBe(added); // present: no request

    // The original copy is stale: removing through it must not silently win.
    const stale = {
      ...original,
      metadata: { ...original.metadata, finalizers: ['example.com/other', FINALIZER] },
    };
    const conflict = await finalizers.remove(stale, FINALIZER).catch((err: unknown) => err);
    expect(conflict).toBeInstanceOf(ApiException);
    expect((conflict as ApiException<unknown>).code).toBe(409);

    const removed = await finalizers.remove(await configMap(namespace, 'cm'), FINALIZER);
    expect(removed?.metadata?.finalizers).toEqual(['example.com/other']);
  });

  it('adds the finalizer before apply, and removes it only after cleanup succeeded', async () => {
    const namespace = await uniqueNamespace('finalizer-flow');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cm' } } });
    const calls: string[] = [];
    let cleanupFails = true;
    const handlers = {
      apply: async (o: V1ConfigMap) => {
        calls.push(`apply finalizers=${o.metadata?.finalizers?.join(',')}`);
        throw new Error('LiteLLM down'); // apply never completes
      },
      cleanup: async () => {
        calls.push('cleanup');
        if (cleanupFails) throw new Error('LiteLLM down');
      },
    };
    await expect(
      finalizers.reconcile(await configMap(namespace, 'cm'), FINALIZER, handlers),
    ).rejects.toThrow('LiteLLM down');
    expect(calls).toEqual([`apply finalizers=${FINALIZER}`]);
    expect((await configMap(namespace, 'cm')).metadata?.finalizers).toEqual([FINALIZER]);

    await core.deleteNamespacedConfigMap({ namespace, name: 'cm' });
    const deleting = await configMap(namespace, 'cm');
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();

    // Cleanup fails: the finalizer stays and the object with it.
    await expect(finalizers.reconcile(deleting, FINALIZER, handlers)).rejects.toThrow(
      'LiteLLM down',
    );
    expect((await configMap(namespace, 'cm')).metadata?.finalizers).toEqual([FINALIZER]);

    // Cleanup succeeds (although apply never did): the finalizer goes, and the object too.
    cleanupFails = false;
    expect(
      await finalizers.reconcile(await configMap(namespace, 'cm'), FINALIZER, handlers),
    ).toEqual({});
    expect(calls).toEqual([`apply finalizers=${FINALIZER}`, 'cleanup', 'cleanup']);
    expect(await gone(namespace, 'cm')).toBe(true);
  });

  it('keeps the finalizer while cleanup asks to be run again later', async () => {
    const namespace = await uniqueNamespace('finalizer-requeue');
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'cm', finalizers: [FINALIZER] } },
    });
    await core.deleteNamespacedConfigMap({ namespace, name: 'cm' });
    const result = await finalizers.reconcile(await configMap(namespace, 'cm'), FINALIZER, {
      apply: async () => ({}),
      cleanup: async () => ({ requeueAfter: 5000 }),
    });
    expect(result).toEqual({ requeueAfter: 5000 });
    expect((await configMap(namespace, 'cm')).metadata?.finalizers).toEqual([FINALIZER]);
    await finalizers.remove(await configMap(namespace, 'cm'), FINALIZER);
  });

  it('does nothing for an object being deleted without our finalizer', async () => {
    const namespace = await uniqueNamespace('finalizer-foreign');
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'cm', finalizers: ['example.com/other'] } },
    });
    await core.deleteNamespacedConfigMap({ namespace, name: 'cm' });
    const calls: string[] = [];
    await finalizers.reconcile(await configMap(namespace, 'cm'), FINALIZER, {
      apply: async () => (calls.push('apply'), {}),
      cleanup: async () => void calls.push('cleanup'),
    });
    expect(calls).toEqual([]);
    const stale = await configMap(namespace, 'cm');
    await core.replaceNamespacedConfigMap({
      namespace,
      name: 'cm',
      body: { ...stale, metadata: { ...stale.metadata, finalizers: [] } },
    });
  });

  it('works on custom resources (a cluster-scoped Team)', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    const name = `finalizer-${suffix()}`;
    const team = (await api.createClusterCustomObject({
      group,
      version,
      plural: 'teams',
      body: aTeam(name).build(),
    })) as Team;
    const added = await finalizers.add(team, FINALIZER);
    expect(added.metadata.finalizers).toEqual([FINALIZER]);
    expect(added.spec).toEqual(team.spec);
    await api.deleteClusterCustomObject({ group, version, plural: 'teams', name });
    const deleting = (await api.getClusterCustomObject({
      group,
      version,
      plural: 'teams',
      name,
    })) as Team;
    await finalizers.reconcile(deleting, FINALIZER, {
      apply: async () => ({}),
      cleanup: async () => {},
    });
    await expect
      .poll(() =>
        api.getClusterCustomObject({ group, version, plural: 'teams', name }).then(
          () => 'exists',
          (err: unknown) => (err instanceof ApiException ? err.code : 'error'),
        ),
      )
      .toBe(404);
  });
});
