// The VirtualKey controller end to end: the real API server, the LiteLLM-compatible test
// server, the real Redis, and an operator running the Team, ModelSubscription and VirtualKey
// controllers with the routing sync. It covers the three LiteMaaS seed bugs as regressions
// (a key made before its user and team exist; a key reaching unsubscribed models; a half-made
// key after a crash) and the key's life: approve / revoke, membership, rotation, expiry,
// suspend, a spent budget, delete, a lost Secret, a flushed Redis. Every expectation polls;
// nothing asserts on time.
import type { KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NO_MODELS } from '../../operator/src/controllers/team/litellm-team.ts';
import { moneyFromNumber } from '../../operator/src/controllers/shared/money.ts';
import { rotationRequestTime } from '../../cli/commands/key-rotate.ts';
import { hashKey } from '../../operator/src/litellm/hash.ts';
import { KubeTransport } from '../../contracts/kube/kube-transport.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  condition,
  GATEWAY_URL,
  KeyObjects,
  litellmKeysOf,
  routingRecord,
  secretKey,
  ShiftedClock,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

const MODELS = ['granite-3-8b', 'llama-3-8b', 'mistral-7b'];

describe('VirtualKey controller', () => {
  const run = suffix();
  const prefix = `test-${run}:`;
  const clock = new ShiftedClock();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;
  let redis: Redis;
  const n = (name: string) => `${name}-${run}`;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-key-for-tests', models: MODELS });
    redis = new Redis(inject('redisUrl'));
    objects = new KeyObjects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 1_500,
      clock,
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
    redis?.disconnect();
  });

  /** A namespace owned by a Team allowing `allowed`, with Active subscriptions to `subscribed`. */
  async function tenant(
    name: string,
    options: {
      allowed?: string[];
      subscribed?: string[];
      members?: string[];
      limits?: Record<string, unknown>;
    } = {},
  ): Promise<string> {
    const namespace = n(name);
    await objects.namespace(namespace);
    await objects.teams.create(namespace, {
      namespaces: [namespace],
      models: options.allowed ?? ['*'],
      members: (options.members ?? []).map((user) => ({ user })),
      ...(options.limits ? { limits: options.limits } : {}),
    });
    for (const model of options.subscribed ?? []) {
      await objects.subscription(namespace, model, { model });
    }
    await expect
      .poll(async () => (await objects.teams.get(namespace))?.status?.models ?? [], poll)
      .toEqual([...(options.subscribed ?? [])].sort());
    return namespace;
  }

  async function readyKey(namespace: string, name: string, dataKey = 'OPENAI_API_KEY') {
    await expect
      .poll(async () => condition(await objects.getKey(namespace, name)), poll)
      .toBe('True/KeyReady');
    const key = (await objects.getKey(namespace, name))!;
    const value = secretKey(await objects.secret(namespace, key.status!.secretName!), dataKey);
    return { key, value, hash: hashKey(value) };
  }

  /** A chat completion through LiteLLM with `apiKey`: LiteLLM books its cost on the key and team. */
  const chat = (apiKey: string) =>
    fetch(`${litellm.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'granite-3-8b',
        messages: [{ role: 'user', content: 'hello' }],
      }),
    }).then(async (response) => ({
      status: response.status,
      type: response.ok
        ? undefined
        : ((await response.json()) as { error?: { type?: string } }).error?.type,
    }));
  const budgetOf = async (hash: string) =>
    (await routingRecord(redis, prefix, hash))?.budgetExceeded;

  // ---- the seed bugs -------------------------------------------------------------------

  it('never makes a key before its Team exists in LiteLLM (seed bug 1)', async () => {
    const namespace = n('early');
    await objects.namespace(namespace);
    await objects.key(namespace, 'app', {});
    await expect
      .poll(async () => condition(await objects.getKey(namespace, 'app')), poll)
      .toBe('False/NoTeam');
    expect(await objects.secret(namespace, 'app')).toBeUndefined();
    expect(litellmKeysOf(litellm, namespace, 'app')).toHaveLength(0);

    await objects.teams.create(namespace, { namespaces: [namespace], models: ['*'] });
    await objects.subscription(namespace, 'granite', { model: 'granite-3-8b' });
    const { hash } = await readyKey(namespace, 'app');
    const [registered] = litellmKeysOf(litellm, namespace, 'app');
    expect(registered?.token).toBe(hash);
    expect(registered?.team_id).toBe(namespace);
    expect(litellm.store.teams.get(namespace)?.models).toContain('granite-3-8b');
  });

  it('never makes a personal key before its User is Ready and a member (seed bug 1)', async () => {
    const alice = n('alice');
    const namespace = await tenant('personal', { subscribed: ['granite-3-8b'] });
    await objects.key(namespace, 'alice-key', { user: alice });
    await expect
      .poll(async () => condition(await objects.getKey(namespace, 'alice-key')), poll)
      .toBe('False/UserNotFound');
    await objects.readyUser(alice);
    await expect
      .poll(async () => condition(await objects.getKey(namespace, 'alice-key')), poll)
      .toBe('False/UserNotMember');
    expect(await objects.secret(namespace, 'alice-key')).toBeUndefined();
    expect(litellmKeysOf(litellm, namespace, 'alice-key')).toHaveLength(0);

    await objects.teams.patch(namespace, { spec: { members: [{ user: alice }] } });
    const { hash } = await readyKey(namespace, 'alice-key');
    const [registered] = litellmKeysOf(litellm, namespace, 'alice-key');
    expect(registered?.token).toBe(hash);
    expect(registered?.user_id).toBe(alice);
    const members = litellm.store.teams.get(namespace)?.members_with_roles.map((m) => m.user_id);
    expect(members).toContain(alice);
  });

  it('gives a key only models its team subscribed to, never all (seed bug 2)', async () => {
    const namespace = await tenant('models', { subscribed: ['granite-3-8b'] });
    // Requested models without subscriptions: by default the key waits for all of them.
    await objects.key(namespace, 'strict', { models: ['granite-3-8b', 'llama-3-8b'] });
    await expect
      .poll(async () => condition(await objects.getKey(namespace, 'strict')), poll)
      .toBe('False/ModelsNotSubscribed');
    const strict = (await objects.getKey(namespace, 'strict'))!;
    expect(strict.status?.missingModels).toEqual(['llama-3-8b']);
    expect(condition(strict, 'ModelsAvailable')).toBe('False/ModelsNotSubscribed');
    expect(litellmKeysOf(litellm, namespace, 'strict')).toHaveLength(0);

    // requireAllModels: false makes it for the subscribed subset and names the rest.
    await objects.key(namespace, 'subset', {
      models: ['granite-3-8b', 'llama-3-8b'],
      requireAllModels: false,
    });
    await expect
      .poll(async () => (await objects.getKey(namespace, 'subset'))?.status?.models, poll)
      .toEqual(['granite-3-8b']);
    const subset = (await objects.getKey(namespace, 'subset'))!;
    expect(subset.status?.missingModels).toEqual(['llama-3-8b']);
    expect(condition(subset, 'ModelsAvailable')).toBe('False/ModelsNotSubscribed');
    const [subsetKey] = litellmKeysOf(litellm, namespace, 'subset');
    expect(subsetKey?.models).toEqual(['granite-3-8b']);
    expect((await routingRecord(redis, prefix, subsetKey!.token))?.models).toEqual([
      'granite-3-8b',
    ]);

    // No models listed: every subscribed model, which is not "all models".
    await objects.key(namespace, 'all', {});
    const { hash } = await readyKey(namespace, 'all');
    expect(litellm.store.keys.get(hash)?.models).toEqual(['granite-3-8b']);
  });

  it('leaves exactly one key when LiteLLM fails after the Secret was written (seed bug 3)', async () => {
    const namespace = await tenant('crash', { subscribed: ['granite-3-8b'] });
    litellm.faults.add({ route: '/key/generate', status: 503, times: 3 });
    await objects.key(namespace, 'app', {});
    const { hash } = await readyKey(namespace, 'app');
    const keys = litellmKeysOf(litellm, namespace, 'app');
    expect(keys.map((k) => k.token)).toEqual([hash]);
  });

  it('leaves exactly one key when the operator dies between the Secret and LiteLLM (seed bug 3)', async () => {
    const namespace = await tenant('kill', { subscribed: ['granite-3-8b'] });
    const hang = litellm.faults.add({ route: '/key/generate', hang: true });
    await objects.key(namespace, 'app', {});
    await expect.poll(() => objects.secret(namespace, 'app'), poll).toBeDefined();
    const written = secretKey(await objects.secret(namespace, 'app'));
    await operator.stop(); // mid-registration: the generate call hangs
    litellm.faults.clear(hang.id);
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 1_500,
      clock,
    });
    const { value, hash } = await readyKey(namespace, 'app');
    expect(value).toBe(written);
    expect(litellmKeysOf(litellm, namespace, 'app').map((k) => k.token)).toEqual([hash]);
  });

  // ---- access follows subscriptions and membership -------------------------------------

  it('removes a revoked subscription from the key in LiteLLM and the gateway, and adds it back', async () => {
    const namespace = await tenant('revoke', { subscribed: ['granite-3-8b', 'llama-3-8b'] });
    await objects.key(namespace, 'app', { requireAllModels: false });
    const { hash } = await readyKey(namespace, 'app');
    expect(litellm.store.keys.get(hash)?.models).toEqual(['granite-3-8b', 'llama-3-8b']);

    await objects.deleteSubscription(namespace, 'llama-3-8b');
    await expect.poll(() => litellm.store.keys.get(hash)?.models, poll).toEqual(['granite-3-8b']);
    await expect
      .poll(async () => (await routingRecord(redis, prefix, hash))?.models, poll)
      .toEqual(['granite-3-8b']);

    await objects.deleteSubscription(namespace, 'granite-3-8b');
    await expect.poll(() => litellm.store.keys.get(hash)?.models, poll).toEqual([NO_MODELS]);
    await expect
      .poll(async () => (await routingRecord(redis, prefix, hash))?.models, poll)
      .toEqual([]);

    await objects.subscription(namespace, 'granite-3-8b', { model: 'granite-3-8b' });
    await expect.poll(() => litellm.store.keys.get(hash)?.models, poll).toEqual(['granite-3-8b']);
  });

  it('refuses a key whose user left the team, everywhere', async () => {
    const bob = n('bob');
    await objects.readyUser(bob);
    const namespace = await tenant('leaver', { subscribed: ['granite-3-8b'], members: [bob] });
    await objects.key(namespace, 'bob-key', { user: bob });
    const { hash } = await readyKey(namespace, 'bob-key');

    await objects.teams.patch(namespace, { spec: { members: null } });
    await expect
      .poll(async () => condition(await objects.getKey(namespace, 'bob-key')), poll)
      .toBe('False/UserNotMember');
    // LiteLLM deletes a removed member's keys; the gateway record says why the key is refused.
    await expect.poll(() => litellm.store.keys.get(hash), poll).toBeUndefined();
    const record = await routingRecord(redis, prefix, hash);
    expect(record?.suspended).toBe(true);
    expect(record?.suspendedReason).toBe('UserNotMember');
  });

  // ---- the key's life ------------------------------------------------------------------

  it('suspends and resumes a key in LiteLLM and the gateway', async () => {
    const namespace = await tenant('suspend', { subscribed: ['granite-3-8b'] });
    await objects.key(namespace, 'app', {});
    const { hash } = await readyKey(namespace, 'app');
    await objects.patchKey(namespace, 'app', { spec: { suspended: true } });
    await expect.poll(() => litellm.store.keys.get(hash)?.blocked, poll).toBe(true);
    await expect
      .poll(async () => (await routingRecord(redis, prefix, hash))?.suspended, poll)
      .toBe(true);
    expect(condition(await objects.getKey(namespace, 'app'))).toBe('False/Suspended');
    await objects.patchKey(namespace, 'app', { spec: { suspended: false } });
    await expect.poll(() => litellm.store.keys.get(hash)?.blocked ?? false, poll).toBe(false);
    await readyKey(namespace, 'app');
  });

  it("tells the gateway a key spent its budget, and that it works again once it's raised", async () => {
    const namespace = await tenant('key-budget', { subscribed: ['granite-3-8b'] });
    await objects.key(namespace, 'app', { limits: { maxBudget: '0.000001' } });
    const { value, hash } = await readyKey(namespace, 'app');
    expect(await budgetOf(hash)).toBeUndefined();
    await expect
      .poll(async () => condition(await objects.getKey(namespace, 'app'), 'BudgetExceeded'), poll)
      .toBe('False/WithinBudget');

    expect(await chat(value)).toEqual({ status: 200, type: undefined });
    const spend = litellm.store.keys.get(hash)!.spend;
    expect(spend).toBeGreaterThan(0.000001);
    // The next reconcile (the periodic resync) reads the spend from /key/info.
    await expect
      .poll(() => budgetOf(hash), poll)
      .toEqual({ scope: 'key', id: hash, spend: moneyFromNumber(spend), maxBudget: '0.000001' });
    await expect
      .poll(async () => condition(await objects.getKey(namespace, 'app'), 'BudgetExceeded'), poll)
      .toBe('True/KeyBudgetExceeded');
    expect(condition(await objects.getKey(namespace, 'app'))).toBe('True/KeyReady');
    // What LiteLLM answers, and the gateway now can without asking it.
    expect(await chat(value)).toEqual({ status: 422, type: 'budget_exceeded' });

    await objects.patchKey(namespace, 'app', { spec: { limits: { maxBudget: '100' } } });
    await expect.poll(() => budgetOf(hash), poll).toBeUndefined();
    expect(litellm.store.keys.get(hash)?.max_budget).toBe(100);
    expect(await chat(value)).toEqual({ status: 200, type: undefined });
  });

  it("tells the gateway every key of a team that spent the team's budget, until it's raised", async () => {
    const namespace = await tenant('team-budget', {
      subscribed: ['granite-3-8b'],
      limits: { maxBudget: '0.000001' },
    });
    await objects.key(namespace, 'one', {});
    await objects.key(namespace, 'two', {});
    const one = await readyKey(namespace, 'one');
    const two = await readyKey(namespace, 'two');
    expect(await budgetOf(one.hash)).toBeUndefined();

    expect((await chat(one.value)).status).toBe(200);
    const spend = moneyFromNumber(litellm.store.teams.get(namespace)!.spend);
    // The Team controller copies LiteLLM's spend into status; crossing the budget wakes the keys.
    await expect
      .poll(async () => (await objects.teams.get(namespace))?.status?.spend, poll)
      .toBe(spend);
    const spent = { scope: 'team', id: namespace, spend, maxBudget: '0.000001' };
    await expect.poll(() => budgetOf(one.hash), poll).toEqual(spent);
    await expect.poll(() => budgetOf(two.hash), poll).toEqual(spent);
    expect(await chat(two.value)).toEqual({ status: 422, type: 'budget_exceeded' });

    await objects.teams.patch(namespace, { spec: { limits: { maxBudget: '100' } } });
    await expect.poll(() => budgetOf(one.hash), poll).toBeUndefined();
    await expect.poll(() => budgetOf(two.hash), poll).toBeUndefined();
    await expect.poll(async () => (await chat(two.value)).status, poll).toBe(200);
  });

  it('writes the Secret the spec asks for, with the gateway URL and an owner reference', async () => {
    const namespace = await tenant('secret', { subscribed: ['granite-3-8b'] });
    const created = await objects.key(namespace, 'app', {
      secret: { name: 'llm-credentials', apiKeyKey: 'API_KEY', baseUrlKey: 'BASE_URL' },
    });
    await readyKey(namespace, 'app', 'API_KEY');
    const secret = (await objects.secret(namespace, 'llm-credentials'))!;
    expect(secretKey(secret, 'API_KEY')).toMatch(/^sk-[A-Za-z0-9_-]{43}$/);
    expect(secretKey(secret, 'BASE_URL')).toBe(GATEWAY_URL);
    expect(secret.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'VirtualKey', uid: created.metadata.uid, controller: true }),
    ]);
    // The status names the key by hash only.
    const key = (await objects.getKey(namespace, 'app'))!;
    expect(JSON.stringify(key)).not.toContain(secretKey(secret, 'API_KEY'));
  });

  it('expires a key in LiteLLM and the gateway and says so', async () => {
    const namespace = await tenant('expiry', { subscribed: ['granite-3-8b'] });
    const expiresAt = new Date(clock.now() + 3_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await objects.key(namespace, 'app', { expiresAt });
    const { hash } = await readyKey(namespace, 'app');
    const stored = litellm.store.keys.get(hash)!;
    expect(Math.abs(Date.parse(stored.expires!) - Date.parse(expiresAt))).toBeLessThan(2_000);
    expect((await routingRecord(redis, prefix, hash))?.expiresAt).toBe(
      new Date(expiresAt).toISOString(),
    );
    await expect
      .poll(async () => condition(await objects.getKey(namespace, 'app'), 'Expired'), poll)
      .toBe('True/Expired');
    expect(condition(await objects.getKey(namespace, 'app'))).toBe('False/Expired');
  });

  it('rotates: both keys work during the grace period, then only the new one', async () => {
    const namespace = await tenant('rotate', { subscribed: ['granite-3-8b'] });
    await objects.key(namespace, 'app', { rotation: { every: '2h', gracePeriod: '1h' } });
    const first = await readyKey(namespace, 'app');

    clock.offsetMs += 2 * 3_600_000 + 1_000; // past the rotation time
    await objects.patchKey(namespace, 'app', { metadata: { annotations: { nudge: '1' } } });
    await expect
      .poll(async () => secretKey(await objects.secret(namespace, 'app')), poll)
      .not.toBe(first.value);
    const second = await readyKey(namespace, 'app');
    await expect.poll(() => litellm.store.keys.get(second.hash)?.token, poll).toBe(second.hash);
    expect(litellm.store.keys.get(first.hash)?.key_alias).toBe(`${namespace}/app/previous`);
    expect((await routingRecord(redis, prefix, first.hash))?.expiresAt).toBeDefined();
    // The Secret is written before the status: the new rotation time may come a moment later.
    await expect
      .poll(async () => (await objects.getKey(namespace, 'app'))?.status?.lastRotatedAt, poll)
      .not.toBe(first.key.status?.lastRotatedAt);

    clock.offsetMs += 3_600_000 + 1_000; // past the grace period
    await objects.patchKey(namespace, 'app', { metadata: { annotations: { nudge: '2' } } });
    await expect.poll(() => litellm.store.keys.get(first.hash), poll).toBeUndefined();
    await expect.poll(() => routingRecord(redis, prefix, first.hash), poll).toBeUndefined();
    expect(litellm.store.keys.get(second.hash)).toBeDefined();
    expect(litellmKeysOf(litellm, namespace, 'app')).toHaveLength(1);
  });

  it('rotates once per spec.rotation.requestedAt, the old key working for the grace period', async () => {
    const namespace = await tenant('asked', { subscribed: ['granite-3-8b'] });
    await objects.key(namespace, 'app', { rotation: { gracePeriod: '1h' } }); // no schedule
    const first = await readyKey(namespace, 'app');
    const secretValue = async () => secretKey(await objects.secret(namespace, 'app'));
    // As kubectl llm key rotate asks: now, with the operator's (shifted) clock.
    const ask = async () => {
      const minted = (await objects.getKey(namespace, 'app'))?.status?.lastRotatedAt;
      const requestedAt = rotationRequestTime(minted, clock.now());
      await objects.patchKey(namespace, 'app', { spec: { rotation: { requestedAt } } });
    };

    await ask();
    await expect.poll(secretValue, poll).not.toBe(first.value);
    const second = await readyKey(namespace, 'app');
    await expect
      .poll(async () => (await objects.getKey(namespace, 'app'))?.status?.previousKey?.keyId, poll)
      .toBe(first.hash);
    const { lastRotatedAt, previousKey } = (await objects.getKey(namespace, 'app'))!.status!;
    // The grace period a scheduled rotation keeps: both keys work until its end.
    expect(Date.parse(previousKey!.validUntil) - Date.parse(lastRotatedAt!)).toBe(3_600_000);
    expect(await chat(first.value)).toEqual({ status: 200, type: undefined });
    expect(await chat(second.value)).toEqual({ status: 200, type: undefined });
    // Status keeps whole seconds; the record the instant.
    const recordExpiry = (await routingRecord(redis, prefix, first.hash))?.expiresAt;
    expect(Date.parse(recordExpiry!) - Date.parse(previousKey!.validUntil)).toBeLessThan(1000);

    // Once: resyncs (every 1.5 s) and another edit leave the new key in place.
    await objects.patchKey(namespace, 'app', { metadata: { annotations: { nudge: '1' } } });
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(await secretValue()).toBe(second.value);
    expect(
      litellmKeysOf(litellm, namespace, 'app')
        .map((k) => k.token)
        .sort(),
    ).toEqual([first.hash, second.hash].sort());

    // A second request within the grace period waits for its end: never three keys at once.
    await ask();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await secretValue()).toBe(second.value);
    clock.offsetMs += 3_600_000 + 1_000; // past the grace period
    await objects.patchKey(namespace, 'app', { metadata: { annotations: { nudge: '2' } } });
    await expect.poll(secretValue, poll).not.toBe(second.value);
    await expect.poll(() => litellm.store.keys.get(first.hash), poll).toBeUndefined();
    const third = await readyKey(namespace, 'app');
    expect(third.hash).not.toBe(second.hash);
    expect(await chat(second.value)).toEqual({ status: 200, type: undefined });

    // Both requests honoured: past the next grace period nothing rotates any more.
    clock.offsetMs += 3_600_000 + 1_000;
    await objects.patchKey(namespace, 'app', { metadata: { annotations: { nudge: '3' } } });
    await expect.poll(() => litellm.store.keys.get(second.hash), poll).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await secretValue()).toBe(third.value);
    expect(litellmKeysOf(litellm, namespace, 'app').map((k) => k.token)).toEqual([third.hash]);
  });

  it('replaces a key whose Secret was deleted, and deletes the lost one', async () => {
    const namespace = await tenant('lost', { subscribed: ['granite-3-8b'] });
    await objects.key(namespace, 'app', {});
    const first = await readyKey(namespace, 'app');
    await objects.core.deleteNamespacedSecret({ namespace, name: 'app' });
    await expect
      .poll(async () => {
        const secret = await objects.secret(namespace, 'app');
        return secret ? secretKey(secret) !== first.value : false;
      }, poll)
      .toBe(true);
    const second = await readyKey(namespace, 'app');
    await expect.poll(() => litellm.store.keys.get(first.hash), poll).toBeUndefined();
    expect(litellmKeysOf(litellm, namespace, 'app').map((k) => k.token)).toEqual([second.hash]);
  });

  it('deletes the key in LiteLLM and the gateway before the VirtualKey goes', async () => {
    const namespace = await tenant('delete', { subscribed: ['granite-3-8b'] });
    await objects.key(namespace, 'app', {});
    const { hash } = await readyKey(namespace, 'app');
    await objects.deleteKey(namespace, 'app');
    await expect.poll(() => objects.getKey(namespace, 'app'), poll).toBeUndefined();
    expect(litellm.store.keys.get(hash)).toBeUndefined();
    expect(litellm.store.deletedKeys.get(hash)).toBeDefined();
    expect(await routingRecord(redis, prefix, hash)).toBeUndefined();
  });

  it('publishes the routing config again after Redis lost it', async () => {
    const namespace = await tenant('flush', { subscribed: ['granite-3-8b'] });
    await objects.key(namespace, 'app', {});
    const { hash } = await readyKey(namespace, 'app');
    await expect.poll(() => routingRecord(redis, prefix, hash), poll).toBeDefined();
    const layoutKeys = await redis.keys(`${prefix}*`);
    await redis.del(...layoutKeys); // this suite's config only: other suites share the server
    await expect.poll(() => routingRecord(redis, prefix, hash), poll).toBeDefined();
  });

  it('makes no LiteLLM write and no status write when nothing changed', async () => {
    const namespace = await tenant('quiet', { subscribed: ['granite-3-8b'] });
    await objects.key(namespace, 'app', {});
    const { key, hash } = await readyKey(namespace, 'app');
    // Let anything in flight settle, then watch two resync periods.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const before = litellm.calls.snapshot();
    const mark = litellm.calls.writeMark();
    const version = (await objects.getKey(namespace, 'app'))!.metadata.resourceVersion;
    // What the operator sends the API server about this namespace (its watches are cluster-wide).
    const requests: string[] = [];
    const unobserve = KubeTransport.of(kc).observe(({ method, path }) => {
      if (path.includes(`/namespaces/${namespace}/`)) requests.push(`${method} ${path}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    unobserve();
    const after = litellm.calls.snapshot();
    // The resyncs read the key's Secret from the cache: not one request, read or write.
    expect(requests).toEqual([]);
    // Keys of the tests before this one may still be finishing (a grace period ending, say) on
    // the same server: count the writes about this namespace's Team and key only.
    const ours = litellm.calls
      .writesSince(mark)
      .filter(({ body }) =>
        [namespace, hash].some((id) => JSON.stringify(body ?? {}).includes(id)),
      );
    expect(ours).toEqual([]);
    expect(after.calls['GET /key/info'] ?? 0).toBeGreaterThan(before.calls['GET /key/info'] ?? 0);
    expect((await objects.getKey(namespace, 'app'))!.metadata.resourceVersion).toBe(version);
    expect(key.status?.keyId).toMatch(/^[0-9a-f]{64}$/);
  });
});
