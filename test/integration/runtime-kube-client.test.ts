// The KubeClient against the real API server: the contract the fake passes too, one
// connection pool for writes and watches (counted where the server sees them, at a TCP proxy
// in front of it: a client that opened a connection per request would fail here), whole
// objects behind a metadata-only cache without a request once read, and the write fence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_MAPS, kubeClientContract } from '../fixtures/kube-client-contract.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { InformerFactory } from '../../operator/src/runtime/informer-factory.ts';
import { kubeClient, type HttpKubeClient } from '../../operator/src/runtime/kube-client.ts';
import { KubeTransport } from '../../contracts/kube/kube-transport.ts';
import type { KubeObject } from '../../operator/src/runtime/object.ts';
import { FencedWriteError, WriteFence } from '../../operator/src/runtime/write-fence.ts';
import { apiServerAddress, startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

type ConfigMap = KubeObject & { data?: Record<string, string> };

let contractClient: HttpKubeClient | undefined;
kubeClientContract('HttpKubeClient', () => ({
  kube: (contractClient ??= kubeClient(kubeConfigFromInject())),
  namespace: () => uniqueNamespace('kube-client'),
}));

describe('HttpKubeClient', () => {
  let proxy: TcpProxy;
  let kube: HttpKubeClient;
  let namespace: string;

  beforeAll(async () => {
    const kc = kubeConfigFromInject();
    proxy = await startTcpProxy(apiServerAddress(kc));
    kube = kubeClient(proxy.kubeConfig(kc));
    namespace = await uniqueNamespace('kube-client-pool');
  });
  afterAll(async () => {
    await kube?.transport.close();
    await proxy?.close();
  });

  it('sends sequential and concurrent writes over kept-alive connections', async () => {
    const ref = { namespace, name: 'counter' };
    await kube.create(CONFIG_MAPS, { metadata: ref, data: { n: '0' } });
    const before = proxy.connections;
    const sequential = 200;
    for (let i = 1; i <= sequential; i++) {
      await kube.mergePatch(CONFIG_MAPS, ref, { data: { n: String(i) } });
    }
    const afterSequential = proxy.connections - before;
    const workers = 8;
    const concurrent = 400;
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < concurrent) {
          const i = next++;
          await kube.mergePatch(CONFIG_MAPS, ref, { data: { [`w${i % workers}`]: String(i) } });
        }
      }),
    );
    const total = proxy.connections - before;
    const perRequest = total / (sequential + concurrent);
    console.log(
      `kube-client pool: ${afterSequential} new connections for ${sequential} sequential writes, ${total} for ${sequential + concurrent} writes (${workers} at once): ${perRequest.toFixed(4)} per request`,
    );
    // A connection per request would be 200 and 600. HTTP/1.1 carries one request at a time,
    // and a request sent as the previous answer is read may not find its connection released
    // yet: about two per request in flight.
    expect(afterSequential).toBeLessThanOrEqual(2);
    expect(total).toBeLessThanOrEqual(3 * workers);
  });

  it('watches and writes share the pool of one KubeConfig', async () => {
    const kc = proxy.kubeConfig(kubeConfigFromInject());
    const informers = new InformerFactory(kc);
    const client = kubeClient(kc, { informers });
    const target = { ...CONFIG_MAPS, namespace };
    const informer = informers.informerFor<ConfigMap>(target);
    const before = proxy.connections;
    informers.start();
    try {
      await informers.waitForSync();
      for (let i = 0; i < 50; i++) {
        await client.create(CONFIG_MAPS, { metadata: { namespace, name: `shared-${i}` } });
      }
      await expect.poll(() => informer.store.getByName('shared-49', namespace)).toBeTruthy();
      expect(KubeTransport.of(kc).connectionsOpened).toBe(proxy.connections - before);
      // One for the list then the watch (held open), one or two for the writes.
      expect(proxy.connections - before).toBeLessThanOrEqual(3);
    } finally {
      await informers.stop();
      await KubeTransport.of(kc).close();
    }
  });

  it('caches objects without managedFields, which the server keeps and the cache need not', async () => {
    const kc = kubeConfigFromInject();
    const informers = new InformerFactory(kc);
    const client = kubeClient(kc, { informers });
    const informer = informers.informerFor<ConfigMap>({ ...CONFIG_MAPS, namespace });
    informers.start();
    try {
      await informers.waitForSync();
      const ref = { namespace, name: 'field-owners' };
      await client.create(
        CONFIG_MAPS,
        { metadata: ref, data: { a: '1' } },
        { fieldManager: 'one' },
      );
      await client.mergePatch(CONFIG_MAPS, ref, { data: { b: '2' } }, { fieldManager: 'two' });
      const live = await client.read<ConfigMap & { metadata: { managedFields?: unknown[] } }>(
        CONFIG_MAPS,
        ref,
      );
      expect(live?.metadata.managedFields).toHaveLength(2);
      await expect
        .poll(() => informer.store.getByName('field-owners', namespace)?.data)
        .toEqual({ a: '1', b: '2' });
      const cached = informer.store.getByName('field-owners', namespace)!;
      expect(cached.metadata).not.toHaveProperty('managedFields');
      expect(cached.metadata?.resourceVersion).toBe(live?.metadata.resourceVersion);
    } finally {
      await informers.stop();
      await KubeTransport.of(kc).close();
    }
  });

  it('returns the whole object behind a metadata-only cache, reading it only when it changed', async () => {
    const kc = kubeConfigFromInject();
    const informers = new InformerFactory(kc);
    const client = kubeClient(kc, { informers });
    const other = kubeClient(proxy.kubeConfig(kc)); // someone else's writes
    const labelled = { namespace, name: 'labelled' };
    const target = {
      ...CONFIG_MAPS,
      namespace,
      labelSelector: 'llm-tenancy.dev/test=metadata-only',
      metadataOnly: true,
    };
    informers.informerFor<ConfigMap>(target);
    informers.start();
    try {
      await informers.waitForSync();
      const created = await client.create<ConfigMap>(CONFIG_MAPS, {
        metadata: { ...labelled, labels: { 'llm-tenancy.dev/test': 'metadata-only' } },
        data: { value: 'one' },
      });
      const transport = client.transport;
      await expect
        .poll(
          async () => (await client.get<ConfigMap>(target, labelled))?.metadata?.resourceVersion,
        )
        .toBe(created.metadata?.resourceVersion);
      const sent = transport.requestsSent;
      const cached = await client.get<ConfigMap>(target, labelled);
      expect(cached?.data).toEqual({ value: 'one' });
      expect(transport.requestsSent).toBe(sent); // written by us at this version: no request

      await other.mergePatch(CONFIG_MAPS, labelled, { data: { value: 'two' } });
      await expect
        .poll(async () => (await client.get<ConfigMap>(target, labelled))?.data?.value)
        .toBe('two');
      const afterRead = transport.requestsSent;
      expect((await client.get<ConfigMap>(target, labelled))?.data).toEqual({ value: 'two' });
      expect(transport.requestsSent).toBe(afterRead);

      // Not labelled: not in the cache, whatever the server holds.
      await client.create(CONFIG_MAPS, { metadata: { namespace, name: 'plain' } });
      expect(await client.get(target, { namespace, name: 'plain' })).toBeUndefined();
    } finally {
      await informers.stop();
    }
  });

  it('refuses every write once its fence is closed, before sending anything', async () => {
    const fence = new WriteFence();
    const fenced = kubeClient(kubeConfigFromInject(), { fence });
    const ref = { namespace, name: 'fenced' };
    await fenced.create(CONFIG_MAPS, { metadata: ref });
    fence.close(new Error('leadership lost'));
    const sent = fenced.transport.requestsSent;
    for (const write of [
      () => fenced.create(CONFIG_MAPS, { metadata: { namespace, name: 'fenced-2' } }),
      () => fenced.mergePatch(CONFIG_MAPS, ref, { data: { a: '1' } }),
      () => fenced.delete(CONFIG_MAPS, ref),
    ]) {
      await expect(write()).rejects.toBeInstanceOf(FencedWriteError);
    }
    expect(fenced.transport.requestsSent).toBe(sent);
    expect(await fenced.read(CONFIG_MAPS, ref)).toBeTruthy(); // reads go on
  });
});
