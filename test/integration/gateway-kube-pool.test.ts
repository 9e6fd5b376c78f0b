// The gateway's one connection pool to the API server: sign-in's provisioning (a client-node
// CustomObjectsApi) and the people side (every call as a person) send over the same kept-alive
// connections, counted where the server sees them, at a TCP proxy in front of it. Two pools,
// or client-node's dispatcher per call, would open more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { KubeTransport } from '../../contracts/kube/kube-transport.ts';
import { PersonKube } from '../../gateway/src/kube/person-kube.ts';
import { pooledCustomObjectsApi } from '../../gateway/src/signin/kube-api.ts';
import { apiServerAddress, startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

describe("the gateway's connection pool", () => {
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = await startTcpProxy(apiServerAddress(kubeConfigFromInject()));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('carries provisioning and calls as a person over the same connections', async () => {
    const kc = proxy.kubeConfig(kubeConfigFromInject());
    const provisioning = pooledCustomObjectsApi(kc);
    const people = new PersonKube(kc);
    const before = proxy.connections;
    try {
      const person = people.as({
        user: 'pool-tester',
        groups: ['pool-testers'],
        extra: { 'llmtenancy.dev/user-name': ['pool-tester'] },
      });
      for (let i = 0; i < 20; i++) {
        await provisioning.listClusterCustomObject({
          group: 'llmtenancy.dev',
          version: 'v1alpha1',
          plural: 'users',
          limit: 1,
        });
        const me = await person.whoAmI();
        // The person is who the call acts as, not the kubeconfig's own user.
        expect(me.username).toBe('pool-tester');
        expect(me.groups).toContain('pool-testers');
      }
      const opened = proxy.connections - before;
      // 40 calls, one at a time, alternating between the two clients: one connection (two if
      // a request goes out as the previous answer's connection is being released), where a
      // connection per call would be 40.
      expect(opened).toBeLessThanOrEqual(2);
      // And all of them the one pool's: a second pool's connections would not be counted here.
      expect(KubeTransport.of(kc).connectionsOpened).toBe(opened);
    } finally {
      await people.close();
    }
  });
});
