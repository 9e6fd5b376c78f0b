// The spend sync against the fake KubeClient and the in-process LiteLLM test server: what it
// writes, that it writes nothing when nothing changed, how it behaves when LiteLLM or the API
// server fail, and how many LiteLLM reads a sync of 10,000 keys takes.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import type { LiteLLMTestServer } from '../../../../test/litellm-server/server.ts';
import { ObjectStore } from '../../runtime/cache.ts';
import { FakeKubeClient } from '../../runtime/fake-kube-client.ts';
import { KubeApiError } from '../../runtime/kube-http.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { KubeObject } from '../../runtime/object.ts';
import {
  TEAM_RESOURCE,
  TEAM_TARGET,
  USER_RESOURCE,
  USER_TARGET,
  VIRTUAL_KEY_RESOURCE,
  VIRTUAL_KEY_TARGET,
} from '../shared/kinds.ts';
import { eventsIn, litellmClient, startLiteLLM } from '../shared/managed/reconciler-test-bed.ts';
import { EventRecorder } from '../../runtime/events.ts';
import type { SpendCounterSink, SpendFigures } from './spend-counter-sink.ts';
import { spendSyncMetrics } from './spend-metrics.ts';
import { KeySnapshot } from '../virtual-key/key-snapshot.ts';
import { INSTALLATION_KEY } from '../shared/ownership.ts';
import { SpendSync } from './spend-sync.ts';
import type { BudgetAlert } from './alerts/budget-alert.ts';

const NS = 'ml-prod';
const RESET_AT = '2026-12-31T00:00:00.000Z';

let litellm: LiteLLMTestServer;
beforeAll(async () => {
  litellm = await startLiteLLM();
});
afterAll(() => litellm.stop());
beforeEach(() => litellm.reset());

function team(name: string, teamId: string | null = name, limits?: object): Team {
  return {
    apiVersion: TEAM_RESOURCE.apiVersion,
    kind: 'Team',
    metadata: { name },
    spec: { namespaces: [NS], ...(limits ? { limits } : {}) },
    status: teamId ? { teamId } : {},
  } as unknown as Team;
}
function user(name: string): User {
  return {
    apiVersion: USER_RESOURCE.apiVersion,
    kind: 'User',
    metadata: { name },
    spec: { identity: name },
    status: { userId: name },
  } as unknown as User;
}
function key(name: string, keyId: string): VirtualKey {
  return {
    apiVersion: VIRTUAL_KEY_RESOURCE.apiVersion,
    kind: 'VirtualKey',
    metadata: { name, namespace: NS },
    spec: {},
    status: { keyId, team: 'ml' },
  } as unknown as VirtualKey;
}
const hashOf = (i: number) => i.toString(16).padStart(64, '0');

function bed(
  objects: KubeObject[],
  options: {
    counters?: SpendCounterSink;
    snapshotStores?: boolean;
    alertThresholds?: readonly number[];
    now?: string;
    keySnapshot?: KeySnapshot;
  } = {},
) {
  const kube = new FakeKubeClient({ objects });
  // The fake's stores follow every write; a snapshot is a cache that lags behind.
  const storeOf = <T extends KubeObject>(target: typeof TEAM_TARGET) => {
    const live = kube.storeFor<T>(target);
    if (!options.snapshotStores) return live;
    const snapshot = new ObjectStore<T>();
    for (const object of live.list()) snapshot.set(object);
    return snapshot;
  };
  const registry = new Registry();
  const metrics = spendSyncMetrics(registry);
  const logs: string[] = [];
  const log = Object.assign(Object.create(silentLogger), {
    warn: (_: unknown, message: string) => logs.push(`warn ${message}`),
    info: (message: string) => logs.push(`info ${message}`),
    debug: () => {},
    child: () => log,
  }) as typeof silentLogger;
  const recorder = new EventRecorder(kube, { reportingController: 'llmtenancy.dev/operator' });
  // A new SpendSync on the same API server: the operator restarted.
  const newSync = () =>
    new SpendSync({
      litellm: litellmClient(litellm),
      kube,
      stores: {
        teams: storeOf<Team>(TEAM_TARGET),
        users: storeOf<User>(USER_TARGET),
        keys: storeOf<VirtualKey>(VIRTUAL_KEY_TARGET),
      },
      metrics,
      log,
      counters: options.counters,
      now: () => Date.parse(options.now ?? '2026-12-02T12:00:00Z'),
      recorder,
      alertThresholds: options.alertThresholds,
      alerts: { enqueue: (alert) => void alerts.push(alert) },
      keySnapshot: options.keySnapshot,
    });
  const alerts: BudgetAlert[] = [];
  let sync = newSync();
  const run = () => sync.sync(new AbortController().signal);
  const restart = () => void (sync = newSync());
  const statusOf = (resource: typeof TEAM_RESOURCE, name: string) =>
    (
      kube.objectsOf(resource).find((o) => o.metadata?.name === name) as
        { status?: unknown } | undefined
    )?.status as Record<string, unknown> | undefined;
  const spendWrites = () => kube.writes.filter((w) => w.verb === 'mergePatchStatus');
  const metric = async (name: string, labels = '') =>
    (await registry.metrics())
      .split('\n')
      .find((line) => line.startsWith(`${name}${labels} `))
      ?.split(' ')[1];
  const events = async () =>
    (await eventsIn(kube)).filter((e) => e.reason === 'BudgetThresholdReached');
  const allEvents = async () =>
    (await eventsIn(kube)).map((e) => `${e.type} ${e.reason} ${e.note}`);
  return { kube, run, restart, statusOf, spendWrites, metric, logs, events, alerts, allEvents };
}

