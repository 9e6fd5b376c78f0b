// The Team controller end to end: the real API server with our CRDs, the LiteLLM-compatible
// test server, and a Manager running the Team controller with a short resync. Every
// expectation polls (generous timeouts); nothing asserts on time.
import { CoreV1Api, CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSubscription } from '../../crds/api/index.ts';
import { NO_MODELS } from '../../operator/src/controllers/team/litellm-team.ts';
import { TEAM_FINALIZER } from '../../operator/src/controllers/team/reconciler.ts';
import {
  INSTALLATION_KEY,
  MANAGED_BY_KEY,
  OWNER_KEY,
  OWNER_UID_KEY,
} from '../../operator/src/controllers/shared/ownership.ts';
import { RELEASED_KEY } from '../../operator/src/controllers/shared/released.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { TEST_INSTALLATION_ID } from './support/installation.ts';
import {
  conditionOf,
  litellmMembers,
  litellmTeamsOwnedBy,
  Objects,
  poll,
  startTestOperator,
  suffix,
  testLiteLLMClient,
  TEST_RUN_LABEL,
  type TestOperator,
} from './support/team-operator.ts';

const RESYNC_MS = 1_500;

describe('Team controller', () => {
  const run = suffix();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: TestOperator;
  let objects: Objects;
  const n = (name: string) => `${name}-${run}`;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({
      masterKey: 'sk-master-team-test',
      models: ['granite-3-8b', 'llama-3-8b'],
    });
    objects = new Objects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startTestOperator({
      kc,
      litellm,
      teamLabelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: RESYNC_MS,
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
  });
  // A failed test must not leave LiteLLM failing for the next one.
  afterEach(() => litellm.faults.clear());

  const ready = (name: string) => async () => conditionOf(await objects.team(name), 'Ready');

  it('creates the LiteLLM team the spec describes: models, limits, members with roles, metadata', async () => {
    const [alice, bob] = [n('alice'), n('bob')];
    await objects.createReadyUser(alice);
    await objects.createReadyUser(bob);
    const name = n('apply');
    const namespace = name;
    await objects.api.createClusterCustomObject({
      group: 'llmtenancy.dev',
      version: 'v1alpha1',
      plural: 'teams',
      body: {
        apiVersion: 'llmtenancy.dev/v1alpha1',
        kind: 'Team',
        metadata: { name, labels: objects.labels },
        spec: {
          displayName: 'Apply test',
          namespaces: [namespace],
          models: ['granite-3-8b', 'llama-3-8b'],
          limits: { maxBudget: '100.5', budgetDuration: '30d', tpm: 1000, rpm: 0 },
          members: [{ user: alice, role: 'admin' }, { user: bob }],
        },
      },
    });
    // An Active subscription in the Team's namespace (the ModelSubscription controller's job).
    await createActiveSubscription(kc, namespace, 'granite', 'granite-3-8b', name);

    await expect.poll(ready(name), poll).toBe('True/Reconciled');
    await expect.poll(() => litellm.store.teams.get(name)?.models, poll).toEqual(['granite-3-8b']);
    const team = litellm.store.teams.get(name)!;
    expect(team).toMatchObject({
      team_alias: 'Apply test',
      max_budget: 100.5,
      budget_duration: '30d',
      tpm_limit: 1000,
      rpm_limit: 0,
    });
    expect(litellmMembers(litellm, name)).toEqual([`${alice}:admin`, `${bob}:user`]);
    // Status follows LiteLLM's write (the Team may have turned Ready before the subscription
    // was seen): polled, not read once.
    await expect
      .poll(async () => (await objects.team(name))?.status?.models, poll)
      .toEqual(['granite-3-8b']);
    const stored = (await objects.team(name))!;
    expect(team.metadata).toMatchObject({
      [MANAGED_BY_KEY]: 'llm-tenancy',
      [INSTALLATION_KEY]: TEST_INSTALLATION_ID,
      [OWNER_KEY]: `Team/${name}`,
      [OWNER_UID_KEY]: stored.metadata.uid,
    });
    expect(stored.metadata.finalizers).toContain(TEAM_FINALIZER);
    expect(stored.status).toMatchObject({
      observedGeneration: stored.metadata.generation,
      teamId: name,
      memberCount: 2,
      members: [
        { user: alice, role: 'admin', source: 'spec' },
        { user: bob, role: 'member', source: 'spec' },
      ].sort((a, b) => a.user.localeCompare(b.user)),
      models: ['granite-3-8b'],
    });
    expect(conditionOf(stored, 'Synced')).toBe('True/ReconcileSuccess');
    expect(litellmTeamsOwnedBy(litellm, name)).toHaveLength(1);

    const events = await kc
      .makeApiClient(EventsV1Api)
      .listNamespacedEvent({ namespace: 'default' });
    const notes = events.items
      .filter((e) => e.regarding?.name === name)
      .map((e) => `${e.reason}: ${e.note}`);
    expect(notes.some((note) => note.startsWith('Created: created LiteLLM team'))).toBe(true);
    expect(JSON.stringify(notes)).not.toContain('sk-');
  });

  it('gives a Team without Active subscriptions no models (not all of them)', async () => {
    const name = n('nomodels');
    await objects.createTeam(name, { namespaces: [name], models: ['*'] });
    await expect.poll(ready(name), poll).toBe('True/Reconciled');
    expect(litellm.store.teams.get(name)!.models).toEqual([NO_MODELS]);
    expect((await objects.team(name))!.status?.models).toBeUndefined();
  });

  it('follows edits: fields updated, a removed limit cleared (null), 0 kept, members changed', async () => {
    const [alice, bob, carol] = [n('e-alice'), n('e-bob'), n('e-carol')];
    for (const user of [alice, bob, carol]) await objects.createReadyUser(user);
    const name = n('edit');
    await objects.createTeam(name, {
      limits: { maxBudget: '50', budgetDuration: '7d', tpm: 10, rpm: 20 },
      members: [{ user: alice }, { user: bob }],
    });
    await expect.poll(ready(name), poll).toBe('True/Reconciled');

    await objects.patchTeam(name, {
      spec: {
        displayName: 'Edited',
        limits: { maxBudget: null, budgetDuration: null, tpm: 0, rpm: 20 },
        members: [{ user: alice }, { user: carol }],
      },
    });
    await expect
      .poll(() => litellmMembers(litellm, name), poll)
      .toEqual([`${alice}:user`, `${carol}:user`]);
    expect(litellm.store.teams.get(name)).toMatchObject({
      team_alias: 'Edited',
      max_budget: null,
      budget_duration: null,
      tpm_limit: 0,
      rpm_limit: 20,
    });
    await expect
      .poll(async () => (await objects.team(name))?.status?.observedGeneration, poll)
      .toBe(2);
  });

  it('adds a member once their User becomes Ready, and follows User groups claims', async () => {
    const [zed, yan] = [n('zed'), n('yan')];
    const name = n('pending');
    const group = `claims-${run}`;
    await objects.createTeam(name, { members: [{ user: zed }], groups: [group] });
    await expect
      .poll(
        async () =>
          (await objects.team(name))?.status?.conditions?.find((c) => c.type === 'Ready')?.message,
        poll,
      )
      .toContain(`waiting for User ${zed} to be Ready`);
    expect(litellmMembers(litellm, name)).toEqual([]);
    await objects.createReadyUser(zed);
    await objects.createReadyUser(yan, { groups: [group] });
    await expect
      .poll(() => litellmMembers(litellm, name), poll)
      .toEqual([`${yan}:user`, `${zed}:user`].sort());
    expect((await objects.team(name))!.status?.members).toContainEqual({
      user: yan,
      role: 'member',
      source: `group:${group}`,
    });
  });

  it('updates the team models when a ModelSubscription becomes Active', async () => {
    const name = n('subs');
    await objects.createTeam(name, { namespaces: [name] });
    await expect.poll(ready(name), poll).toBe('True/Reconciled');
    await createActiveSubscription(kc, name, 'llama', 'llama-3-8b', name);
    await expect.poll(() => litellm.store.teams.get(name)?.models, poll).toEqual(['llama-3-8b']);
  });

  it('deletes the LiteLLM team with the Team (deletionPolicy Delete)', async () => {
    const name = n('delete');
    await objects.createTeam(name, {});
    await expect.poll(ready(name), poll).toBe('True/Reconciled');
    await objects.deleteTeam(name);
    await expect.poll(() => objects.team(name), poll).toBeUndefined();
    expect(litellm.store.teams.has(name)).toBe(false);
  });

  it('leaves the LiteLLM team on deletionPolicy Orphan, and a new Team of that name adopts it', async () => {
    const name = n('orphan');
    await objects.createTeam(name, { deletionPolicy: 'Orphan', limits: { tpm: 5 } });
    await expect.poll(ready(name), poll).toBe('True/Reconciled');
    const firstUid = (await objects.team(name))!.metadata.uid;
    await objects.deleteTeam(name);
    await expect.poll(() => objects.team(name), poll).toBeUndefined();
    expect(litellm.store.teams.get(name)?.metadata).toMatchObject({
      [OWNER_UID_KEY]: firstUid,
      [RELEASED_KEY]: expect.any(String),
    });

    await objects.createTeam(name, { limits: { tpm: 6 } });
    await expect.poll(ready(name), poll).toBe('True/Reconciled');
    const adopted = litellm.store.teams.get(name)!;
    expect(adopted.metadata[OWNER_UID_KEY]).toBe((await objects.team(name))!.metadata.uid);
    expect(adopted.metadata[RELEASED_KEY]).toBeUndefined();
    expect(adopted.tpm_limit).toBe(6);
    expect(litellm.calls.count('POST', '/team/new')).toBeGreaterThan(0);
    expect(litellmTeamsOwnedBy(litellm, name)).toHaveLength(1);
  });

  it('does not touch a LiteLLM team it did not create until asked to adopt it', async () => {
    const name = n('adopt');
    await testLiteLLMClient(litellm).newTeam({
      team_id: name,
      max_budget: 1,
      metadata: { owner: 'finance' },
    });
    await objects.createTeam(name, { limits: { maxBudget: '2' } });
    await expect.poll(ready(name), poll).toBe('False/LiteLLMTeamConflict');
    const team = (await objects.team(name))!;
    expect(team.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain(
      'llmtenancy.dev/adopt: "true"',
    );
    expect(litellm.store.teams.get(name)!.max_budget).toBe(1);

    await objects.patchTeam(name, {
      metadata: { annotations: { 'llmtenancy.dev/adopt': 'true' } },
    });
    await expect.poll(ready(name), poll).toBe('True/Reconciled');
    expect(litellm.store.teams.get(name)!.max_budget).toBe(2);
    expect(litellm.store.teams.get(name)!.metadata).toMatchObject({
      owner: 'finance',
      [OWNER_KEY]: `Team/${name}`,
    });
  });

  it('undoes edits made behind its back on the next resync (Authoritative), keeps outside members in Additive mode', async () => {
    const alice = n('d-alice');
    await objects.createReadyUser(alice);
    const [strict, additive] = [n('drift-auth'), n('drift-add')];
    await objects.createTeam(strict, { members: [{ user: alice }], limits: { maxBudget: '10' } });
    await objects.createTeam(additive, {
      members: [{ user: alice }],
      limits: { maxBudget: '10' },
      membershipMode: 'Additive',
    });
    await expect.poll(ready(strict), poll).toBe('True/Reconciled');
    await expect.poll(ready(additive), poll).toBe('True/Reconciled');

    const client = testLiteLLMClient(litellm);
    for (const team of [strict, additive]) {
      await client.addTeamMembers({
        team_id: team,
        member: [{ user_id: 'mallory', role: 'user' }],
      });
      await client.updateTeam({ team_id: team, max_budget: 999 });
    }
    await client.deleteTeamMember({ team_id: strict, user_id: alice });

    await expect.poll(() => litellmMembers(litellm, strict), poll).toEqual([`${alice}:user`]);
    await expect.poll(() => litellm.store.teams.get(strict)!.max_budget, poll).toBe(10);
    await expect.poll(() => litellm.store.teams.get(additive)!.max_budget, poll).toBe(10);
    await expect
      .poll(async () => (await objects.team(additive))?.status?.members, poll)
      .toContainEqual({ user: 'mallory', role: 'member', source: 'litellm' });
    expect(litellmMembers(litellm, additive)).toEqual([`${alice}:user`, 'mallory:user']);
  });

  it('reports a namespace two Teams claim on both, naming the other, and still syncs LiteLLM', async () => {
    const [a, b] = [n('claim-a'), n('claim-b')];
    const shared = n('shared-ns');
    await objects.createTeam(a, { namespaces: [shared, n('only-a')] });
    await expect.poll(ready(a), poll).toBe('True/Reconciled');
    await objects.createTeam(b, { namespaces: [shared] });

    await expect.poll(ready(a), poll).toBe('False/NamespaceConflict');
    await expect.poll(ready(b), poll).toBe('False/NamespaceConflict');
    const message = (name: string) =>
      objects
        .team(name)
        .then((t) => t?.status?.conditions?.find((c) => c.type === 'NamespaceConflict'));
    expect(await message(a)).toMatchObject({
      status: 'True',
      message: expect.stringContaining(`namespace ${shared} is also claimed by Team ${b}`),
    });
    expect(await message(b)).toMatchObject({
      status: 'True',
      message: expect.stringContaining(`namespace ${shared} is also claimed by Team ${a}`),
    });
    expect(litellm.store.teams.has(a) && litellm.store.teams.has(b)).toBe(true);

    await objects.patchTeam(b, { spec: { namespaces: [n('only-b')] } });
    await expect.poll(ready(a), poll).toBe('True/Reconciled');
    await expect.poll(ready(b), poll).toBe('True/Reconciled');
    expect((await message(a))?.status).toBe('False');
  });

  it('reports an admin role LiteLLM will not grant without Enterprise, and succeeds otherwise', async () => {
    const [alice, dave] = [n('r-alice'), n('r-dave')];
    await objects.createReadyUser(alice);
    const name = n('roles');
    await objects.createTeam(name, { members: [{ user: alice }] });
    await expect.poll(ready(name), poll).toBe('True/Reconciled');

    await objects.patchTeam(name, { spec: { members: [{ user: alice, role: 'admin' }] } });
    const rolesSynced = async () =>
      (await objects.team(name))?.status?.conditions?.find((c) => c.type === 'RolesSynced');
    await expect.poll(async () => (await rolesSynced())?.reason, poll).toBe('EnterpriseRequired');
    expect((await rolesSynced())!.message).toBe(
      `LiteLLM needs an Enterprise licence to change a member's team role; ${alice} is a member in LiteLLM; llm-tenancy's gateway enforces the admin role`,
    );
    expect(conditionOf(await objects.team(name), 'Ready')).toBe('True/Reconciled');
    expect(litellmMembers(litellm, name)).toEqual([`${alice}:user`]);

    // A new admin member is added as a member, and named too.
    await objects.createReadyUser(dave);
    await objects.patchTeam(name, {
      spec: {
        members: [
          { user: alice, role: 'admin' },
          { user: dave, role: 'admin' },
        ],
      },
    });
    await expect
      .poll(() => litellmMembers(litellm, name), poll)
      .toEqual([`${alice}:user`, `${dave}:user`]);
    await expect
      .poll(async () => (await rolesSynced())?.message, poll)
      .toContain(`${alice} and ${dave} are members`);

    // Refusals are remembered: the resync does not ask LiteLLM again.
    const asked = litellm.calls.count('POST', '/team/member_update');
    const reads = litellm.calls.count('GET', '/team/info');
    await expect
      .poll(() => litellm.calls.count('GET', '/team/info'), poll)
      .toBeGreaterThan(reads + 2);
    expect(litellm.calls.count('POST', '/team/member_update')).toBe(asked);
  });

  it('shows LiteLLMUnavailable while LiteLLM is down, then converges with exactly one LiteLLM team', async () => {
    const name = n('outage');
    const alice = n('o-alice');
    await objects.createReadyUser(alice);
    const dropped = litellm.faults.add({ drop: true });
    await objects.createTeam(name, { members: [{ user: alice }], limits: { rpm: 7 } });
    await expect.poll(ready(name), poll).toBe('False/LiteLLMUnavailable');
    expect(conditionOf(await objects.team(name), 'Synced')).toBe('False/LiteLLMUnavailable');
    litellm.faults.clear(dropped.id);
    // Then answering 503 for a while (the client's circuit breaker opens and fails fast).
    const unavailable = litellm.faults.add({ status: 503 });
    await expect.poll(() => litellm.faults.list()[0]?.hits ?? 0, poll).toBeGreaterThan(3);
    expect(conditionOf(await objects.team(name), 'Ready')).toBe('False/LiteLLMUnavailable');
    litellm.faults.clear(unavailable.id);

    await expect.poll(ready(name), poll).toBe('True/Reconciled');
    expect(litellmTeamsOwnedBy(litellm, name)).toHaveLength(1);
    expect(litellm.store.teams.get(name)).toMatchObject({ rpm_limit: 7 });
    expect(litellmMembers(litellm, name)).toEqual([`${alice}:user`]);
  });

  it('stops on a request LiteLLM rejects as invalid (LiteLLMRejected), and retries once the spec changes', async () => {
    const name = n('rejected');
    const rejecting = litellm.faults.add({
      route: '/team/new',
      status: 400,
      body: { error: { message: 'bad team', type: 'bad_request_error', param: null, code: '400' } },
    });
    await objects.createTeam(name, {});
    await expect.poll(ready(name), poll).toBe('False/LiteLLMRejected');
    expect(conditionOf(await objects.team(name), 'Synced')).toBe('False/LiteLLMRejected');
    // Terminal: not retried on its own (not even at the resync interval).
    const attempts = litellm.calls.count('POST', '/team/new');
    await new Promise((resolve) => setTimeout(resolve, RESYNC_MS * 2));
    expect(litellm.calls.count('POST', '/team/new')).toBe(attempts);

    litellm.faults.clear(rejecting.id);
    await objects.patchTeam(name, { spec: { displayName: 'fixed' } });
    await expect.poll(ready(name), poll).toBe('True/Reconciled');
    expect(litellm.calls.count('POST', '/team/new')).toBe(attempts + 1);
  });

  it('makes no LiteLLM write and no status write when nothing changed (100 Teams)', async () => {
    const count = 100;
    const names = Array.from({ length: count }, (_, i) => n(`quiet-${i}`));
    const member = n('q-member');
    await objects.createReadyUser(member);
    await Promise.all(
      names.map((name, i) =>
        objects.createTeam(name, {
          members: [{ user: member }],
          limits: { tpm: i, maxBudget: '5' },
        }),
      ),
    );
    const allReady = async () =>
      (await Promise.all(names.map((name) => objects.team(name)))).every(
        (t) => conditionOf(t, 'Ready') === 'True/Reconciled',
      );
    await expect.poll(allReady, { ...poll, timeout: 120_000 }).toBe(true);
    // Let every Team go through one quiet resync before counting.
    await new Promise((resolve) => setTimeout(resolve, RESYNC_MS * 1.2));

    const versions = async () =>
      Object.fromEntries(
        (await Promise.all(names.map((name) => objects.team(name)))).map((t) => [
          t!.metadata.name,
          t!.metadata.resourceVersion,
        ]),
      );
    const before = await versions();
    litellm.calls.reset();
    // At least two resyncs of every Team.
    await expect
      .poll(() => litellm.calls.count('GET', '/team/info'), { ...poll, timeout: 60_000 })
      .toBeGreaterThanOrEqual(2 * count);
    const calls = litellm.calls.snapshot();
    expect(calls.writes).toBe(0);
    expect(Object.keys(calls.calls)).toEqual(['GET /team/info']);
    expect(await versions()).toEqual(before);
    const perResync = calls.calls['GET /team/info']! / 2;
    console.info(
      `no-change resync of ${count} Teams: ${calls.total} LiteLLM calls over ~2 resyncs (${perResync} reads per resync), ${calls.writes} writes; no status writes`,
    );
  });
});

describe('Team controller restarted mid-reconcile', () => {
  const run = suffix();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let objects: Objects;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-restart-test', models: ['granite-3-8b'] });
    objects = new Objects(kc, { [TEST_RUN_LABEL]: run });
  });
  afterAll(async () => {
    await litellm?.stop();
  });

  it('reaches the same end state when stopped after its first LiteLLM write', async () => {
    const [alice, bob] = [`alice-${run}`, `bob-${run}`];
    await objects.createReadyUser(alice);
    await objects.createReadyUser(bob);
    const name = `restart-${run}`;
    const selector = `${TEST_RUN_LABEL}=${run}`;
    const initial = await startTestOperator({ kc, litellm, teamLabelSelector: selector });
    await objects.createTeam(name, { members: [{ user: alice }], limits: { maxBudget: '3' } });
    await expect
      .poll(async () => conditionOf(await objects.team(name), 'Ready'), poll)
      .toBe('True/Reconciled');
    await initial.stop();

    // While no operator runs, the spec changes in two ways: a field, and a new member.
    await objects.patchTeam(name, {
      spec: { members: [{ user: alice }, { user: bob }], limits: { maxBudget: '4', tpm: 0 } },
    });
    // The next operator makes its first write (/team/update), then hangs adding bob, and stops.
    const hang = litellm.faults.add({ route: '/team/member_add', hang: true });
    const interrupted = await startTestOperator({
      kc,
      litellm,
      teamLabelSelector: selector,
      stopGracePeriodMs: 100,
    });
    await expect.poll(() => hang.id && litellm.faults.list()[0]?.hits, poll).toBe(1);
    expect(litellm.store.teams.get(name)).toMatchObject({ max_budget: 4, tpm_limit: 0 });
    await interrupted.stop();
    litellm.faults.clear();
    expect(litellmMembers(litellm, name)).toEqual([`${alice}:user`]);

    const next = await startTestOperator({ kc, litellm, teamLabelSelector: selector });
    try {
      await expect
        .poll(() => litellmMembers(litellm, name), poll)
        .toEqual([`${alice}:user`, `${bob}:user`]);
      await expect.poll(async () => (await objects.team(name))?.status?.memberCount, poll).toBe(2);
      expect(conditionOf(await objects.team(name), 'Ready')).toBe('True/Reconciled');
      expect(litellm.calls.count('POST', '/team/new')).toBe(1);
      expect(litellmTeamsOwnedBy(litellm, name)).toHaveLength(1);
      expect(litellm.store.teams.get(name)).toMatchObject({ max_budget: 4, tpm_limit: 0 });
    } finally {
      await next.stop();
    }
  });
});

