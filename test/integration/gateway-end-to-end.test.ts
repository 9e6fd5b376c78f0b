// The whole path a program takes: a team applies a VirtualKey, the operator mints it into a
// Secret, LiteLLM and the routing config; the program calls the gateway (two instances) with
// the Secret's key; the gateway forwards to LiteLLM (the LiteLLM-compatible test server, in
// front of the fake OpenAI upstream), which attributes the spend to that key. Revoking the
// subscription or deleting the VirtualKey is refused by every instance within a second; a
// route the Team enables (files) is served by every instance, and refused again when off.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { hashKey } from '../../contracts/routing/key-hash.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import { chat, startTestGateway } from './support/gateway-bed.ts';
import {
  condition,
  KeyObjects,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

describe('gateway end to end', () => {
  const run = suffix();
  const prefix = `e2e-${run}:`;
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;
  const gateways: RunningGateway[] = [];
  const namespace = `gw-e2e-${run}`;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-key-for-tests', models: ['granite', 'llama'] });
    objects = new KeyObjects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
    });
    for (let i = 0; i < 2; i++) {
      const gateway = await startTestGateway({
        LITELLM_URL: litellm.url,
        REDIS_URL: inject('redisUrl'),
        ROUTING_PREFIX: prefix,
      });
      gateways.push(gateway);
    }
    await objects.namespace(namespace);
    await objects.teams.create(namespace, { namespaces: [namespace], models: ['*'] });
    await objects.subscription(namespace, 'granite', { model: 'granite' });
    await objects.subscription(namespace, 'llama', { model: 'llama' });
  });

  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.close()));
    await operator?.stop();
    await litellm?.stop();
  });

  async function readyKey(name: string, models = ['granite', 'llama']): Promise<string> {
    await objects.key(namespace, name, { models });
    await expect
      .poll(async () => condition(await objects.getKey(namespace, name)), poll)
      .toBe('True/KeyReady');
    const key = (await objects.getKey(namespace, name))!;
    return secretKey(await objects.secret(namespace, key.status!.secretName!));
  }

  async function untilAll(key: string, model: string, status: number): Promise<number> {
    const started = performance.now();
    await expect
      .poll(
        async () =>
          (await Promise.all(gateways.map((g) => chat(g, key, { model })))).map((r) => r.status),
        { timeout: 10_000, interval: 10 },
      )
      .toEqual(gateways.map(() => status));
    return performance.now() - started;
  }

  it('serves the key from its Secret, and LiteLLM books the spend on that key', async () => {
    const key = await readyKey('app');
    for (const gateway of gateways) {
      const response = await chat(gateway, key, { model: 'granite' });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { model: string }).model).toBeDefined();
    }
    const stored = litellm.store.keys.get(hashKey(key));
    expect(stored?.spend).toBeGreaterThan(0);
    const models = await fetch(`${gateways[0]!.url}/v1/models`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const ids = ((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids.sort()).toEqual(['granite', 'llama']);
  });

  it('refuses a revoked subscription on every instance within a second', async () => {
    const key = await readyKey('revoked');
    for (const gateway of gateways) {
      expect((await chat(gateway, key, { model: 'llama' })).status).toBe(200);
    }
    await objects.deleteSubscription(namespace, 'llama');
    // The operator's reconcile is not the gateway's: measure from the routing record's change.
    await expect
      .poll(async () => (await chat(gateways[0]!, key, { model: 'llama' })).status, poll)
      .toBe(403);
    expect(await untilAll(key, 'llama', 403)).toBeLessThan(1_000);
    expect((await chat(gateways[1]!, key, { model: 'granite' })).status).toBe(200);
  });

  it('serves the routes its Team enables, on every instance, and refuses them again once they are off', async () => {
    const key = await readyKey('files', ['granite']);
    const files = () =>
      Promise.all(
        gateways.map(async (g) => {
          const response = await fetch(`${g.url}/v1/files`, {
            headers: { authorization: `Bearer ${key}` },
          });
          const body = (await response.json()) as { error?: { type: string }; detail?: string };
          // The gateway refuses in OpenAI's shape; LiteLLM's test server has no files API and
          // answers FastAPI's 404: that one was forwarded.
          return `${response.status} ${body.error?.type ?? body.detail}`;
        }),
      );
    expect(await files()).toEqual(gateways.map(() => '403 permission_error'));
    await objects.teams.patch(namespace, { spec: { gateway: { enabledRoutes: ['files'] } } });
    await expect.poll(files, poll).toEqual(gateways.map(() => '404 Not Found'));
    await objects.teams.patch(namespace, { spec: { gateway: null } });
    await expect.poll(files, poll).toEqual(gateways.map(() => '403 permission_error'));
  });

  it('refuses a deleted VirtualKey on every instance', async () => {
    const key = await readyKey('deleted', ['granite']);
    for (const gateway of gateways) {
      expect((await chat(gateway, key, { model: 'granite' })).status).toBe(200);
    }
    await objects.deleteKey(namespace, 'deleted');
    await untilAll(key, 'granite', 401);
  });
});