function seedLiteLLM() {
  litellm.store.newTeam({
    team_id: 'ml',
    spend: 43.12,
    max_budget: 100,
    budget_duration: '30d',
    budget_reset_at: RESET_AT,
  });
  litellm.store.newUser({ user_id: 'alice', spend: 2.5 });
  litellm.store.newKey({
    token: hashOf(1),
    key_name: 'sk-...0001',
    team_id: 'ml',
    spend: 0.25,
    max_budget: 1,
    budget_duration: '1mo',
    budget_reset_at: '2027-01-01T00:00:00Z',
  });
}

describe('SpendSync', () => {
  it("writes LiteLLM's spend and budget into each object's status on the first sync", async () => {
    seedLiteLLM();
    const { run, statusOf, spendWrites, kube } = bed([
      team('ml'),
      user('alice'),
      key('chatbot', hashOf(1)),
    ]);
    const result = await run();
    expect(result).toMatchObject({ read: true, written: 3, failed: 0 });
    expect(spendWrites().every((w) => w.fieldManager === 'spend-sync')).toBe(true);
    expect(statusOf(TEAM_RESOURCE, 'ml')).toEqual({
      teamId: 'ml',
      spend: '43.12',
      budget: {
        maxBudget: '100',
        usedFraction: '0.4312',
        periodStart: '2026-12-01T00:00:00Z',
        resetsAt: '2026-12-31T00:00:00Z',
      },
    });
    expect(statusOf(USER_RESOURCE, 'alice')).toEqual({ userId: 'alice', spend: '2.5' });
    expect(statusOf(VIRTUAL_KEY_RESOURCE, 'chatbot')).toEqual({
      keyId: hashOf(1),
      team: 'ml',
      spend: '0.25',
      budget: {
        maxBudget: '1',
        usedFraction: '0.2500',
        periodStart: '2026-12-01T00:00:00Z',
        resetsAt: '2027-01-01T00:00:00Z',
      },
    });
    // Status only: spec and generation are untouched.
    expect(kube.objectsOf<Team>(TEAM_RESOURCE)[0]!.spec).toEqual({ namespaces: [NS] });
  });

  it('writes nothing on a second sync when nothing changed', async () => {
    seedLiteLLM();
    const { run, spendWrites } = bed([team('ml'), user('alice'), key('chatbot', hashOf(1))]);
    await run();
    const before = spendWrites().length;
    expect(await run()).toMatchObject({ read: true, written: 0, unchanged: 3 });
    expect(spendWrites().length - before).toBe(0);
  });

  it('writes one status patch when LiteLLM’s spend for one object changes', async () => {
    seedLiteLLM();
    const { run, spendWrites, statusOf } = bed([
      team('ml'),
      user('alice'),
      key('chatbot', hashOf(1)),
    ]);
    await run();
    const before = spendWrites().length;
    litellm.store.keys.get(hashOf(1))!.spend = 0.75;
    expect(await run()).toMatchObject({ written: 1, unchanged: 2 });
    expect(spendWrites().slice(before)).toEqual([
      {
        verb: 'mergePatchStatus',
        kind: 'VirtualKey',
        key: `${NS}/chatbot`,
        fieldManager: 'spend-sync',
      },
    ]);
    expect(statusOf(VIRTUAL_KEY_RESOURCE, 'chatbot')).toMatchObject({
      spend: '0.75',
      budget: { usedFraction: '0.7500' },
    });
  });

  it('removes the budget when LiteLLM no longer has one', async () => {
    seedLiteLLM();
    const { run, statusOf } = bed([team('ml')]);
    await run();
    const row = litellm.store.teams.get('ml')!;
    row.max_budget = null;
    row.budget_duration = null;
    row.budget_reset_at = null;
    await run();
    expect(statusOf(TEAM_RESOURCE, 'ml')).toEqual({ teamId: 'ml', spend: '43.12' });
  });

  it('keeps the last status and counts the error when LiteLLM is down, logging once per outage', async () => {
    seedLiteLLM();
    const { run, spendWrites, statusOf, metric, logs } = bed([
      team('ml'),
      key('chatbot', hashOf(1)),
    ]);
    await run();
    const writes = spendWrites().length;
    expect(await metric('llmtenancy_spend_sync_last_success_timestamp_seconds')).toBe('1796212800');
    litellm.store.teams.get('ml')!.spend = 99;
    litellm.faults.add({ route: '*', status: 503 });
    for (let i = 0; i < 3; i++) expect((await run()).read).toBe(false);
    expect(spendWrites().length).toBe(writes);
    expect(statusOf(TEAM_RESOURCE, 'ml')).toMatchObject({ spend: '43.12' });
    expect(await metric('llmtenancy_spend_sync_errors_total', '{stage="litellm"}')).toBe('3');
    expect(logs.filter((l) => l.startsWith('warn'))).toHaveLength(1);

    litellm.faults.clear();
    expect(await run()).toMatchObject({ read: true, written: 1 });
    expect(statusOf(TEAM_RESOURCE, 'ml')).toMatchObject({ spend: '99' });
    expect(logs.at(-1)).toBe('info LiteLLM answers again: spend sync resumed');
  });

  it('re-reads and retries once on a 409, and skips an object deleted meanwhile', async () => {
    seedLiteLLM();
    const { run, kube, statusOf, metric } = bed([team('ml'), key('chatbot', hashOf(1))]);
    kube.failNext('mergePatchStatus', conflict(), 'Team');
    kube.failNext('mergePatchStatus', notFound(), 'VirtualKey');
    expect(await run()).toMatchObject({ written: 1, skipped: 1, failed: 0 });
    expect(statusOf(TEAM_RESOURCE, 'ml')).toMatchObject({ spend: '43.12' });

    litellm.store.teams.get('ml')!.spend = 50;
    kube.failNext('mergePatchStatus', conflict(), 'Team');
    kube.failNext('mergePatchStatus', conflict(), 'Team');
    expect(await run()).toMatchObject({ failed: 1 });
    expect(await metric('llmtenancy_spend_sync_errors_total', '{stage="kubernetes"}')).toBe('1');
  });

  it('never writes from a stale copy: a key rotated since the cache was read is skipped', async () => {
    seedLiteLLM();
    const { run, kube, statusOf } = bed([key('chatbot', hashOf(1))], { snapshotStores: true });
    // The key is rotated after the cache was read: status names another key now. The patch
    // carries the cached resourceVersion, so the API server answers 409; the re-read shows
    // another key, and the old key's spend is not written onto it.
    const live = kube.objectsOf<VirtualKey>(VIRTUAL_KEY_RESOURCE)[0]!;
    await kube.replaceStatus(VIRTUAL_KEY_RESOURCE, {
      ...live,
      status: { ...live.status, keyId: hashOf(3), keyAlias: 'rotated' },
    });
    expect(await run()).toMatchObject({ written: 0, skipped: 1, failed: 0 });
    expect(statusOf(VIRTUAL_KEY_RESOURCE, 'chatbot')).toEqual({
      keyId: hashOf(3),
      keyAlias: 'rotated',
      team: 'ml',
    });
  });

  it("keeps the reconcilers' status fields: the patch names only spend and budget", async () => {
    seedLiteLLM();
    const { run, kube, statusOf } = bed([team('ml')], { snapshotStores: true });
    const live = kube.objectsOf<Team>(TEAM_RESOURCE)[0]!;
    await kube.replaceStatus(TEAM_RESOURCE, {
      ...live,
      status: { ...live.status, memberCount: 3 },
    });
    expect(await run()).toMatchObject({ written: 1 });
    expect(statusOf(TEAM_RESOURCE, 'ml')).toMatchObject({ memberCount: 3, spend: '43.12' });
  });

  it('leaves alone objects with no LiteLLM id yet, or one LiteLLM does not list', async () => {
    seedLiteLLM();
    const { run, spendWrites } = bed([team('new', null), key('gone', hashOf(2))]);
    expect(await run()).toMatchObject({ read: true, written: 0, unchanged: 1 });
    expect(spendWrites()).toEqual([]);
  });

  it("hands LiteLLM's key and team figures to the spend counters", async () => {
    seedLiteLLM();
    const seen: SpendFigures[] = [];
    const { run } = bed([team('ml'), key('chatbot', hashOf(1))], {
      counters: { reconcile: async (figures) => void seen.push(figures) },
    });
    await run();
    expect(seen).toEqual([
      {
        teams: [
          {
            id: 'ml',
            // A team's counters carry its own id as their Redis hash tag.
            team: 'ml',
            spend: '43.12',
            periodStart: '2026-12-01T00:00:00Z',
            resetsAt: '2026-12-31T00:00:00Z',
          },
        ],
        keys: [
          {
            id: hashOf(1),
            team: 'ml',
            spend: '0.25',
            periodStart: '2026-12-01T00:00:00Z',
            resetsAt: '2027-01-01T00:00:00Z',
          },
        ],
      },
    ]);
  });

  it('reads 10,000 keys in at most 100 LiteLLM requests', async () => {
    const objects: KubeObject[] = [];
    for (let i = 1; i <= 10_000; i++) {
      litellm.store.newKey({ token: hashOf(i), key_name: `sk-...${i}`, spend: i / 100 });
      objects.push(key(`k${i}`, hashOf(i)));
    }
    const { run } = bed(objects);
    litellm.calls.reset();
    expect(await run()).toMatchObject({ read: true, written: 10_000, failed: 0 });
    const first = litellm.calls.snapshot();
    expect(first.total).toBeLessThanOrEqual(100);
    expect(first.calls).toEqual({ 'GET /key/list': first.total });

    litellm.calls.reset();
    expect(await run()).toMatchObject({ written: 0, unchanged: 10_000 });
    expect(litellm.calls.snapshot().total).toBeLessThanOrEqual(100);
  }, 60_000);

  it('hands its key listing to the VirtualKey snapshot, so a resync lists nothing of its own', async () => {
    litellm.store.newKey({
      token: hashOf(1),
      key_name: 'sk-...1',
      metadata: { [INSTALLATION_KEY]: 'install-1' },
    });
    const snapshot = new KeySnapshot({
      litellm: litellmClient(litellm),
      installationId: 'install-1',
      maxAgeMs: 60_000,
    });
    const { run } = bed([key('k1', hashOf(1))], { keySnapshot: snapshot });
    await run();
    litellm.calls.reset();
    expect((await snapshot.row(hashOf(1)))?.token).toBe(hashOf(1));
    expect(litellm.calls.snapshot().total).toBe(0);
  });
});

