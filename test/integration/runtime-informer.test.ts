// The informer against a real kube-apiserver: list+watch delivers what happens to
// ConfigMaps, and a broken watch ends in a working watch again — connections cut, or a
// connection that goes silent.
// 410 Gone needs an apiserver without a watch cache: runtime-informer-gone.test.ts.
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Informer,
  kubeListWatcher,
  type ListWatcher,
} from '../../operator/src/runtime/informer.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { apiServerAddress, startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

const configMaps = { apiVersion: 'v1', kind: 'ConfigMap' };
const poll = { timeout: 30_000, interval: 50 };

function recordEvents(informer: Informer<V1ConfigMap>) {
  const events: string[] = [];
  informer.addEventHandler({
    add: (o) => events.push(`add ${o.metadata!.name}`),
    update: (_, o) => events.push(`update ${o.metadata!.name} ${JSON.stringify(o.data ?? {})}`),
    delete: (o) => events.push(`delete ${o.metadata!.name}`),
  });
  return events;
}

function newInformer(
  kc: KubeConfig,
  namespace: string,
  options: { stallTimeoutMs?: number; lw?: ListWatcher<V1ConfigMap> } = {},
) {
  return new Informer<V1ConfigMap>({
    listWatcher: options.lw ?? kubeListWatcher<V1ConfigMap>(kc, configMaps, { namespace }),
    description: `ConfigMaps in ${namespace}`,
    backoff: { initialMs: 50, maxMs: 500 },
    stallTimeoutMs: options.stallTimeoutMs ?? 60_000,
    pageSize: 2,
  });
}

describe('Informer on a real API server', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  const informers: Informer<V1ConfigMap>[] = [];
  const track = (i: Informer<V1ConfigMap>) => (informers.push(i), i);

  beforeAll(() => {
    kc = kubeConfigFromInject();
    core = kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await Promise.all(informers.map((i) => i.stop()));
  });

  const create = (namespace: string, name: string, data: Record<string, string> = {}) =>
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });

  it('lists existing objects across pages, then watches add, update and delete', async () => {
    const namespace = await uniqueNamespace('informer-basic');
    for (const name of ['pre-1', 'pre-2', 'pre-3']) await create(namespace, name);
    const informer = track(newInformer(kc, namespace));
    const events = recordEvents(informer);
    informer.start();
    await informer.waitForSync();
    // kube-root-ca.crt is created in every namespace by the controller-manager, which the
    // test bed does not run; only ours are here. Three objects, page size two: two pages.
    expect(events.toSorted()).toEqual(['add pre-1', 'add pre-2', 'add pre-3']);
    expect(informer.stats.lists).toBe(1);

    await create(namespace, 'live', { a: '1' });
    await core.patchNamespacedConfigMap({
      namespace,
      name: 'live',
      body: [{ op: 'replace', path: '/data', value: { a: '2' } }],
    });
    await core.deleteNamespacedConfigMap({ namespace, name: 'pre-1' });
    await expect
      .poll(() => events.slice(3), poll)
      .toEqual(['add live', 'update live {"a":"2"}', 'delete pre-1']);
    expect(informer.store.getByName('live', namespace)?.data).toEqual({ a: '2' });
    expect(informer.store.getByName('pre-1', namespace)).toBeUndefined();
    // Cached objects are the wire JSON, with apiVersion and kind even when they came from a list.
    expect(informer.store.getByName('pre-2', namespace)).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
    });
    expect(typeof informer.store.getByName('pre-2', namespace)?.metadata?.creationTimestamp).toBe(
      'string',
    );
  });

  describe('through a TCP proxy', () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await startTcpProxy(apiServerAddress(kc));
    });
    afterAll(() => proxy.close());

    it('recovers when its connections are cut and still sees later changes', async () => {
      const namespace = await uniqueNamespace('informer-cut');
      const informer = track(newInformer(proxy.kubeConfig(kc), namespace));
      const events = recordEvents(informer);
      informer.start();
      await informer.waitForSync();
      await create(namespace, 'before-cut');
      await expect.poll(() => events, poll).toEqual(['add before-cut']);
      const watchesBefore = informer.stats.watches;

      proxy.cut();
      await create(namespace, 'after-cut', { x: 'y' });
      await core.deleteNamespacedConfigMap({ namespace, name: 'before-cut' });

      await expect
        .poll(() => events, poll)
        .toEqual(['add before-cut', 'add after-cut', 'delete before-cut']);
      // It watched again (from its resourceVersion: no relist was needed).
      expect(informer.stats.watches).toBeGreaterThan(watchesBefore);
      expect(informer.stats.lists).toBe(1);
    });

    it('restarts a watch whose connection goes silent, once the stall timeout passes', async () => {
      const namespace = await uniqueNamespace('informer-stall');
      const informer = track(
        newInformer(proxy.kubeConfig(kc), namespace, { stallTimeoutMs: 1500 }),
      );
      const events = recordEvents(informer);
      informer.start();
      await informer.waitForSync();
      // An event through the watch shows its connection is up before it is frozen.
      await create(namespace, 'before-stall');
      await expect.poll(() => events, poll).toEqual(['add before-stall']);
      const watchesBefore = informer.stats.watches;

      proxy.freeze(); // the watch connection stays open but carries nothing
      await create(namespace, 'during-stall');
      await expect.poll(() => events, poll).toEqual(['add before-stall', 'add during-stall']);
      expect(informer.stats.watches).toBeGreaterThan(watchesBefore);
    });
  });
});
