// The routing publisher against a real redis-server: what a put, a remove, the models and a
// prune leave in Redis and announce on the channel; that a repeated put sends nothing at all
// (seen from the server's side, with MONITOR); that a Redis which lost the config (FLUSHALL,
// a restart without persistence, another publisher's full publish) gets it back; and that a
// stopped Redis makes writes fail fast with RoutingUnavailableError.
//
// Tests on the shared Redis use a prefix of their own; the ones that flush, restart or stop
// Redis use a server of their own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { API_VERSION, type VirtualKey } from '../../crds/api/index.ts';
import { routingKeys } from '../../contracts/routing/redis-layout.ts';
import { RoutingChange, type KeyPolicy } from '../../contracts/routing/schema.ts';
import { hashKey } from '../../operator/src/litellm/hash.ts';
import { RoutingUnavailableError } from '../../operator/src/routing/routing-errors.ts';
import { RoutingPublisher } from '../../operator/src/routing/routing-publisher.ts';
import { createRoutingRedis } from '../../operator/src/routing/routing-redis.ts';
import { routingSync } from '../../operator/src/routing/routing-sync.ts';
import { Manager } from '../../operator/src/runtime/manager.ts';
import { SingletonLoop } from '../../operator/src/runtime/singleton-loop.ts';
import { aVirtualKey } from '../fixtures/builders.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const poll = { timeout: 10_000, interval: 20 };
let unique = 0;
const uniquePrefix = () => `routing-test-${process.pid}-${Date.now()}-${++unique}:`;

function policy(name: string, overrides: Partial<KeyPolicy> = {}): KeyPolicy {
  return {
    schemaVersion: 1,
    keyHash: hashKey(`sk-${name}-${unique}`),
    owner: { namespace: 'ml', name, uid: `uid-${name}` },
    team: 'ml-research',
    models: ['granite-3-8b'],
    limits: { key: { rpm: 60 }, subscriptions: {} },
    suspended: false,
    ...overrides,
  };
}

/** The RoutingChange messages on a channel, in order; each must parse as one. */
class ChangeListener {
  readonly received: RoutingChange[] = [];
  readonly #client: Redis;
  #read = 0;

  private constructor(client: Redis) {
    this.#client = client;
  }

  static async on(url: string, channel: string): Promise<ChangeListener> {
    const client = new Redis(url, { retryStrategy: () => 50 });
    client.on('error', () => {}); // while a test's Redis is down
    const listener = new ChangeListener(client);
    client.on('message', (from: string, text: string) => {
      if (from === channel) listener.received.push(RoutingChange.parse(JSON.parse(text)));
    });
    await client.subscribe(channel);
    return listener;
  }

