// Budgets enforced at the gateway within one request (issue 15 item 2): real gateways on a
// Redis of this file's own (so it can be restarted), in front of the LiteLLM-compatible test
// server, whose model answers by mock_response with a fixed usage (10 prompt tokens at
// $0.00004) and reports each call's cost, $0.0004, in x-litellm-response-cost. LiteLLM itself
// is given no budget for these keys: every refusal seen here is the gateway's.
//
// The second suite has the operator write the records: VirtualKeys and Teams with a budget
// period, its spend sync naming the period (KeyPolicy.spendPeriods) from LiteLLM's
// budget_reset_at, and a reset in LiteLLM starting a new period at both gateways.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spendCounterKey } from '../../contracts/routing/redis-layout.ts';
import type { KeyPolicy, RoutingLimits } from '../../contracts/routing/schema.ts';
import { spendReconciler } from '../../contracts/routing/spend-counters.ts';
import type { RunningGateway } from '../../gateway/src/server.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import {
  chat,
  startGatewayBed,
  startTestGateway,
  type GatewayBed,
  type TestKey,
} from './support/gateway-bed.ts';
import {
  condition,
  KeyObjects,
  routingRecord,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { errorOf } from './support/openai-error.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';

const MODEL = 'fake-model';
/** What one call costs at the test server: 10 prompt tokens × $0.00004. */
const CALL_MICROS = 400;

/** The test server's model: every call costs CALL_MICROS. */
const PRICED_MODEL = {
  model_name: MODEL,
  mock_response: 'ok',
  input_cost_per_token: 0.00004,
  output_cost_per_token: 0,
};

async function statuses(calls: (() => Promise<Response>)[]): Promise<number[]> {
  const seen: number[] = [];
  for (const call of calls) {
    const response = await call();
    await response.arrayBuffer();
    seen.push(response.status);
  }
  return seen;
}

describe('budgets at the gateway', () => {
  let dir: string;
  let redisServer: RedisServer;
  let redis: Redis;
  let litellm: LiteLLMTestServer;
  let bed: GatewayBed;
  let gateway: RunningGateway;
  let other: RunningGateway;
  let teams = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-budgets-redis-'));
    redisServer = await startRedis({ dir });
    redis = new Redis(redisServer.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    await redis.connect();
    litellm = await start({
      masterKey: 'sk-master-budgets',
      models: [PRICED_MODEL],
    });
    bed = await startGatewayBed(redisServer.url);
    gateway = await bed.startGateway({ LITELLM_URL: litellm.url });
    other = await bed.startGateway({ LITELLM_URL: litellm.url });
  });

  afterAll(async () => {
    await bed?.stop();
    await litellm?.stop();
    redis?.disconnect();
    await redisServer?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A key in a team of its own, known to the test server without a budget. */
  async function budgetKey(
    keyLimits: RoutingLimits,
    spendPeriods?: KeyPolicy['spendPeriods'],
  ): Promise<TestKey> {
    const team = `budget-team-${++teams}`;
    await admin('/team/new', { team_id: team });
    let key = await bed.addKey({ team, models: [MODEL], keyLimits });
    if (spendPeriods) key = await bed.updateKey(key, { spendPeriods });
    await admin('/key/generate', { key: key.key, team_id: team, models: [MODEL] });
    return key;
  }

  async function teamKeys(team: string, teamLimits: KeyPolicy['limits']['team'], n: number) {
    await admin('/team/new', { team_id: team });
    const keys: TestKey[] = [];
    for (let i = 0; i < n; i++) {
      const key = await bed.addKey({
        team,
        models: [MODEL],
        ...(teamLimits ? { teamLimits } : {}),
      });
      await admin('/key/generate', { key: key.key, team_id: team, models: [MODEL] });
      keys.push(key);
    }
    return keys;
  }

  async function admin(path: string, body: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${litellm.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${litellm.masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  }

  const spendOf = async (key: TestKey, periodId = 'total') =>
    Number(
      await redis.get(
        spendCounterKey(bed.prefix, key.policy.team, 'key', key.policy.keyHash, periodId),
      ),
    );

  it("refuses a key's 4th call of $0.0004 against maxBudget 0.001, within the same second, with LiteLLM's error", async () => {
    const key = await budgetKey({ maxBudget: '0.001' });
    const started = performance.now();
    expect(await statuses([1, 2, 3].map(() => () => chat(gateway, key.key)))).toEqual([
      200, 200, 200,
    ]);
    const refused = await chat(gateway, key.key);
    const elapsedMs = performance.now() - started;
    expect(refused.status).toBe(422);
    expect(await errorOf(refused)).toEqual({
      message: `Budget has been exceeded! Key=${key.policy.owner.namespace}/${key.policy.owner.name} Current cost: 0.0012, Max budget: 0.001`,
      type: 'budget_exceeded',
      param: null,
      code: '422',
    });
    expect(elapsedMs).toBeLessThan(1000);
    // Counted exactly, and the refused call never reached LiteLLM.
    expect(await spendOf(key)).toBe(3 * CALL_MICROS);
    expect(litellm.store.keys.get(key.policy.keyHash)?.spend).toBeCloseTo(0.0012, 10);
  });

  it('counts a streamed answer from its head', async () => {
    const key = await budgetKey({ maxBudget: '0.001' });
    const stream = () => chat(gateway, key.key, { stream: true });
    expect(await statuses([stream, stream, stream, stream])).toEqual([200, 200, 200, 422]);
  });

  it('shares the counters between two gateway instances', async () => {
    const key = await budgetKey({ maxBudget: '0.001' });
    const calls = [gateway, other, gateway, other, gateway].map((g) => () => chat(g, key.key));
    expect(await statuses(calls)).toEqual([200, 200, 200, 422, 422]);
  });

  it("stops every key of a team once the team's spend passed its budget (strictly, as LiteLLM)", async () => {
    // 0.0008: spend equal to the team's budget still passes (LiteLLM: spend > max_budget).
    const [a, b, c] = await teamKeys(`budget-team-${++teams}`, { maxBudget: '0.0008' }, 3);
    expect(
      await statuses([
        () => chat(gateway, a!.key), // 400 µ$
        () => chat(other, b!.key), // 800 µ$: = budget
        () => chat(gateway, c!.key), // still admitted, 1200 µ$ after
        () => chat(gateway, a!.key),
        () => chat(other, b!.key),
        () => chat(gateway, c!.key),
      ]),
    ).toEqual([200, 200, 200, 422, 422, 422]);
    const refused = await chat(other, c!.key);
    expect((await errorOf(refused)).message).toMatch(
      /^Budget has been exceeded! Team=budget-team-\d+ Current cost: 0\.0012, Max budget: 0\.0008$/,
    );
  });

  it('starts a new budget period from zero, and does not count a period it cannot name', async () => {
    const key = await budgetKey(
      { maxBudget: '0.0008', budgetDuration: '1d' },
      { key: { periodId: '2030-01-01T00:00:00Z' } },
    );
    const call = () => chat(gateway, key.key);
    expect(await statuses([call, call, call])).toEqual([200, 200, 422]);
    // The counter expires an hour after its period.
    const counter = spendCounterKey(
      bed.prefix,
      key.policy.team,
      'key',
      key.policy.keyHash,
      '2030-01-01T00:00:00Z',
    );
    expect(await redis.expiretime(counter)).toBe(Date.UTC(2030, 0, 1, 1) / 1000);

    await bed.updateKey(key, { spendPeriods: { key: { periodId: '2030-01-02T00:00:00Z' } } });
    await expect
      .poll(async () => (await chat(gateway, key.key)).status, { timeout: 5_000 })
      .toBe(200);
    // The poll's call was the new period's first: one more fits, as in the first period.
    expect(await statuses([call, call])).toEqual([200, 422]);

    // A budget with a duration but no period from the operator: the gateway counts nothing
    // (the operator's budgetExceeded flag alone applies).
    const unnamed = await budgetKey({ maxBudget: '0.0008', budgetDuration: '1d' });
    const calls = [1, 2, 3, 4].map(() => () => chat(gateway, unnamed.key));
    expect(await statuses(calls)).toEqual([200, 200, 200, 200]);
  });

  it('warns past a soft budget with x-llmtenancy-budget-warning, and still admits', async () => {
    const key = await budgetKey({ softBudget: '0.0008', maxBudget: '0.002' });
    const warnings: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await chat(gateway, key.key);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      warnings.push(response.headers.get('x-llmtenancy-budget-warning'));
    }
    expect(warnings).toEqual([null, null, 'key spend=0.0008 soft_budget=0.0008 max_budget=0.002']);
    const metrics = await (await fetch(`${gateway.managementUrl}/metrics`)).text();
    expect(metrics).toMatch(/llmtenancy_gateway_soft_budget_warnings_total\{scope="key"\} 1/);
    expect(metrics).toMatch(/llmtenancy_gateway_spend_charges_total\{result="charged"\} \d+/);
  });

  it("the operator's reconcile raises a counter to LiteLLM's figure, never lowers it", async () => {
    const key = await budgetKey({ maxBudget: '0.001' });
    const reconciler = spendReconciler(redis);
    const counter = spendCounterKey(
      bed.prefix,
      key.policy.team,
      'key',
      key.policy.keyHash,
      'total',
    );
    expect(await statuses([() => chat(gateway, key.key)])).toEqual([200]);
    // LiteLLM has not booked the call yet (its figure is behind): the counter keeps its own.
    expect(await reconciler.reconcile(counter, 0)).toBe(CALL_MICROS);
    expect(await spendOf(key)).toBe(CALL_MICROS);
    // LiteLLM knows of more (calls through another path): the counter rises to it, and the
    // gateway refuses at once.
    expect(await reconciler.reconcile(counter, 1_000)).toBe(1_000);
    expect(await statuses([() => chat(other, key.key)])).toEqual([422]);
    // A period's expiry is kept by a raise, and set when given.
    await redis.set(`${counter}:ttl`, '5', 'EX', 600);
    await reconciler.reconcile(`${counter}:ttl`, 7);
    expect(await redis.ttl(`${counter}:ttl`)).toBeGreaterThan(590);
    await reconciler.reconcile(`${counter}:ttl`, 9, Date.UTC(2031, 0, 1) / 1000);
    expect(await redis.expiretime(`${counter}:ttl`)).toBe(Date.UTC(2031, 0, 1) / 1000);
    expect(await redis.get(`${counter}:ttl`)).toBe('9');
  });

  it("with Redis down, and after it restarted empty, only the operator's budgetExceeded flag refuses", async () => {
    const flagged = await budgetKey({ maxBudget: '0.0008' });
    const unflagged = await budgetKey({ maxBudget: '0.0008' });
    for (const key of [flagged, unflagged]) {
      expect(await statuses([1, 2, 3].map(() => () => chat(gateway, key.key)))).toEqual([
        200, 200, 422,
      ]);
    }
    const flag = {
      budgetExceeded: {
        scope: 'key' as const,
        id: flagged.policy.keyHash,
        spend: '0.0008',
        maxBudget: '0.0008',
      },
    };
    await bed.updateKey(flagged, flag);
    await expect
      .poll(async () => (await errorOf(await chat(gateway, flagged.key))).message, {
        timeout: 5_000,
      })
      .toMatch(/^Budget has been exceeded! Key=.* Current cost: 0\.0008, Max budget: 0\.0008$/);

    const closed = await bed.startGateway({
      LITELLM_URL: litellm.url,
      LIMITS_WHEN_REDIS_DOWN: 'closed',
    });
    expect(await statuses([() => chat(closed, unflagged.key)])).toEqual([422]);

    // Down: both keys are cached; budgets go unchecked (LIMITS_WHEN_REDIS_DOWN=local admits
    // a key without rate limits), the flag still refuses.
    await redisServer.stop();
    expect(await statuses([() => chat(gateway, unflagged.key)])).toEqual([200]);
    expect(await statuses([() => chat(gateway, flagged.key)])).toEqual([422]);
    // LIMITS_WHEN_REDIS_DOWN=closed: budgets are limits too, refused while uncheckable.
    const unavailable = await chat(closed, unflagged.key);
    expect(unavailable.status).toBe(503);
    expect((await errorOf(unavailable)).message).toMatch(/counter store is unreachable/);
    // The answered call's cost reached no counter: counted as a failed charge.
    await expect
      .poll(async () => (await fetch(`${gateway.managementUrl}/metrics`)).text())
      .toMatch(/llmtenancy_gateway_spend_charges_total\{result="failed"\} 1\n/);

    // Back, empty: the counters are gone. The operator republishes its records (the flag with
    // them); until its sync raises the counters again, the flag is what holds.
    await redisServer.start();
    await expect
      .poll(
        async () => {
          await bed.publisher.ensurePublished();
          return (await chat(other, unflagged.key)).status;
        },
        { timeout: 10_000 },
      )
      .toBe(200);
    expect(await spendOf(unflagged)).toBe(CALL_MICROS);
    const refused = await chat(other, flagged.key);
    expect(refused.status).toBe(422);
    expect((await errorOf(refused)).type).toBe('budget_exceeded');
  });
});

describe("budget periods end to end: the operator's records, its spend sync, two gateways", () => {
  const run = suffix();
  const prefix = `budget-periods-${run}:`;
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;
  let redis: Redis;
  const gateways: RunningGateway[] = [];

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-budget-periods', models: [PRICED_MODEL] });
    objects = new KeyObjects(kc, { [TEST_RUN_LABEL]: run });
    redis = new Redis(inject('redisUrl'));
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      // No resync within the test: every record change below is a watch's doing.
      resyncIntervalMs: 10 * 60_000,
      spendSyncIntervalMs: 300,
    });
    for (let i = 0; i < 2; i++)
      gateways.push(
        await startTestGateway({
          LITELLM_URL: litellm.url,
          REDIS_URL: inject('redisUrl'),
          ROUTING_PREFIX: prefix,
        }),
      );
  });

  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.close()));
    await operator?.stop();
    await litellm?.stop();
    redis?.disconnect();
  });

  /** A namespace of a Team of its own, subscribed to MODEL. */
  async function teamNamespace(name: string, limits?: Record<string, unknown>): Promise<string> {
    const namespace = `${name}-${run}`;
    await objects.namespace(namespace);
    await objects.teams.create(namespace, {
      namespaces: [namespace],
      models: ['*'],
      ...(limits ? { limits } : {}),
    });
    await objects.subscription(namespace, MODEL, { model: MODEL });
    return namespace;
  }

  /** A Ready key's value and LiteLLM id. */
  async function readyKey(namespace: string, name: string, spec: Record<string, unknown> = {}) {
    await objects.key(namespace, name, { models: [MODEL], ...spec });
    await expect
      .poll(async () => condition(await objects.getKey(namespace, name)), poll)
      .toBe('True/KeyReady');
    const key = (await objects.getKey(namespace, name))!;
    return {
      value: secretKey(await objects.secret(namespace, key.status!.secretName!)),
      hash: key.status!.keyId!,
    };
  }

  /** The period the key's record names for `scope`, once the operator published one. */
  const periodOf = async (hash: string, scope: 'key' | 'team') =>
    (await routingRecord(redis, prefix, hash))?.spendPeriods?.[scope]?.periodId;

  /** Model calls that reached LiteLLM. */
  const modelCalls = () =>
    litellm.calls.count('POST', '/chat/completions') +
    litellm.calls.count('POST', '/v1/chat/completions');

  /** What LiteLLM does at budget_reset_at: spend back to 0, the next reset a period later. */
  function resetInLiteLLM(row: { spend: number; budget_reset_at: string | null }, days: number) {
    row.spend = 0;
    row.budget_reset_at = new Date(Date.parse(row.budget_reset_at!) + days * 86_400_000)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
    return row.budget_reset_at;
  }

  it("refuses a key within one request once its period's budget is spent, across both gateways, and admits it again in the next period", async () => {
    const namespace = await teamNamespace('key-period');
    const key = await readyKey(namespace, 'metered', {
      limits: { maxBudget: '0.001', budgetDuration: '30d' },
    });
    const row = litellm.store.keys.get(key.hash)!;
    // The spend sync reported the period; the record names it, as the sync's counters do.
    await expect.poll(() => periodOf(key.hash, 'key'), poll).toBe(row.budget_reset_at);
    const vk = (await objects.getKey(namespace, 'metered'))!;
    expect(vk.status?.budget?.resetsAt).toBe(row.budget_reset_at);

    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const reachedLiteLLM = modelCalls();
    expect(
      await statuses([a, b, a, b, a].map((g) => () => chat(g, key.value, { model: MODEL }))),
    ).toEqual([200, 200, 200, 422, 422]);
    // The 4th and 5th were the gateways' refusals: LiteLLM saw 3 calls.
    expect(modelCalls() - reachedLiteLLM).toBe(3);
    const refused = await chat(b, key.value, { model: MODEL });
    expect(await errorOf(refused)).toMatchObject({ type: 'budget_exceeded', code: '422' });
    expect((await errorOf(await chat(a, key.value, { model: MODEL }))).message).toBe(
      `Budget has been exceeded! Key=${namespace}/metered Current cost: 0.0012, Max budget: 0.001`,
    );

    // LiteLLM resets the budget: the sync reports the new period, the key's record follows
    // (no resync: the watch on its status), and both gateways count afresh.
    const next = resetInLiteLLM(row, 30);
    await expect.poll(() => periodOf(key.hash, 'key'), poll).toBe(next);
    for (const g of gateways)
      await expect
        .poll(async () => (await chat(g, key.value, { model: MODEL })).status, poll)
        .toBe(200);
    // Two of the new period's three calls are spent: one more, then refused.
    expect(await statuses([a, b].map((g) => () => chat(g, key.value, { model: MODEL })))).toEqual([
      200, 422,
    ]);
  });

  it("refuses every key of a team within one request once the team's period budget is passed, and admits them in the next period", async () => {
    const namespace = await teamNamespace('team-period', {
      maxBudget: '0.001',
      budgetDuration: '7d',
    });
    const first = await readyKey(namespace, 'first');
    const second = await readyKey(namespace, 'second');
    const teamId = (await objects.teams.get(namespace))!.status!.teamId!;
    const row = litellm.store.teams.get(teamId)!;
    for (const key of [first, second])
      await expect.poll(() => periodOf(key.hash, 'team'), poll).toBe(row.budget_reset_at);

    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const reachedLiteLLM = modelCalls();
    expect(
      await statuses([
        () => chat(a, first.value, { model: MODEL }), // 400 µ$
        () => chat(b, second.value, { model: MODEL }), // 800 µ$
        () => chat(a, second.value, { model: MODEL }), // 1200 µ$: passed
        () => chat(b, first.value, { model: MODEL }),
        () => chat(a, second.value, { model: MODEL }),
      ]),
    ).toEqual([200, 200, 200, 422, 422]);
    expect(modelCalls() - reachedLiteLLM).toBe(3);

    const next = resetInLiteLLM(row, 7);
    for (const key of [first, second])
      await expect.poll(() => periodOf(key.hash, 'team'), poll).toBe(next);
    for (const [g, key] of [
      [a, first],
      [b, second],
    ] as const)
      await expect
        .poll(async () => (await chat(g, key.value, { model: MODEL })).status, poll)
        .toBe(200);
  });
});
