// The User controller on the real API server against a LiteLLM test server of its own:
// LiteLLM users follow their User (role mapping, team-only models, limits set and cleared),
// deletion honours deletionPolicy, drift is undone on resync, a LiteLLM outage shows as
// LiteLLMUnavailable and then converges, and a converged User costs one read and no write.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  INSTALLATION_KEY,
  MANAGED_BY_KEY,
  ownerMetadata,
  OWNER_KEY,
  OWNER_UID_KEY,
} from '../../operator/src/controllers/shared/ownership.ts';
import { RELEASED_KEY } from '../../operator/src/controllers/shared/released.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { TEST_INSTALLATION_ID } from './support/installation.ts';
import { startLiteLLMServer, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  conditionOf,
  Objects,
  poll,
  startUserOperator,
  suffix,
  TEST_RUN_LABEL,
  type UserOperator,
} from './support/user-operator.ts';

describe('User controller', () => {
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: UserOperator | undefined;
  let objects: Objects;
  let run: string;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await startLiteLLMServer({
      masterKey: 'sk-master-user-controller',
      models: ['granite-3-8b'],
    });
  });
  afterAll(async () => {
    await litellm?.stop();
  });
  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
    litellm.reset();
  });

  /** A fresh label scope and operator per test: no test sees another's Users. */
  async function start(resyncIntervalMs = 60_000): Promise<void> {
    run = suffix();
    objects = new Objects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startUserOperator({
      kc,
      litellm,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      resyncIntervalMs,
    });
  }

  const name = (stem: string) => `${stem}-${run}`;
  const litellmUser = (id: string) => litellm.store.users.get(id);
  const ready = async (user: string) => conditionOf(await objects.user(user), 'Ready');

  it('creates the LiteLLM user from the spec, mapping roles and allowing team models only', async () => {
    await start();
    const roles = {
      admin: 'proxy_admin',
      manager: 'internal_user',
      user: 'internal_user',
      viewer: 'internal_user_viewer',
    };
    for (const role of Object.keys(roles)) {
      await objects.createUser(name(role), {
        email: `${role}-${run}@example.com`,
        displayName: `The ${role}`,
        role,
        limits: { maxBudget: '100', budgetDuration: '30d', tpm: 1000, rpm: 10 },
      });
    }
    for (const [role, litellmRole] of Object.entries(roles)) {
      await expect.poll(() => ready(name(role)), poll).toBe('True/Reconciled');
      expect(litellmUser(name(role))).toMatchObject({
        user_id: name(role),
        user_email: `${role}-${run}@example.com`,
        user_alias: `The ${role}`,
        user_role: litellmRole,
        models: ['no-default-models'],
        max_budget: 100,
        budget_duration: '30d',
        tpm_limit: 1000,
        rpm_limit: 10,
      });
    }

    const user = (await objects.user(name('admin')))!;
    expect(user.metadata.finalizers).toContain('llmtenancy.dev/cleanup');
    expect(user.status).toMatchObject({ observedGeneration: 1, userId: name('admin'), spend: '0' });
    expect(conditionOf(user, 'Synced')).toBe('True/ReconcileSuccess');
    expect(litellmUser(name('admin'))!.metadata).toEqual({
      [MANAGED_BY_KEY]: 'llm-tenancy',
      [INSTALLATION_KEY]: TEST_INSTALLATION_ID,
      [OWNER_KEY]: `User/${name('admin')}`,
      [OWNER_UID_KEY]: user.metadata.uid,
    });
    // No key was minted along with the user.
    expect(litellm.store.keys.size).toBe(0);
    await expect.poll(() => objects.eventReasons(name('admin')), poll).toContain('Created');
  });

  it('updates the LiteLLM user when the spec changes, and clears a removed limit', async () => {
    await start();
    const alice = name('alice');
    await objects.createUser(alice, {
      role: 'user',
      limits: { maxBudget: '50', budgetDuration: '7d', rpm: 5 },
    });
    await expect.poll(() => ready(alice), poll).toBe('True/Reconciled');

    await objects.patchUser(alice, { spec: { role: 'admin', limits: { maxBudget: '75' } } });
    await expect.poll(() => litellmUser(alice)?.user_role, poll).toBe('proxy_admin');
    expect(litellmUser(alice)).toMatchObject({
      max_budget: 75,
      budget_duration: '7d',
      rpm_limit: 5,
    });
    await expect
      .poll(async () => (await objects.user(alice))?.status?.observedGeneration, poll)
      .toBe(2);

    await objects.patchUser(alice, { spec: { limits: { budgetDuration: null, rpm: null } } });
    await expect.poll(() => litellmUser(alice)?.rpm_limit, poll).toBeNull();
    expect(litellmUser(alice)).toMatchObject({
      max_budget: 75,
      budget_duration: null,
      tpm_limit: null,
    });
    await expect.poll(() => objects.eventReasons(alice), poll).toContain('Updated');
  });

  it('reports the Teams that list the User as a member', async () => {
    await start();
    const bob = name('bob');
    await objects.createUser(bob, { role: 'user' });
    await expect.poll(() => ready(bob), poll).toBe('True/Reconciled');
    const team = await objects.createTeamWithMembers(name('team'), [bob]);
    await expect
      .poll(async () => (await objects.user(bob))?.status?.teams, poll)
      .toEqual([name('team')]);
    await objects.setTeamMembers(team, []);
    await expect.poll(async () => (await objects.user(bob))?.status?.teams, poll).toBeUndefined();
    await objects.deleteTeam(name('team'));
  });

  it('deletes the LiteLLM user with the User (deletionPolicy Delete)', async () => {
    await start();
    const carol = name('carol');
    await objects.createUser(carol, { role: 'user' });
    await expect.poll(() => ready(carol), poll).toBe('True/Reconciled');
    expect(litellmUser(carol)).toBeDefined();

    await objects.deleteUser(carol);
    await expect.poll(() => objects.user(carol), poll).toBeUndefined();
    expect(litellmUser(carol)).toBeUndefined();
  });

  it('leaves the LiteLLM user behind with deletionPolicy Orphan, and a new User adopts it', async () => {
    await start();
    const dave = name('dave');
    await objects.createUser(dave, { role: 'user', deletionPolicy: 'Orphan', limits: { rpm: 3 } });
    await expect.poll(() => ready(dave), poll).toBe('True/Reconciled');
    const firstUid = (await objects.user(dave))!.metadata.uid;

    await objects.deleteUser(dave);
    await expect.poll(() => objects.user(dave), poll).toBeUndefined();
    expect(litellmUser(dave)).toMatchObject({ rpm_limit: 3 });
    expect(litellmUser(dave)!.metadata).toMatchObject({
      [OWNER_KEY]: `User/${dave}`,
      [OWNER_UID_KEY]: firstUid,
      [RELEASED_KEY]: expect.any(String),
    });

    // A User of the same name is the same person: it adopts the user it left behind.
    await objects.createUser(dave, { role: 'viewer' });
    await expect.poll(() => ready(dave), poll).toBe('True/Reconciled');
    const second = (await objects.user(dave))!;
    expect(litellmUser(dave)).toMatchObject({ user_role: 'internal_user_viewer', rpm_limit: null });
    expect(litellmUser(dave)!.metadata).toEqual({
      [MANAGED_BY_KEY]: 'llm-tenancy',
      [INSTALLATION_KEY]: TEST_INSTALLATION_ID,
      [OWNER_KEY]: `User/${dave}`,
      [OWNER_UID_KEY]: second.metadata.uid,
    });
    await expect.poll(() => objects.eventReasons(dave), poll).toContain('Adopted');
  });

  it('does not take a LiteLLM user it did not create, unless asked to adopt it', async () => {
    await start();
    const erin = name('erin');
    litellm.store.newUser({
      user_id: erin,
      user_role: 'proxy_admin',
      metadata: { source: 'manual' },
    });
    await objects.createUser(erin, { role: 'user' });
    await expect.poll(() => ready(erin), poll).toBe('False/LiteLLMUserConflict');
    const user = (await objects.user(erin))!;
    expect(user.status?.conditions?.[0]?.message).toMatch(
      /not created by llm-tenancy.*llmtenancy\.dev\/adopt/,
    );
    expect(user.status?.userId).toBeUndefined();
    expect(litellmUser(erin)).toMatchObject({ user_role: 'proxy_admin' });

    await objects.patchUser(erin, {
      metadata: { annotations: { 'llmtenancy.dev/adopt': 'true' } },
    });
    await expect.poll(() => ready(erin), poll).toBe('True/Reconciled');
    expect(litellmUser(erin)).toMatchObject({ user_role: 'internal_user' });
    expect(litellmUser(erin)!.metadata).toMatchObject({
      source: 'manual',
      [OWNER_KEY]: `User/${erin}`,
    });

    // Deleting the User deletes what it has adopted.
    await objects.deleteUser(erin);
    await expect.poll(() => objects.user(erin), poll).toBeUndefined();
    expect(litellmUser(erin)).toBeUndefined();
  });

  it('undoes edits made in LiteLLM behind its back at the next resync', async () => {
    await start(1_000);
    const frank = name('frank');
    await objects.createUser(frank, { role: 'viewer', limits: { maxBudget: '10' } });
    await expect.poll(() => ready(frank), poll).toBe('True/Reconciled');

    const response = await fetch(`${litellm.url}/user/update`, {
      method: 'POST',
      headers: { authorization: `Bearer ${litellm.masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        user_id: frank,
        user_role: 'proxy_admin',
        max_budget: 1e6,
        models: ['granite-3-8b'],
      }),
    });
    expect(response.status).toBe(200);
    expect(litellmUser(frank)?.user_role).toBe('proxy_admin');

    await expect.poll(() => litellmUser(frank)?.user_role, poll).toBe('internal_user_viewer');
    expect(litellmUser(frank)).toMatchObject({ max_budget: 10, models: ['no-default-models'] });
  });

  it('shows LiteLLMUnavailable while LiteLLM answers 503, then converges to exactly one user', async () => {
    await start();
    const grace = name('grace');
    litellm.faults.add({ route: '/user/*', status: 503 });
    await objects.createUser(grace, { role: 'user' });
    await expect.poll(() => ready(grace), poll).toBe('False/LiteLLMUnavailable');
    expect(conditionOf(await objects.user(grace), 'Synced')).toBe('False/LiteLLMUnavailable');
    expect(litellmUser(grace)).toBeUndefined();

    litellm.faults.clear();
    await expect.poll(() => ready(grace), poll).toBe('True/Reconciled');
    const owned = [...litellm.store.users.values()].filter(
      (u) => u.metadata[OWNER_KEY] === `User/${grace}`,
    );
    expect(owned).toHaveLength(1);
    expect(await objects.eventReasons(grace)).toContain('LiteLLMUnavailable');
  });

  it('adopts, never duplicates, a user its own lost /user/new created (409)', async () => {
    await start();
    const heidi = name('heidi');
    litellm.faults.add({ route: '/user/*', status: 503 });
    await objects.createUser(heidi, { role: 'manager' });
    await expect.poll(() => ready(heidi), poll).toBe('False/LiteLLMUnavailable');
    const uid = (await objects.user(heidi))!.metadata.uid!;
    // An earlier /user/new reached LiteLLM after all, and the next look still misses it.
    litellm.store.newUser({
      user_id: heidi,
      user_role: 'internal_user',
      metadata: ownerMetadata({
        kind: 'User',
        name: heidi,
        uid,
        installation: TEST_INSTALLATION_ID,
      }),
    });
    litellm.faults.clear();
    litellm.faults.add({ route: '/user/info', status: 404, times: 1 });

    await expect.poll(() => ready(heidi), poll).toBe('True/Reconciled');
    expect(litellm.calls.count('POST', '/user/new')).toBe(1); // answered 409
    const owned = [...litellm.store.users.values()].filter(
      (u) => u.metadata[OWNER_KEY] === `User/${heidi}`,
    );
    expect(owned).toHaveLength(1);
    expect(owned[0]).toMatchObject({ user_role: 'internal_user', models: ['no-default-models'] });
  });

  it('makes no write, in LiteLLM or Kubernetes, when a resync finds nothing changed', async () => {
    await start(500);
    const ivan = name('ivan');
    await objects.createUser(ivan, { role: 'user', email: `ivan-${run}@example.com` });
    await expect.poll(() => ready(ivan), poll).toBe('True/Reconciled');
    // Converged: the finalizer, status and Created event are written; the next resync reads.
    const before = (await objects.user(ivan))!.metadata.resourceVersion;
    litellm.calls.reset();
    await expect
      .poll(() => litellm.calls.count('GET', '/user/info'), poll)
      .toBeGreaterThanOrEqual(3);
    expect(litellm.calls.snapshot().writes).toBe(0);
    expect((await objects.user(ivan))!.metadata.resourceVersion).toBe(before);
  });
});
