// 410 Gone from a real API server. The shared test apiserver cannot be made to send it: its
// watch cache serves any old resourceVersion (from a snapshot, as long as it dropped no
// event) and paginated lists come from cache snapshots too. So this file starts its own
// kube-apiserver with --watch-cache=false, where watches go to etcd, and compacts etcd:
// a watch from before the compaction is then answered 410, exactly as in production after
// a long disconnect.
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Informer,
  kubeListWatcher,
  type ListWatcher,
} from '../../operator/src/runtime/informer.ts';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.ts';
import { compactEtcd } from './support/etcd-compaction.ts';

const poll = { timeout: 30_000, interval: 50 };

describe('Informer and 410 Gone', () => {
  let controlPlane: ControlPlane;
  let kc: KubeConfig;
  let core: CoreV1Api;
  beforeAll(async () => {
    controlPlane = await startControlPlane({ apiServerArgs: ['--watch-cache=false'] });
    kc = controlPlane.kubeConfig;
    core = kc.makeApiClient(CoreV1Api);
  }, 120_000);
  afterAll(() => controlPlane?.stop());

  it('relists when a watch is answered 410 Gone, and reports what it missed', async () => {
    const namespace = 'gone';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const create = (name: string) =>
      core.createNamespacedConfigMap({ namespace, body: { metadata: { name } } });
    const etcd = controlPlane.etcdUrl;
    const real = kubeListWatcher<V1ConfigMap>(
      kc,
      { apiVersion: 'v1', kind: 'ConfigMap' },
      { namespace },
    );
    let watchCalls = 0;
    // The first watch ends after about a second (timeoutSeconds 1). Before the second one,
    // 'old' is deleted, 'new' created and etcd compacted past the informer's
    // resourceVersion: while it was away, history it would need is gone.
    const lw: ListWatcher<V1ConfigMap> = {
      list: (o) => real.list(o),
      async *watch(o) {
        watchCalls++;
        if (watchCalls === 2) {
          await core.deleteNamespacedConfigMap({ namespace, name: 'old' });
          await create('new');
          await compactEtcd(etcd);
        }
        yield* real.watch({ ...o, timeoutSeconds: watchCalls === 1 ? 1 : o.timeoutSeconds });
      },
    };
    await create('old');
    const informer = new Informer<V1ConfigMap>({
      listWatcher: lw,
      description: 'gone',
      backoff: { initialMs: 50 },
    });
    const events: string[] = [];
    informer.addEventHandler({
      add: (o) => events.push(`add ${o.metadata!.name}`),
      delete: (o) => events.push(`delete ${o.metadata!.name}`),
    });
    try {
      informer.start();
      await informer.waitForSync();
      expect(events).toEqual(['add old']);
      // Only 410 makes the informer list again; any other failure re-watches from its
      // resourceVersion (operator/src/runtime/informer.test.ts).
      await expect.poll(() => informer.stats.lists, poll).toBe(2);
      expect(events).toEqual(['add old', 'delete old', 'add new']);
      // And it watches on from the new list.
      await create('later');
      await expect.poll(() => events.at(-1), poll).toBe('add later');
    } finally {
      await informer.stop();
    }
  });
});
