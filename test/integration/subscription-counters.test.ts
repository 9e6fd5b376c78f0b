// Subscription limits are counted per ModelSubscription, end to end: one Team owning two
// namespaces, each with its own subscription to one model (rpm 3) and a key, through the
// operator (which writes each subscription's uid into the keys' routing records), the real
// Redis and a real gateway in front of the LiteLLM test server. Counted per team and model,
// as before, the two namespaces shared one counter: the second one's requests were refused.
import type { KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import { chat, startTestGateway } from './support/gateway-bed.ts';
import {
  condition,
  KeyObjects,
  routingRecord,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

const MODEL = 'granite-3-8b';
const RPM = 3;

describe('subscription counters', () => {
  const run = suffix();
  const prefix = `sub-counters-${run}:`;
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let gateway: RunningGateway;
  let redis: Redis;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    redis = new Redis(inject('redisUrl'));
    litellm = await start({ masterKey: 'sk-master-sub-counters', models: [MODEL] });
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await operator?.stop();
    await litellm?.stop();
    redis?.disconnect();
  });

  /** Waits for the next rpm window when the current one ends within 5 s (Redis's clock). */
  async function awayFromWindowEdge(): Promise<void> {
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const left = 60_000 - (now % 60_000);
    if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
  }

  it('gives each namespace of one team its own counter for its own subscription to a model', async () => {
    const objects = new KeyObjects(kc, { [TEST_RUN_LABEL]: run });
    const team = `counters-${run}`;
    const namespaces = [`${team}-a`, `${team}-b`];
    for (const namespace of namespaces) await objects.namespace(namespace);
    await objects.teams.create(team, { namespaces, models: ['*'] });
    const keys: string[] = [];
    const uids: string[] = [];
    for (const namespace of namespaces) {
      const subscription = await objects.subscription(namespace, 'granite', {
        model: MODEL,
        limits: { rpm: RPM },
      });
      uids.push(subscription.metadata.uid!);
      await objects.key(namespace, 'app', {});
    }
    for (const namespace of namespaces) {
      await expect
        .poll(async () => condition(await objects.getKey(namespace, 'app')), poll)
        .toBe('True/KeyReady');
      const key = (await objects.getKey(namespace, 'app'))!;
      const value = secretKey(await objects.secret(namespace, key.status!.secretName!));
      keys.push(value);
      // The record names the subscription the key's namespace has.
      await expect
        .poll(async () => (await routingRecord(redis, prefix, value))?.limits.subscriptions, poll)
        .toEqual({ [MODEL]: { rpm: RPM, uid: subscription(uids, namespaces, namespace) } });
    }

    gateway = await startTestGateway({
      LITELLM_URL: litellm.url,
      REDIS_URL: inject('redisUrl'),
      ROUTING_PREFIX: prefix,
    });
    expect(await gateway.ready(10_000)).toBe(true);
    await awayFromWindowEdge();
    const statuses = await Promise.all(
      keys.map(async (key) => {
        const counts: Record<number, number> = {};
        for (let i = 0; i < RPM * 2; i++) {
          const response = await chat(gateway, key, { model: MODEL });
          await response.arrayBuffer();
          counts[response.status] = (counts[response.status] ?? 0) + 1;
        }
        return counts;
      }),
    );
    expect(statuses).toEqual([
      { 200: RPM, 429: RPM },
      { 200: RPM, 429: RPM },
    ]);
  });
});

/** The uid of the subscription in `namespace`. */
function subscription(uids: string[], namespaces: string[], namespace: string): string {
  return uids[namespaces.indexOf(namespace)]!;
}