  /** The next message not yet read (waits for it). */
  async next(): Promise<RoutingChange> {
    await expect.poll(() => this.received.length, poll).toBeGreaterThan(this.#read);
    return this.received[this.#read++]!;
  }

  close(): void {
    this.#client.disconnect();
  }
}

/** Resolves once the client is connected (errors while reconnecting are expected). */
async function ready(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

/** Everything one publisher needs, torn down by close(). */
async function setUp(url: string, prefix = uniquePrefix(), knowsEveryKey?: () => boolean) {
  const redis = createRoutingRedis(url, logger, { maxReconnectDelayMs: 200 });
  const registry = new Registry();
  const publisher = new RoutingPublisher({ redis, prefix, logger, registry, knowsEveryKey });
  const layout = routingKeys(prefix);
  const reader = new Redis(url, { retryStrategy: () => 50 });
  reader.on('error', () => {});
  const changes = await ChangeListener.on(url, layout.channel);
  await ready(redis);
  return {
    redis,
    registry,
    publisher,
    layout,
    reader,
    changes,
    prefix,
    async close() {
      changes.close();
      await reader.del(layout.keys, layout.meta, layout.models).catch(() => {});
      reader.disconnect();
      redis.disconnect();
    },
  };
}
type Setup = Awaited<ReturnType<typeof setUp>>;

describe('RoutingPublisher on the shared Redis', () => {
  let t: Setup;
  beforeAll(async () => {
    t = await setUp(inject('redisUrl'));
  });
  afterAll(() => t?.close());

  it('writes a put as the record, the meta and one announced change', async () => {
    const chatbot = policy('chatbot');
    await t.publisher.putKey(chatbot);

    const stored = await t.reader.hget(t.layout.keys, chatbot.keyHash);
    expect(JSON.parse(stored!)).toEqual(chatbot);
    const meta = await t.reader.hgetall(t.layout.meta);
    expect(meta).toMatchObject({ schemaVersion: '1', epoch: t.publisher.epoch });
    expect(Date.parse(meta.updatedAt!)).not.toBeNaN();

    // The first change on an empty Redis publishes the (empty) config first, then the put.
    const full = await t.changes.next();
    expect(full).toMatchObject({ full: true, epoch: t.publisher.epoch });
    const put = await t.changes.next();
    expect(put).toEqual({
      revision: full.revision + 1,
      epoch: t.publisher.epoch,
      keys: [chatbot.keyHash],
    });
    expect(Number(meta.revision)).toBe(put.revision);
    expect(t.publisher.revision).toBe(put.revision);
  });

  it('sends not a single command for a put equal to the last one, and does for a change', async () => {
    const batch = policy('batch');
    await t.publisher.putKey(batch);
    const before = await t.changes.next();

    // Every command the publisher's connection sends, as the server sees it (MONITOR),
    // between two markers the test sends on that same connection.
    const address = /\baddr=(\S+)/.exec(String(await t.redis.client('INFO')))![1];
    const monitor = await t.reader.monitor();
    const seen: { args: string[]; source: string }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) =>
      seen.push({ args, source }),
    );
    const between = async (action: () => Promise<void>) => {
      const id = `${Date.now()}-${Math.random()}`;
      const marker = (name: string) => seen.findIndex((c) => c.args[1] === `${name}-${id}`);
      await t.redis.echo(`start-${id}`);
      await action();
      await t.redis.echo(`end-${id}`);
      await expect.poll(() => marker('end'), poll).toBeGreaterThan(0);
      expect(marker('start')).toBeGreaterThanOrEqual(0);
      return seen
        .slice(marker('start') + 1, marker('end'))
        .filter((c) => c.source === address)
        .map((c) => c.args[0]!.toLowerCase());
    };
    try {
      expect(await between(() => t.publisher.putKey(structuredClone(batch)))).toEqual([]);
      expect(await between(() => t.publisher.putKey({ ...batch, suspended: true }))).toEqual([
        'evalsha',
      ]);
    } finally {
      monitor.disconnect();
    }
    expect(await metric(t.registry, 'llmtenancy_routing_skipped_total', { op: 'put_key' })).toBe(1);
    // Only the change was announced.
    expect(await t.changes.next()).toEqual({
      revision: before.revision + 1,
      epoch: t.publisher.epoch,
      keys: [batch.keyHash],
    });
    expect(JSON.parse((await t.reader.hget(t.layout.keys, batch.keyHash))!).suspended).toBe(true);
  });

  it('removes a key, announces it once, and forgets it', async () => {
    const gone = policy('gone');
    await t.publisher.putKey(gone);
    const put = await t.changes.next();
    const count = t.publisher.recordCount;

    await t.publisher.removeKey(gone.keyHash);
    expect(await t.reader.hexists(t.layout.keys, gone.keyHash)).toBe(0);
    expect(await t.changes.next()).toEqual({
      revision: put.revision + 1,
      epoch: t.publisher.epoch,
      keys: [gone.keyHash],
    });
    expect(t.publisher.recordCount).toBe(count - 1);

    // Again: nothing to remove, so no revision and no message; the next message is the put.
    await t.publisher.removeKey(gone.keyHash);
    await t.publisher.putKey(gone);
    expect(await t.changes.next()).toEqual({
      revision: put.revision + 2,
      epoch: t.publisher.epoch,
      keys: [gone.keyHash],
    });
  });

  it('writes the model routes and announces them; the same routes again send nothing', async () => {
    const routes = {
      schemaVersion: 1 as const,
      models: { 'granite-3-8b': { provider: 'hosted_vllm', mode: 'chat' } },
    };
    await t.publisher.putModels(routes);
    expect(JSON.parse((await t.reader.get(t.layout.models))!)).toEqual(routes);
    const change = await t.changes.next();
    expect(change).toMatchObject({ models: true, epoch: t.publisher.epoch });
    expect(change.keys).toBeUndefined();

    await t.publisher.putModels(structuredClone(routes));
    expect(await metric(t.registry, 'llmtenancy_routing_skipped_total', { op: 'put_models' })).toBe(
      1,
    );
    await t.publisher.putModels({ ...routes, models: {} });
    expect(await t.changes.next()).toMatchObject({
      revision: change.revision + 1,
      models: true,
    });
    expect(await metric(t.registry, 'llmtenancy_routing_writes_total', { op: 'put_models' })).toBe(
      2,
    );
  });
});

describe('prune', () => {
  let t: Setup;
  beforeAll(async () => {
    t = await setUp(inject('redisUrl'));
  });
  afterAll(() => t?.close());

  it('removes records whose owner is not live and records of another shape, in one change', async () => {
    const live = policy('live');
    const deleted = policy('deleted');
    const recreated = policy('recreated');
    for (const p of [live, deleted, recreated]) await t.publisher.putKey(p);
    expect(await t.changes.next()).toMatchObject({ full: true }); // the first write's
    // Records some other writer left: an older shape, a newer schemaVersion, and a field that
    // is not a key hash at all.
    const oldShape = hashKey(`sk-old-${unique}`);
    const newer = policy('newer');
    await t.reader.hset(
      t.layout.keys,
      oldShape,
      JSON.stringify({ hash: oldShape, models: ['granite-3-8b'] }),
      newer.keyHash,
      JSON.stringify({ ...newer, schemaVersion: 2 }),
      'not-a-hash',
      '{}',
    );
    await t.changes.next();
    await t.changes.next();
    const lastPut = await t.changes.next();
    expect(t.publisher.recordCount).toBe(3);

    // `recreated` exists again under its name, but as another object (another uid).
    const liveOwners = new Set([`${live.owner.name}/${live.owner.uid}`, 'recreated/uid-new']);
    const asked: string[] = [];
    const removed = await t.publisher.prune((p) => {
      asked.push(p.owner.name);
      return liveOwners.has(`${p.owner.name}/${p.owner.uid}`);
    });

    expect(removed).toBe(5);
    expect(asked.sort()).toEqual(['deleted', 'live', 'recreated']);
    expect(await t.reader.hkeys(t.layout.keys)).toEqual([live.keyHash]);
    const change = await t.changes.next();
    expect(change.revision).toBe(lastPut.revision + 1);
    // Announced: every removed key hash; the field that is not one is removed silently.
    expect(change.keys?.sort()).toEqual(
      [deleted.keyHash, recreated.keyHash, oldShape, newer.keyHash].sort(),
    );
    expect(t.publisher.recordCount).toBe(1);
    expect(await metric(t.registry, 'llmtenancy_routing_records')).toBe(1);

    // Nothing left to prune: no change, no message.
    expect(await t.publisher.prune(() => true)).toBe(0);
    // Pruned records are forgotten: putting one again writes it again.
    await t.publisher.putKey(deleted);
    expect(await t.changes.next()).toMatchObject({
      revision: change.revision + 1,
      keys: [deleted.keyHash],
    });
  });

  it('keeps a record rewritten while the prune was scanning', async () => {
    const racing = policy('racing');
    await t.publisher.putKey(racing);
    // The reconciler writes the record again while prune judges the old version: its put
    // is queued before prune's delete, so prune finds a different record and leaves it.
    let rewrite: Promise<void> | undefined;
    const removed = await t.publisher.prune((p) => {
      if (p.keyHash === racing.keyHash) rewrite = t.publisher.putKey({ ...p, suspended: true });
      return p.keyHash !== racing.keyHash;
    });
    await rewrite;
    expect(removed).toBe(0);
    expect(JSON.parse((await t.reader.hget(t.layout.keys, racing.keyHash))!)).toMatchObject({
      suspended: true,
    });
    expect(t.publisher.recordCount).toBe(3);
  });
});

describe('another publisher on the same prefix', () => {
  let a: Setup;
  let b: RoutingPublisher;
  let bRedis: Redis;
  let first: KeyPolicy;
  beforeAll(async () => {
    a = await setUp(inject('redisUrl'));
    bRedis = createRoutingRedis(inject('redisUrl'), logger);
    b = new RoutingPublisher({ redis: bRedis, prefix: a.prefix, logger });
    await ready(bRedis);
  });
  afterAll(async () => {
    bRedis?.disconnect();
    await a?.close();
  });

  it('adopts the config it finds, and continues its revisions', async () => {
    first = policy('first');
    await a.publisher.putKey(first);
    expect(await b.ensurePublished()).toBe(false);
    expect(b.epoch).toBe(a.publisher.epoch);
    const second = policy('second');
    await b.putKey(second);
    expect(await a.reader.hkeys(a.layout.keys)).toEqual(
      expect.arrayContaining([first.keyHash, second.keyHash]),
    );
    expect(b.revision).toBe(a.publisher.revision + 1);
  });

  it("writes back its records when another publisher's full publish dropped them", async () => {
    // b refills a Redis that lost its meta from its own memory (second only)...
    await a.reader.del(a.layout.meta);
    expect(await b.ensurePublished()).toBe(true);
    expect(b.epoch).not.toBe(a.publisher.epoch);
    expect(await a.reader.hexists(a.layout.keys, first.keyHash)).toBe(0);
    // ...and a, seeing the new epoch, restores what it wrote.
    expect(await a.publisher.ensurePublished()).toBe(true);
    expect(a.publisher.epoch).toBe(b.epoch);
    expect(await a.reader.hexists(a.layout.keys, first.keyHash)).toBe(1);
    expect(await a.publisher.ensurePublished()).toBe(false);
    expect(
      await metric(a.registry, 'llmtenancy_routing_republish_total', { reason: 'epoch_changed' }),
    ).toBe(1);
  });
});

describe('routingSync in the Manager', () => {
  // A Redis of its own (restarted below) and the VirtualKeys of a namespace of its own.
  let dir: string;
  let server: RedisServer;
  let manager: Manager;
  let t: Setup;
  let namespace: string;
  let kept: KeyPolicy;
  let orphan: KeyPolicy;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-routing-sync-'));
    server = await startRedis({ dir });
    t = await setUp(server.url);
    const kc = kubeConfigFromInject();
    namespace = await uniqueNamespace('routing-sync', kc);
    const labels = { 'llm-tenancy.dev/test-run': namespace };
    const created = (await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'llmtenancy.dev',
      version: 'v1alpha1',
      plural: 'virtualkeys',
      namespace,
      body: aVirtualKey('kept').inNamespace(namespace).with('metadata.labels', labels).build(),
    })) as VirtualKey;
    kept = policy('kept', { owner: { namespace, name: 'kept', uid: created.metadata.uid! } });
    orphan = policy('ghost', { owner: { namespace, name: 'ghost', uid: 'uid-ghost' } });
    await t.publisher.putKey(kept);
    await t.publisher.putKey(orphan);

