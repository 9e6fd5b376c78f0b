// Redis flushed while the operator is down, then the operator restarted: its memory of the
// routing config starts empty, so its first refill cannot hold every key. Running gateways
// must never answer 401 to a valid key meanwhile: the refill is marked incomplete until every
// VirtualKey has been reconciled once (operator/src/routing/key-inventory.ts), and a gateway
// answers a key missing from an incomplete config from what it had cached, else with 503.
//
// Real parts: the API server, a redis-server of this file's own (FLUSHALL must not disturb
// other files), the LiteLLM test server behind two real gateways, the operator's controllers.
// LiteLLM is made slow and briefly failing while the new operator starts, so its keys come
// back over a while; a poller sends every key through both gateways all along.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingKeys } from '../../contracts/routing/redis-layout.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
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

const MODEL = 'granite-3-8b';
const KEYS = 12;

describe('Redis flushed, then the operator restarted', () => {
  const run = suffix();
  const prefix = `restart-${run}:`;
  const selector = `${TEST_RUN_LABEL}=${run}`;
  let kc: KubeConfig;
  let dir: string;
  let redisServer: RedisServer;
  let reader: Redis;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator | undefined;
  const gateways: RunningGateway[] = [];

  const startOperator = () =>
    startKeyOperator({
      kc,
      litellm,
      redisUrl: redisServer.url,
      prefix,
      labelSelector: selector,
      resyncIntervalMs: 60_000,
      routingCheckIntervalMs: 200,
    });

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-restart-redis-'));
    redisServer = await startRedis({ dir });
    reader = new Redis(redisServer.url);
    litellm = await start({ masterKey: 'sk-master-restart', models: [MODEL] });
    operator = await startOperator();
  });
  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.close()));
    await operator?.stop();
    await litellm?.stop();
    reader?.disconnect();
    await redisServer?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('never answers 401 to a valid key on a running gateway, and serves every key once the operator is back', async () => {
    const objects = new KeyObjects(kc, { [TEST_RUN_LABEL]: run });
    const namespace = `restart-${run}`;
    await objects.namespace(namespace);
    await objects.teams.create(namespace, { namespaces: [namespace], models: ['*'] });
    await objects.subscription(namespace, 'granite', { model: MODEL });
    const names = Array.from({ length: KEYS }, (_, i) => `app-${i}`);
    for (const name of names) await objects.key(namespace, name, {});
    const keys: string[] = [];
    for (const name of names) {
      await expect
        .poll(async () => condition(await objects.getKey(namespace, name)), poll)
        .toBe('True/KeyReady');
      const key = (await objects.getKey(namespace, name))!;
      keys.push(secretKey(await objects.secret(namespace, key.status!.secretName!)));
    }

    // Two running gateways: one has used every key (all cached), one none.
    const env = { LITELLM_URL: litellm.url, REDIS_URL: redisServer.url, ROUTING_PREFIX: prefix };
    const warm = await startTestGateway(env);
    const cold = await startTestGateway(env);
    gateways.push(warm, cold);
    for (const g of gateways) expect(await g.ready(10_000)).toBe(true);
    for (const key of keys) {
      await expect.poll(async () => (await chat(warm, key, { model: MODEL })).status).toBe(200);
    }

    // Every key through both gateways, over and over, until told to stop.
    const seen = new Map<number, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const key of keys) {
          for (const g of gateways) {
            const response = await chat(g, key, { model: MODEL });
            await response.arrayBuffer();
            seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
          }
        }
      }
    })();

    // Operator down; Redis loses everything; LiteLLM slow and failing at first, so the new
    // operator's keys come back one by one, some only after retries.
    await operator!.stop();
    operator = undefined;
    await redisServer.flush();
    litellm.faults.add({ route: '/key/info', status: 503, times: 6 });
    litellm.faults.add({ route: '/key/info', latencyMs: 150 });
    operator = await startOperator();

    const layout = routingKeys(prefix);
    await expect
      .poll(async () => {
        const meta = await reader.hgetall(layout.meta);
        return meta.epoch !== undefined && meta.incomplete === undefined;
      }, poll)
      .toBe(true);
    litellm.faults.clear();
    for (const key of keys) {
      for (const g of gateways) {
        await expect
          .poll(async () => (await chat(g, key, { model: MODEL })).status, poll)
          .toBe(200);
      }
    }
    polling = false;
    await poller;

    expect(seen.get(401) ?? 0).toBe(0);
    expect(seen.get(200) ?? 0).toBeGreaterThan(0);
    // The restart was seen: while the config was missing or incomplete, the cold gateway
    // could only answer 503 for keys it had not read yet.
    expect(seen.get(503) ?? 0).toBeGreaterThan(0);
    expect(litellm.calls.count('POST', '/key/generate')).toBe(KEYS); // no key minted again
  });
});
