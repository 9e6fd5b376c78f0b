// Gateways under test: a fake OpenAI upstream (test/fake-openai), the routing config published
// into a real Redis by the operator's own RoutingPublisher, and any number of gateway
// instances sharing that Redis, each logging into memory so tests can read every line.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type {
  KeyPolicy,
  RoutingLimits,
  SubscriptionLimits,
} from '../../../contracts/routing/schema.ts';
import { hashKey } from '../../../contracts/routing/key-hash.ts';
import { noAudit } from '../../../contracts/audit/audit-record.ts';
import { parseGatewayConfig } from '../../../gateway/src/config.ts';
import { createGatewayLogger } from '../../../gateway/src/observability/logger.ts';
import { startGateway, type RunningGateway } from '../../../gateway/src/server.ts';
import { RoutingPublisher } from '../../../operator/src/routing/routing-publisher.ts';
import { createRoutingRedis } from '../../../operator/src/routing/routing-redis.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../../fake-openai/server.ts';

export interface TestKey {
  key: string;
  policy: KeyPolicy;
}

export interface GatewayBed {
  upstream: FakeOpenAI;
  publisher: RoutingPublisher;
  prefix: string;
  redisUrl: string;
  gateways: RunningGateway[];
  /** Every log line of every gateway started here, as written. */
  logs: string[];
  startGateway(env?: Record<string, string>): Promise<RunningGateway>;
  /** Publishes a new key's policy and returns the key. */
  addKey(options?: KeyOptions): Promise<TestKey>;
  /** Publishes a changed policy of an existing key. */
  updateKey(key: TestKey, change: Partial<KeyPolicy>): Promise<TestKey>;
  removeKey(key: TestKey): Promise<void>;
  stop(): Promise<void>;
}

export interface KeyOptions {
  team?: string;
  models?: string[];
  keyLimits?: RoutingLimits;
  teamLimits?: RoutingLimits;
  subscriptionLimits?: Record<string, SubscriptionLimits>;
  expiresAt?: string;
  suspended?: boolean;
}

let unique = 0;

export async function startGatewayBed(redisUrl: string): Promise<GatewayBed> {
  const prefix = `gw-test-${process.pid}-${Date.now()}-${++unique}:`;
  const upstream = await startFakeOpenAI();
  const publisherRedis = createRoutingRedis(redisUrl, pino({ level: 'silent' }));
  await waitForReady(publisherRedis);
  const publisher = new RoutingPublisher({
    redis: publisherRedis,
    prefix,
    logger: pino({ level: 'silent' }),
  });
  await publisher.putModels({
    schemaVersion: 1,
    models: { 'fake-model': { provider: 'openai', mode: 'chat' } },
  });
  const gateways: RunningGateway[] = [];
  const logs: string[] = [];

  return {
    upstream,
    publisher,
    prefix,
    redisUrl,
    gateways,
    logs,
    async startGateway(env = {}) {
      const gateway = await startTestGateway(
        { LITELLM_URL: upstream.url, REDIS_URL: redisUrl, ROUTING_PREFIX: prefix, ...env },
        logs,
      );
      gateways.push(gateway);
      if (!(await gateway.ready(10_000))) throw new Error('the gateway did not become ready');
      return gateway;
    },
    async addKey(options = {}) {
      const key = `sk-${randomBytes(24).toString('base64url')}`;
      const policy: KeyPolicy = {
        schemaVersion: 1,
        keyHash: hashKey(key),
        owner: { namespace: 'team-a', name: `key-${++unique}`, uid: `uid-${unique}` },
        team: options.team ?? 'team-a',
        models: options.models ?? ['fake-model'],
        limits: {
          ...(options.keyLimits ? { key: options.keyLimits } : {}),
          ...(options.teamLimits ? { team: options.teamLimits } : {}),
          subscriptions: options.subscriptionLimits ?? {},
        },
        ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
        suspended: options.suspended ?? false,
      };
      await publisher.putKey(policy);
      return { key, policy };
    },
    async updateKey(key, change) {
      const policy = { ...key.policy, ...change };
      await publisher.putKey(policy);
      return { key: key.key, policy };
    },
    async removeKey(key) {
      await publisher.removeKey(key.policy.keyHash);
    },
    async stop() {
      await Promise.allSettled(gateways.map((g) => g.close()));
      await upstream.stop();
      publisherRedis.disconnect();
    },
  };
}

/**
 * A gateway on free loopback ports with test settings (`env` adds to or overrides them; a
 * LITELLM_URL ending in /v1 is taken as the OpenAI base the fake upstream reports). It logs
 * into `logs` when given, else nowhere. Not waited for: see RunningGateway.ready.
 */
export async function startTestGateway(
  env: Record<string, string>,
  logs?: string[],
): Promise<RunningGateway> {
  const config = parseGatewayConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    MANAGEMENT_PORT: '0',
    LOG_LEVEL: logs ? 'debug' : 'silent',
    SHUTDOWN_GRACE: '5s',
    ...env,
    LITELLM_URL: env.LITELLM_URL?.replace(/\/v1$/, ''),
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs?.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return startGateway(config, {
    logger: createGatewayLogger(config.logLevel, sink),
    defaultMetrics: false,
    routingCheckIntervalMs: 100,
    audit: noAudit,
  });
}

async function waitForReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    setTimeout(() => reject(new Error('Redis did not become ready')), 10_000).unref();
  });
}

/** A chat request through `gateway` with `key`. */
export function chat(
  gateway: RunningGateway,
  key: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    ...(signal ? { signal } : {}),
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'hello there' }],
      ...body,
    }),
  });
}