describe('SpendSync budget alerts', () => {
  const teamRow = () => litellm.store.teams.get('ml')!;
  const spend = (dollars: number) => void (teamRow().spend = dollars);
  const notes = async (events: () => Promise<{ type: string; note: string }[]>) =>
    (await events()).map((e) => `${e.type} ${e.note}`);
  const until = '; the budget resets at 2026-12-31T00:00:00Z';

  it('records each threshold once per period, across restarts, and again after a reset', async () => {
    seedLiteLLM();
    spend(10);
    const { run, restart, events, statusOf } = bed([team('ml')]);
    await run();
    expect(await events()).toEqual([]);

    spend(60);
    await run();
    await run();
    expect(await notes(events)).toEqual([
      `Normal Spend reached 50% of the budget: $60 of $100${until}`,
    ]);
    expect(statusOf(TEAM_RESOURCE, 'ml')).toMatchObject({
      budget: { alertsSent: { periodStart: '2026-12-01T00:00:00Z', thresholds: [50] } },
    });

    spend(95.5);
    await run();
    expect((await notes(events)).slice(1)).toEqual([
      `Normal Spend reached 75% of the budget: $95.5 of $100${until}`,
      `Warning Spend reached 90% of the budget: $95.5 of $100${until}`,
    ]);

    restart();
    await run();
    spend(96);
    await run();
    expect(await events()).toHaveLength(3);

    // LiteLLM resets the budget: a new period, nothing sent in it yet.
    teamRow().budget_reset_at = '2027-01-30T00:00:00.000Z';
    spend(0);
    await run();
    expect(statusOf(TEAM_RESOURCE, 'ml')!.budget as object).not.toHaveProperty('alertsSent');
    spend(100);
    await run();
    expect((await events()).slice(3).map((e) => e.note)).toEqual(
      [50, 75, 90, 100].map(
        (p) =>
          `Spend reached ${p}% of the budget: $100 of $100; the budget resets at 2027-01-30T00:00:00Z`,
      ),
    );
  });

  it("takes the object's thresholds, else the operator-wide default", async () => {
    seedLiteLLM(); // the team is at 43.12 %
    const own = bed([team('ml', 'ml', { maxBudget: 100, alertThresholds: [10, 40, 45] })], {
      alertThresholds: [20],
    });
    await own.run();
    expect((await own.events()).map((e) => e.note.slice(0, 18))).toEqual([
      'Spend reached 10% ',
      'Spend reached 40% ',
    ]);
    const fallback = bed([team('ml')], { alertThresholds: [20] });
    await fallback.run();
    expect((await fallback.events()).map((e) => e.note.slice(0, 18))).toEqual([
      'Spend reached 20% ',
    ]);
  });

  it('hands each alert to the outbox once its status write is stored, never before', async () => {
    seedLiteLLM();
    spend(60);
    const { run, kube, alerts, statusOf } = bed([team('ml')]);
    kube.failNext('mergePatchStatus', new Error('apiserver down'));
    await run();
    expect(alerts).toEqual([]); // not remembered, so not sent: the next pass decides again
    await run();
    expect(alerts).toEqual([
      {
        id: 'Team//ml/2026-12-01T00:00:00Z/budget.threshold_reached:50',
        type: 'budget.threshold_reached',
        kind: 'Team',
        namespace: '',
        name: 'ml',
        litellmId: 'ml',
        threshold: 50,
        spend: '60',
        maxBudget: '100',
        usedFraction: '0.6000',
        periodStart: '2026-12-01T00:00:00Z',
        resetsAt: '2026-12-31T00:00:00Z',
        at: '2026-12-02T12:00:00.000Z',
      },
    ]);
    expect(statusOf(TEAM_RESOURCE, 'ml')).toMatchObject({
      budget: { alertsSent: { thresholds: [50] } },
    });
    await run();
    expect(alerts).toHaveLength(1);
  });

  it("projects exhaustion and reaches a key's soft budget, once per period", async () => {
    seedLiteLLM();
    const keyRow = litellm.store.keys.get(hashOf(1))!;
    keyRow.spend = 0.4; // in 10 of 31 days: $1.24 projected against $1
    const chatbot = key('chatbot', hashOf(1));
    chatbot.spec.limits = { maxBudget: 1, softBudget: '0.3' };
    const { run, restart, alerts, allEvents } = bed([chatbot], { now: '2026-12-11T00:00:00Z' });
    await run();
    restart();
    keyRow.spend = 0.45;
    await run();
    expect(alerts.map((a) => a.type)).toEqual([
      'budget.exhaustion_projected',
      'budget.soft_budget_reached',
    ]);
    expect(alerts[0]).toMatchObject({
      kind: 'VirtualKey',
      namespace: NS,
      litellmId: hashOf(1),
      projectedSpend: '1.24',
      exhaustedAt: '2026-12-26T00:00:00.000Z',
    });
    expect(alerts[1]).toMatchObject({ softBudget: '0.3', spend: '0.4' });
    expect(await allEvents()).toEqual([
      'Warning BudgetExhaustionProjected At the current rate the budget runs out at 2026-12-26T00:00:00.000Z, before it resets at 2027-01-01T00:00:00Z: $0.4 of $1 spent, $1.24 projected',
      'Warning SoftBudgetReached Spend reached the soft budget: $0.4 of $0.3',
    ]);
  });

  it('exports the fraction used of each object with a budget, and drops it with the budget', async () => {
    seedLiteLLM();
    const { run, metric } = bed([team('ml'), user('alice'), key('chatbot', hashOf(1))]);
    await run();
    const ratio = 'llmtenancy_budget_used_ratio';
    expect(await metric(ratio, '{kind="Team",namespace="",name="ml"}')).toBe('0.4312');
    expect(await metric(ratio, `{kind="VirtualKey",namespace="${NS}",name="chatbot"}`)).toBe(
      '0.25',
    );
    expect(await metric(ratio, '{kind="User",namespace="",name="alice"}')).toBeUndefined();
    teamRow().max_budget = null;
    await run();
    expect(await metric(ratio, '{kind="Team",namespace="",name="ml"}')).toBeUndefined();
  });
});

function conflict(): KubeApiError {
  return new KubeApiError(409, { kind: 'Status', reason: 'Conflict', code: 409 }, 'test');
}
function notFound(): KubeApiError {
  return new KubeApiError(404, { kind: 'Status', reason: 'NotFound', code: 404 }, 'test');
}