describe('Team apply-to-Ready time', () => {
  const run = suffix();
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let objects: Objects;
  let operator: TestOperator;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await start({ masterKey: 'sk-master-timing-test', models: ['granite-3-8b'] });
    objects = new Objects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startTestOperator({
      kc,
      litellm,
      teamLabelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs: 60_000,
    });
  });
  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
  });

  it('measures the time from apply to Ready for one Team (median of 20; reported, not asserted)', async () => {
    const member = `t-member-${run}`;
    await objects.createReadyUser(member);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `timing-${i}-${run}`;
      const started = performance.now();
      await objects.createTeam(name, { members: [{ user: member }], limits: { tpm: 100 } });
      await expect
        .poll(async () => conditionOf(await objects.team(name), 'Ready'), { ...poll, interval: 5 })
        .toBe('True/Reconciled');
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = (times[9]! + times[10]!) / 2;
    console.info(
      `apply → Ready for one Team: median ${median.toFixed(0)} ms of 20 (min ${times[0]!.toFixed(0)}, max ${times[19]!.toFixed(0)})`,
    );
    expect(times).toHaveLength(20);
  });
});

async function createActiveSubscription(
  kc: KubeConfig,
  namespace: string,
  name: string,
  model: string,
  team: string,
): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: namespace } } })
    .catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  const created = (await api.createNamespacedCustomObject({
    group: 'llmtenancy.dev',
    version: 'v1alpha1',
    plural: 'modelsubscriptions',
    namespace,
    body: {
      apiVersion: 'llmtenancy.dev/v1alpha1',
      kind: 'ModelSubscription',
      metadata: { name, namespace },
      spec: { model },
    },
  })) as ModelSubscription;
  await api.replaceNamespacedCustomObjectStatus({
    group: 'llmtenancy.dev',
    version: 'v1alpha1',
    plural: 'modelsubscriptions',
    namespace,
    name,
    body: { ...created, status: { phase: 'Active', team } },
  });
}