    manager = new Manager({
      kubeConfig: kc,
      leaderElection: false,
      healthPort: false,
      handleSignals: false,
      logger,
    });
    const virtualKeys = manager.informers.informerFor<VirtualKey>({
      apiVersion: API_VERSION,
      kind: 'VirtualKey',
      labelSelector: `llm-tenancy.dev/test-run=${namespace}`,
    }).store;
    // Intervals far beyond the test's polls: only the first pass and `ready` can act in time.
    const sync = routingSync({
      informers: manager.informers,
      publisher: t.publisher,
      redis: t.redis,
      virtualKeys,
      checkIntervalMs: 600_000,
      pruneIntervalMs: 600_000,
    });
    manager.add(new SingletonLoop(manager, sync), { leaderOnly: true });
    manager.start().catch(() => {});
  });
  afterAll(async () => {
    await manager?.stop();
    await t?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prunes records whose VirtualKey does not exist once the cache has synced', async () => {
    await expect.poll(() => t.reader.hexists(t.layout.keys, orphan.keyHash), poll).toBe(0);
    expect(await t.reader.hexists(t.layout.keys, kept.keyHash)).toBe(1);
    expect(t.publisher.recordCount).toBe(1);
  });

  it('refills a restarted Redis as soon as the client is ready again', async () => {
    await expect.poll(() => t.publisher.recordCount, poll).toBe(1);
    const epoch = t.publisher.epoch;
    await server.restart();
    const stored = async () => {
      const json = await t.reader.hget(t.layout.keys, kept.keyHash);
      return json === null ? null : (JSON.parse(json) as unknown);
    };
    await expect.poll(stored, poll).toEqual(kept);
    expect(await t.reader.hexists(t.layout.keys, orphan.keyHash)).toBe(0);
    expect(t.publisher.epoch).not.toBe(epoch);
  });
});

