// How the gateways' view of the routing config follows the operator's changes, and what they
// do when Redis loses the config or goes away. Two gateway instances share one Redis (with
// LiteLLM, deleted keys have kept working on a second replica: here every instance must
// refuse within a second). The flush/restart tests use a Redis server of their own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGatewayLogger } from '../../gateway/src/observability/logger.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { pino } from 'pino';
import { RoutingPublisher } from '../../operator/src/routing/routing-publisher.ts';
import { createRoutingRedis } from '../../operator/src/routing/routing-redis.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { chat, startGatewayBed, startTestGateway, type GatewayBed } from './support/gateway-bed.ts';

/** Polls every 10 ms until every gateway answers `status`; returns how long that took. */
async function untilAll(
  gateways: RunningGateway[],
  key: string,
  status: number,
  body: Record<string, unknown> = {},
): Promise<number> {
  const started = performance.now();
  await expect
    .poll(
      async () => (await Promise.all(gateways.map((g) => chat(g, key, body)))).map((r) => r.status),
      { timeout: 5_000, interval: 10 },
    )
    .toEqual(gateways.map(() => status));
  return performance.now() - started;
}

describe('two gateways on one Redis', () => {
  let bed: GatewayBed;
  let a: RunningGateway;
  let b: RunningGateway;

  beforeAll(async () => {
    bed = await startGatewayBed(inject('redisUrl'));
    a = await bed.startGateway();
    b = await bed.startGateway();
  });
  afterAll(async () => {
    await bed?.stop();
  });

  it('refuses a deleted key on every instance within a second', async () => {
    const key = await bed.addKey();
    // Both instances have it cached.
    for (const g of [a, b]) expect((await chat(g, key.key)).status).toBe(200);
    await bed.removeKey(key);
    expect(await untilAll([a, b], key.key, 401)).toBeLessThan(1_000);
  });

  it('refuses a revoked model on every instance within a second, other models unaffected', async () => {
    const key = await bed.addKey({ models: ['fake-model', 'granite'] });
    for (const g of [a, b]) expect((await chat(g, key.key)).status).toBe(200);
    await bed.updateKey(key, { models: ['granite'] });
    expect(await untilAll([a, b], key.key, 403)).toBeLessThan(1_000);
    // granite is still allowed: the request reaches the upstream (which serves any model).
    expect((await chat(a, key.key, { model: 'granite' })).status).toBe(200);
  });

  it('refuses a key suspended while cached, and takes it back when resumed', async () => {
    const key = await bed.addKey();
    for (const g of [a, b]) expect((await chat(g, key.key)).status).toBe(200);
    const suspended = await bed.updateKey(key, { suspended: true, suspendedReason: 'Suspended' });
    expect(await untilAll([a, b], key.key, 401)).toBeLessThan(1_000);
    await bed.updateKey(suspended, { suspended: false, suspendedReason: undefined });
    expect(await untilAll([a, b], key.key, 200)).toBeLessThan(1_000);
  });

  it('accepts a new key at once even right after refusing it as unknown (negative cache)', async () => {
    const future = await bed.addKey();
    await bed.removeKey(future);
    expect((await chat(a, future.key)).status).toBe(401); // now remembered as unknown
    await bed.publisher.putKey(future.policy);
    expect(await untilAll([a], future.key, 200)).toBeLessThan(1_000);
  });

  it('answers repeated unknown keys from memory, not Redis', async () => {
    const before = await lookups(a);
    for (let i = 0; i < 20; i++)
      expect((await chat(a, 'sk-flood-of-one-bad-key')).status).toBe(401);
    const after = await lookups(a);
    expect(after.miss - before.miss).toBe(1);
    expect(after.negative_hit - before.negative_hit).toBe(19);
  });

  it('is not ready until the routing config exists', async () => {
    const early = await startTestGateway({
      LITELLM_URL: bed.upstream.url,
      REDIS_URL: bed.redisUrl,
      ROUTING_PREFIX: `${bed.prefix}empty:`,
    });
    const publisherRedis = new Redis(bed.redisUrl);
    try {
      const readyz = async () => (await fetch(`${early.managementUrl}/readyz`)).status;
      expect(await readyz()).toBe(503);
      expect((await chat(early, 'sk-anything')).status).toBe(503);
      const publisher = new RoutingPublisher({
        redis: publisherRedis,
        prefix: `${bed.prefix}empty:`,
        logger: createGatewayLogger('silent'),
      });
      await publisher.ensurePublished();
      await expect.poll(readyz).toBe(200);
    } finally {
      await early.close();
      publisherRedis.disconnect();
    }
  });

  it('notices a change announced while its subscription was down', async () => {
    const key = await bed.addKey();
    for (const g of [a, b]) expect((await chat(g, key.key)).status).toBe(200);
    const admin = new Redis(bed.redisUrl);
    try {
      // Cut every subscriber connection and change the key at once: the announcement may
      // be lost; the revision check after the reconnect must catch it.
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await bed.removeKey(key);
    } finally {
      admin.disconnect();
    }
    expect(await untilAll([a, b], key.key, 401)).toBeLessThan(2_000);
  });
});

