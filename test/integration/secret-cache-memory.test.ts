// A tenant cannot fill the operator's memory through its Secret cache: the Secret informer
// (virtual-key/targets.ts › KEY_SECRET_TARGET) selects on both labels the operator writes,
// lists and watches metadata only (PartialObjectMetadata) and keeps identity and owner alone.
// 500 Secrets of 100 KiB that copy the operator's labels, and more that carry only the
// virtual-key label, against the real API server; the heap figures go to the test's output.
import { randomBytes, randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MANAGED_BY_LABEL,
  VIRTUAL_KEY_LABEL,
} from '../../operator/src/controllers/virtual-key/key-secret.ts';
import { KEY_SECRET_TARGET } from '../../operator/src/controllers/virtual-key/targets.ts';
import { keyForSecret } from '../../operator/src/controllers/virtual-key/watches.ts';
import { InformerFactory } from '../../operator/src/runtime/informer-factory.ts';
import type { KubeObject } from '../../operator/src/runtime/object.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';

const TENANT_SECRETS = 500;
const DATA_BYTES = 100 * 1024;
const ONLY_KEY_LABEL = 20;

// A collectable heap for the figures: node's gc, without restarting the worker with flags.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

describe('Secret cache memory', () => {
  let kc: KubeConfig;
  let namespace: string;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    const core = kc.makeApiClient(CoreV1Api);
    namespace = await uniqueNamespace('secret-cache');
    const secret = (name: string, labels: Record<string, string>, extra: Partial<V1Secret> = {}) =>
      core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name, labels, ...extra.metadata },
          data: { blob: randomBytes(DATA_BYTES).toString('base64') },
        },
      });
    // What a tenant can do with edit on its namespace: copy the operator's labels.
    const copied = { [MANAGED_BY_LABEL]: 'llm-tenancy', [VIRTUAL_KEY_LABEL]: 'chatbot' };
    const names = Array.from({ length: TENANT_SECRETS }, (_, i) => `tenant-${i}`);
    await inBatches(names, 16, (name) => secret(name, copied));
    const keyOnly = Array.from({ length: ONLY_KEY_LABEL }, (_, i) => `key-label-only-${i}`);
    await inBatches(keyOnly, 16, (name) => secret(name, { [VIRTUAL_KEY_LABEL]: 'chatbot' }));
    // One shaped like the operator's: controlled by a VirtualKey.
    await secret('chatbot', copied, {
      metadata: {
        ownerReferences: [
          {
            apiVersion: 'llmtenancy.dev/v1alpha1',
            kind: 'VirtualKey',
            name: 'chatbot',
            uid: randomUUID(),
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
    });
  }, 600_000);

  /** Starts the informer for `target` in the test namespace; its heap cost once synced. */
  async function cached(target: typeof KEY_SECRET_TARGET) {
    const factory = new InformerFactory(kc);
    const before = heapUsed();
    const informer = factory.informerFor<KubeObject>({ ...target, namespace });
    factory.start();
    await factory.waitForSync();
    const heapBytes = heapUsed() - before;
    const objects = informer.store.list();
    const cachedBytes = objects.reduce((sum, o) => sum + JSON.stringify(o).length, 0);
    return { factory, informer, objects, heapBytes, cachedBytes };
  }

  it('caches only the metadata of labelled Secrets, and nothing of the others', async () => {
    const { factory, informer, objects, heapBytes, cachedBytes } = await cached(KEY_SECRET_TARGET);
    try {
      console.log(
        `metadata-only Secret cache: ${objects.length} objects, ${cachedBytes} bytes as JSON, heap +${mib(heapBytes)}`,
      );
      // Selected by the labels a tenant copied (labels are theirs to set) ...
      expect(objects).toHaveLength(TENANT_SECRETS + 1);
      // ... but without their data, or anything else a tenant can make large.
      for (const object of objects) {
        expect(object).not.toHaveProperty('data');
        expect(object.metadata).not.toHaveProperty('labels');
        expect(object.metadata).not.toHaveProperty('annotations');
        expect(object.metadata).not.toHaveProperty('managedFields');
      }
      expect(cachedBytes).toBeLessThan((TENANT_SECRETS + 1) * 512);
      // The data alone is 50 MiB; the whole cache stays a small fraction of one copy of it.
      expect(heapBytes).toBeLessThan(8 * 2 ** 20);
      // Secrets carrying only the virtual-key label are not selected at all.
      expect(objects.some((o) => o.metadata?.name?.startsWith('key-label-only-'))).toBe(false);
      // What the controller needs is still there: the operator's Secret maps to its key.
      const ours = informer.store.getByName('chatbot', namespace);
      expect(keyForSecret(ours as never)).toEqual([{ namespace, name: 'chatbot' }]);
      expect(keyForSecret(informer.store.getByName('tenant-0', namespace) as never)).toEqual([]);
    } finally {
      await factory.stop();
    }
  });

  it('syncs where nothing matches (an empty metadata list has items: null)', async () => {
    const empty = await uniqueNamespace('secret-cache-empty');
    const factory = new InformerFactory(kc);
    const informer = factory.informerFor<KubeObject>({ ...KEY_SECRET_TARGET, namespace: empty });
    factory.start();
    try {
      await factory.waitForSync();
      expect(informer.store.size).toBe(0);
    } finally {
      await factory.stop();
    }
  });

  it('for comparison: whole Secrets of the same selection would cost their data', async () => {
    const { factory, objects, heapBytes } = await cached({
      ...KEY_SECRET_TARGET,
      metadataOnly: false,
      transform: undefined,
    });
    try {
      console.log(`full Secret cache: ${objects.length} objects, heap +${mib(heapBytes)}`);
      expect(objects.every((o) => 'data' in o)).toBe(true);
      expect(heapBytes).toBeGreaterThan(TENANT_SECRETS * DATA_BYTES);
    } finally {
      await factory.stop();
    }
  });
});