describe('a Redis that loses everything', () => {
  // A server of its own: flushing, restarting or stopping the shared one would disturb other
  // test files.
  let dir: string;
  let server: RedisServer;
  let t: Setup | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-routing-redis-'));
    server = await startRedis({ dir });
  });
  afterEach(async () => {
    await server.start(); // after the test that stops it
    await t?.close();
    t = undefined;
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const models = { schemaVersion: 1 as const, models: { 'granite-3-8b': { mode: 'chat' } } };

  /** A publisher with three records and the models written. */
  async function published() {
    t = await setUp(server.url);
    const policies = [policy('one'), policy('two'), policy('three')];
    for (const p of policies) await t.publisher.putKey(p);
    await t.publisher.putModels(models);
    expect(await t.publisher.ensurePublished()).toBe(false);
    return { t, policies, revision: t.publisher.revision, epoch: t.publisher.epoch };
  }

  async function expectEverythingBack(s: Setup, policies: KeyPolicy[]) {
    const stored = await s.reader.hgetall(s.layout.keys);
    expect(Object.keys(stored).sort()).toEqual(policies.map((p) => p.keyHash).sort());
    for (const p of policies) expect(JSON.parse(stored[p.keyHash]!)).toEqual(p);
    expect(JSON.parse((await s.reader.get(s.layout.models))!)).toEqual(models);
  }

  it('republishes everything after FLUSHALL, announced as full, under a new epoch', async () => {
    const { t, policies, revision, epoch } = await published();
    await server.flush();

    expect(await t.publisher.ensurePublished()).toBe(true);
    await expectEverythingBack(t, policies);
    const meta = await t.reader.hgetall(t.layout.meta);
    expect(meta.epoch).not.toBe(epoch);
    expect(Number(meta.revision)).toBe(revision + 1);
    await expect
      .poll(() => t.changes.received.find((c) => c.epoch === meta.epoch), poll)
      .toEqual({ revision: revision + 1, epoch: meta.epoch, full: true });
    expect(await t.publisher.ensurePublished()).toBe(false);
    expect(
      await metric(t.registry, 'llmtenancy_routing_republish_total', { reason: 'missing' }),
    ).toBe(2); // the first put's, and this one
  });

  it('restores everything before a put that finds the config lost', async () => {
    const { t, policies } = await published();
    await server.flush();
    const four = policy('four');
    await t.publisher.putKey(four);
    await expectEverythingBack(t, [...policies, four]);
  });

  it('restores everything after a restart without persistence', async () => {
    const { t, policies, revision } = await published();
    await server.restart();
    expect(await t.reader.exists(t.layout.keys, t.layout.meta)).toBe(0);
    await ready(t.redis);

    expect(await t.publisher.ensurePublished()).toBe(true);
    await expectEverythingBack(t, policies);
    // The subscriber reconnected and resubscribed: it hears the full publish.
    await expect
      .poll(() => t.changes.received.find((c) => c.full && c.revision === revision + 1), poll)
      .toBeDefined();
  });

  it('marks a refill incomplete until it knows every key, then marks it complete (announced both times)', async () => {
    // A publisher just started after the flush: it has heard of one key of several.
    let knowsEveryKey = false;
    t = await setUp(server.url, uniquePrefix(), () => knowsEveryKey);
    const one = policy('one');
    await t.publisher.putKey(one);
    const meta = await t.reader.hgetall(t.layout.meta);
    expect(meta.incomplete).toBe('1');
    expect(Object.keys(await t.reader.hgetall(t.layout.keys))).toEqual([one.keyHash]);
    expect(await t.changes.next()).toEqual({
      revision: 1,
      epoch: meta.epoch,
      full: true,
      incomplete: true,
    });
    expect(await t.changes.next()).toMatchObject({ keys: [one.keyHash] });
    // Still not knowing every key: the mark stays, whatever is put or checked.
    await t.publisher.putKey(policy('two'));
    await t.changes.next();
    expect(await t.publisher.ensurePublished()).toBe(false);
    expect((await t.reader.hgetall(t.layout.meta)).incomplete).toBe('1');
    expect(await metric(t.registry, 'llmtenancy_routing_keys_known')).toBe(0);

    knowsEveryKey = true;
    expect(await t.publisher.ensurePublished()).toBe(true);
    const after = await t.reader.hgetall(t.layout.meta);
    expect(after.incomplete).toBeUndefined();
    expect(after.epoch).toBe(meta.epoch);
    expect(await t.changes.next()).toEqual({
      revision: Number(after.revision),
      epoch: meta.epoch,
      complete: true,
    });
    expect(await t.publisher.ensurePublished()).toBe(false);
    expect(await metric(t.registry, 'llmtenancy_routing_keys_known')).toBe(1);

    // Knowing every key, a later flush is refilled complete.
    await server.flush();
    expect(await t.publisher.ensurePublished()).toBe(true);
    expect((await t.reader.hgetall(t.layout.meta)).incomplete).toBeUndefined();
  });

  it('fails fast with RoutingUnavailableError while Redis is down, and recovers', async () => {
    const { t, policies } = await published();
    await server.stop();

    const late = policy('late');
    await expect(t.publisher.putKey(late)).rejects.toBeInstanceOf(RoutingUnavailableError);
    await expect(t.publisher.putKey(late)).rejects.toThrow(/Redis is unreachable/);
    await expect(t.publisher.removeKey(policies[0]!.keyHash)).rejects.toBeInstanceOf(
      RoutingUnavailableError,
    );
    await expect(t.publisher.ensurePublished()).rejects.toBeInstanceOf(RoutingUnavailableError);
    expect(
      await metric(t.registry, 'llmtenancy_routing_write_errors_total', { op: 'put_key' }),
    ).toBe(2);
    // Nothing failed is remembered as written.
    expect(t.publisher.recordCount).toBe(3);

    await server.start();
    await ready(t.redis);
    expect(await t.publisher.ensurePublished()).toBe(true);
    await expectEverythingBack(t, policies);
    await t.publisher.putKey(late);
    expect(await t.reader.hexists(t.layout.keys, late.keyHash)).toBe(1);
  }, 20_000);
});
