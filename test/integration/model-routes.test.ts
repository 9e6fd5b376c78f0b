// The model routes end to end: an operator as main.ts wires it (the model catalog refreshed
// from the LiteLLM test server, the routing sync publishing the routes), against a
// redis-server of this file's own, because the tests flush, stop and restart it. The gateway
// answers GET /v1/models from what is checked here. Every expectation polls.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingKeys } from '../../contracts/routing/redis-layout.ts';
import { ModelRoutes, parseRoutingJson } from '../../contracts/routing/schema.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import { startKeyOperator, type KeyOperator } from './support/key-operator.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

describe('model routes', () => {
  const run = suffix();
  const prefix = `test-${run}:`;
  const layout = routingKeys(prefix);
  let dir: string;
  let server: RedisServer;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let reader: Redis;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-model-routes-'));
    [server, litellm] = await Promise.all([
      startRedis({ dir }),
      start({ masterKey: 'sk-master-key-for-tests', models: ['granite-3-8b', 'nomic-embed'] }),
    ]);
    reader = new Redis(server.url, { retryStrategy: () => 50 });
    reader.on('error', () => {}); // while the test's Redis is down
    operator = await startKeyOperator({
      kc: kubeConfigFromInject(),
      litellm,
      redisUrl: server.url,
      prefix,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
    });
  });

  afterAll(async () => {
    await operator?.stop();
    reader?.disconnect();
    await Promise.all([litellm?.stop(), server?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const stored = async () => {
    const json = await reader.get(layout.models).catch(() => null);
    return json === null ? undefined : parseRoutingJson(ModelRoutes, json);
  };
  const meta = () => reader.hgetall(layout.meta);

  it('publishes every model LiteLLM serves, with provider and mode, once the catalog loaded', async () => {
    await expect.poll(stored, poll).toEqual({
      schemaVersion: 1,
      models: {
        'granite-3-8b': { provider: 'openai', mode: 'chat' },
        'nomic-embed': { provider: 'openai', mode: 'embedding' },
      },
    });
  });

  it("publishes LiteLLM's new models, and writes nothing while they stay the same", async () => {
    await expect.poll(stored, poll).toBeDefined();
    litellm.setModels(['granite-3-8b', 'nomic-embed', { model_name: 'phi-3', mode: 'completion' }]);
    await expect
      .poll(async () => (await stored())?.models['phi-3'], poll)
      .toEqual({ provider: 'openai', mode: 'completion' });

    litellm.setModels(['granite-3-8b']);
    await expect
      .poll(async () => Object.keys((await stored())?.models ?? {}), poll)
      .toEqual(['granite-3-8b']);

    // Several catalog refreshes (every second) and sync passes later: not a single write.
    const { revision } = await meta();
    const refreshes = () => litellm.calls.snapshot().calls['GET /model/info'] ?? 0;
    const before = refreshes();
    await expect.poll(refreshes, poll).toBeGreaterThanOrEqual(before + 2);
    expect((await meta()).revision).toBe(revision);
  });

  it('refills the models after Redis lost everything, under a new epoch', async () => {
    await expect.poll(stored, poll).toBeDefined();
    const routes = await stored();
    const { epoch } = await meta();
    await server.flush();
    await expect.poll(stored, poll).toEqual(routes);
    expect((await meta()).epoch).not.toBe(epoch);
  });

  it('publishes models that changed while Redis was down once it is back', async () => {
    await expect.poll(stored, poll).toBeDefined();
    await server.stop();
    litellm.setModels(['granite-3-8b', 'mistral-7b']);
    await expect
      .poll(() => operator.catalog.models(), poll)
      .toEqual(['granite-3-8b', 'mistral-7b']);

    await server.start(); // empty: the refill and the changed models both have to come
    await expect
      .poll(async () => Object.keys((await stored())?.models ?? {}).sort(), poll)
      .toEqual(['granite-3-8b', 'mistral-7b']);
  });
});