describe('Redis losing the config, or going away', () => {
  let dir: string;
  let server: RedisServer;
  let bed: GatewayBed;
  let gateway: RunningGateway;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-redis-'));
    server = await startRedis({ dir });
    bed = await startGatewayBed(server.url);
    gateway = await bed.startGateway();
  });
  // What the operator's routing sync does when it finds the config gone (it retries until
  // Redis answers).
  const refill = () =>
    expect
      .poll(
        () =>
          bed.publisher.ensurePublished().then(
            () => true,
            () => false,
          ),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);

  afterEach(async () => {
    await server.start();
    await refill();
  });
  afterAll(async () => {
    await bed?.stop();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const readyz = async () => {
    const response = await fetch(`${gateway.managementUrl}/readyz`);
    return { status: response.status, body: (await response.json()) as { degraded?: string[] } };
  };

  it('after FLUSHALL: cached keys keep working, others wait (503) until the operator refills', async () => {
    const cached = await bed.addKey();
    const uncached = await bed.addKey();
    expect((await chat(gateway, cached.key)).status).toBe(200);
    await server.flush();
    expect((await chat(gateway, cached.key)).status).toBe(200);
    const waiting = await chat(gateway, uncached.key);
    expect(waiting.status).toBe(503);
    expect(waiting.headers.get('retry-after')).toBe('1');
    await refill();
    await expect.poll(async () => (await chat(gateway, uncached.key)).status).toBe(200);
    expect((await chat(gateway, cached.key)).status).toBe(200);
  });

  it('after FLUSHALL and an operator restart: an incomplete refill answers 503, never 401, for keys it lacks', async () => {
    const cached = await bed.addKey();
    const reconciledFirst = await bed.addKey();
    const reconciledLater = await bed.addKey();
    expect((await chat(gateway, cached.key)).status).toBe(200);
    await server.flush();
    // The restarted operator: an empty memory, and it knows it has not heard of every key.
    let knowsEveryKey = false;
    const redis = createRoutingRedis(server.url, pino({ level: 'silent' }));
    const restarted = new RoutingPublisher({
      redis,
      prefix: bed.prefix,
      logger: pino({ level: 'silent' }),
      knowsEveryKey: () => knowsEveryKey,
    });
    try {
      await expect
        .poll(() =>
          restarted.putKey(reconciledFirst.policy).then(
            () => true,
            () => false,
          ),
        )
        .toBe(true);
      await expect.poll(async () => (await chat(gateway, reconciledFirst.key)).status).toBe(200);
      // What this instance had cached still works; the rest waits, and nothing is unknown.
      expect((await chat(gateway, cached.key)).status).toBe(200);
      const waiting = await chat(gateway, reconciledLater.key);
      expect(waiting.status).toBe(503);
      expect(waiting.headers.get('retry-after')).toBe('1');
      expect((await chat(gateway, 'sk-unknown-after-a-restart')).status).toBe(503);
      // An instance started meanwhile knows nothing: 503 for what the refill lacks.
      const fresh = await bed.startGateway();
      expect((await chat(fresh, cached.key)).status).toBe(503);
      expect((await chat(fresh, reconciledFirst.key)).status).toBe(200);

      await restarted.putKey(reconciledLater.policy);
      await restarted.putKey(cached.policy);
      knowsEveryKey = true;
      expect(await restarted.ensurePublished()).toBe(true);
      for (const g of [gateway, fresh]) {
        await expect
          .poll(async () => (await chat(g, 'sk-unknown-after-a-restart')).status)
          .toBe(401);
        for (const k of [cached, reconciledFirst, reconciledLater]) {
          expect((await chat(g, k.key)).status).toBe(200);
        }
      }
    } finally {
      redis.disconnect();
    }
  });

  it('with Redis down: cached keys keep working on local limits, unknown keys are refused, degraded', async () => {
    const cached = await bed.addKey({ keyLimits: { rpm: 3 } });
    const uncached = await bed.addKey();
    expect((await chat(gateway, cached.key)).status).toBe(200);
    await server.stop();
    // Still ready (cached keys work; failing every instance would take the service down),
    // but degraded.
    await expect.poll(async () => (await readyz()).body.degraded).toContain('redis');
    expect((await readyz()).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat(gateway, cached.key)).status);
    // One of the three was counted in Redis before it stopped; the local count starts empty.
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await chat(gateway, uncached.key)).status).toBe(503);
    expect((await chat(gateway, 'sk-never-heard-of')).status).toBe(503);

    await server.start();
    await refill();
    await expect
      .poll(async () => (await readyz()).body.degraded, { timeout: 10_000 })
      .toBeUndefined();
    await expect.poll(async () => (await chat(gateway, uncached.key)).status).toBe(200);
    expect((await chat(gateway, 'sk-never-heard-of')).status).toBe(401);
  });

  it('starts while Redis is down: live, not ready, and serving once Redis and the config are back', async () => {
    const key = await bed.addKey();
    await server.stop();
    const late = await startTestGateway({
      LITELLM_URL: bed.upstream.url,
      REDIS_URL: server.url,
      ROUTING_PREFIX: bed.prefix,
    });
    try {
      expect((await fetch(`${late.managementUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${late.managementUrl}/readyz`)).status).toBe(503);
      expect((await chat(late, key.key)).status).toBe(503);
      await server.start();
      await refill();
      expect(await late.ready(10_000)).toBe(true);
      expect((await chat(late, key.key)).status).toBe(200);
    } finally {
      await late.close();
    }
  });

  it('with LIMITS_WHEN_REDIS_DOWN=closed: refuses limited requests while Redis is down', async () => {
    const closed = await bed.startGateway({ LIMITS_WHEN_REDIS_DOWN: 'closed' });
    const open = await bed.startGateway({ LIMITS_WHEN_REDIS_DOWN: 'open' });
    const key = await bed.addKey({ keyLimits: { rpm: 1 } });
    expect((await chat(closed, key.key)).status).toBe(200);
    expect((await chat(open, key.key)).status).toBe(429); // rpm 1, counted in Redis
    await server.stop();
    const refused = await chat(closed, key.key);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { type: string } }).error.type).toBe(
      'service_unavailable_error',
    );
    for (let i = 0; i < 3; i++) expect((await chat(open, key.key)).status).toBe(200);
  });
});

async function lookups(gateway: RunningGateway) {
  const metric = await gateway.metrics.keyLookups.get();
  const value = (result: string) =>
    metric.values.find((v) => v.labels.result === result)?.value ?? 0;
  return { hit: value('hit'), miss: value('miss'), negative_hit: value('negative_hit') };
}
