// The orphan collector against the real API server and a LiteLLM test server of its own:
// LiteLLM teams and users that carry llm-tenancy's metadata for an object that no longer
// exists are deleted with ORPHAN_COLLECTION=on and only counted with dry-run; objects
// without our metadata, released ones (deletionPolicy Orphan) and live ones are never touched.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ownerMetadata } from '../../operator/src/controllers/shared/ownership.ts';
import { withReleasedMark } from '../../operator/src/controllers/shared/released.ts';
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

async function metricValue(
  registry: Registry,
  name: string,
  kind: string,
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels.kind === kind)?.value;
}

describe('orphan collector', () => {
  let kc: KubeConfig;
  let litellm: LiteLLMTestServer;
  let operator: UserOperator | undefined;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    litellm = await startLiteLLMServer({
      masterKey: 'sk-master-orphans',
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

  /**
   * A live User and Team with their LiteLLM objects, one orphaned team and user, and objects
   * the collector must never touch: foreign, another manager's, released.
   */
  async function world() {
    const run = suffix();
    const objects = new Objects(kc, { [TEST_RUN_LABEL]: run });
    const alive = `alive-${run}`;
    const team = await objects.createTeamWithMembers(`team-${run}`, []);
    litellm.store.newTeam({
      team_id: `team-${run}`,
      metadata: ownerMetadata({
        kind: 'Team',
        name: `team-${run}`,
        uid: team.metadata.uid!,
        installation: TEST_INSTALLATION_ID,
      }),
    });
    litellm.store.newTeam({
      team_id: `ghost-team-${run}`,
      metadata: ownerMetadata({
        kind: 'Team',
        name: `ghost-team-${run}`,
        uid: 'uid-gone-team',
        installation: TEST_INSTALLATION_ID,
      }),
    });
    litellm.store.newTeam({ team_id: `foreign-team-${run}`, metadata: { owner: 'someone' } });
    litellm.store.newTeam({
      team_id: `other-manager-${run}`,
      metadata: { 'llmtenancy.dev/managed-by': 'another-tool', 'llmtenancy.dev/owner': 'Team/x' },
    });
    litellm.store.newUser({
      user_id: `ghost-${run}`,
      metadata: ownerMetadata({
        kind: 'User',
        name: `ghost-${run}`,
        uid: 'uid-gone-user',
        installation: TEST_INSTALLATION_ID,
      }),
    });
    litellm.store.newUser({
      user_id: `released-${run}`,
      metadata: withReleasedMark(
        ownerMetadata({
          kind: 'User',
          name: `released-${run}`,
          uid: 'uid-released',
          installation: TEST_INSTALLATION_ID,
        }),
      ),
    });
    litellm.store.newUser({ user_id: `foreign-${run}`, metadata: {} });
    litellm.store.newKey({
      token: `ghostkey${run}`.padEnd(64, '0'),
      key_name: 'sk-...host',
      metadata: ownerMetadata({
        kind: 'VirtualKey',
        namespace: `ns-${run}`,
        name: 'gone',
        uid: 'uid-gone-key',
        installation: TEST_INSTALLATION_ID,
      }),
    });
    litellm.store.newKey({ token: `foreignkey${run}`.padEnd(64, '0'), key_name: 'sk-...eign' });
    // Many foreign users: the listing has to page through them.
    for (let i = 0; i < 120; i++) litellm.store.newUser({ user_id: `bulk-${i}-${run}` });
    return { run, objects, alive, team: `team-${run}` };
  }

  it('only counts orphans in dry-run', async () => {
    const { run, objects, alive } = await world();
    operator = await startUserOperator({
      kc,
      litellm,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      orphans: { mode: 'dry-run', intervalMs: 300 },
    });
    await objects.createUser(alive, { role: 'user' });
    await expect
      .poll(async () => conditionOf(await objects.user(alive), 'Ready'), poll)
      .toBe('True/Reconciled');

    const { registry } = operator;
    await expect.poll(() => metricValue(registry, 'llm_tenancy_orphans', 'user'), poll).toBe(1);
    expect(await metricValue(registry, 'llm_tenancy_orphans', 'team')).toBe(1);
    expect(await metricValue(registry, 'llm_tenancy_orphans', 'key')).toBe(1);
    // Several passes later, still nothing deleted.
    litellm.calls.reset();
    await expect
      .poll(() => litellm.calls.count('GET', '/team/list'), poll)
      .toBeGreaterThanOrEqual(3);
    expect(litellm.calls.count('POST', '/user/delete')).toBe(0);
    expect(litellm.calls.count('POST', '/team/delete')).toBe(0);
    expect(litellm.calls.count('POST', '/key/delete')).toBe(0);
    expect(litellm.store.users.has(`ghost-${run}`)).toBe(true);
    expect(litellm.store.teams.has(`ghost-team-${run}`)).toBe(true);
    expect(await metricValue(registry, 'llm_tenancy_orphans_deleted_total', 'user')).toBe(0);
    await objects.deleteUser(alive);
    await objects.deleteTeam(`team-${run}`);
    await expect.poll(() => objects.user(alive), poll).toBeUndefined();
  });

  it('deletes orphans when on, and never touches anything else', async () => {
    const { run, objects, alive, team } = await world();
    const usersBefore = litellm.store.users.size;
    operator = await startUserOperator({
      kc,
      litellm,
      labelSelector: `${TEST_RUN_LABEL}=${run}`,
      orphans: { mode: 'on', intervalMs: 300 },
    });
    await objects.createUser(alive, { role: 'user' });
    await expect
      .poll(async () => conditionOf(await objects.user(alive), 'Ready'), poll)
      .toBe('True/Reconciled');

    await expect.poll(() => litellm.store.users.has(`ghost-${run}`), poll).toBe(false);
    await expect.poll(() => litellm.store.teams.has(`ghost-team-${run}`), poll).toBe(false);
    const { registry } = operator;
    await expect
      .poll(() => metricValue(registry, 'llm_tenancy_orphans_deleted_total', 'user'), poll)
      .toBe(1);
    expect(await metricValue(registry, 'llm_tenancy_orphans_deleted_total', 'team')).toBe(1);
    await expect
      .poll(() => litellm.store.keys.has(`ghostkey${run}`.padEnd(64, '0')), poll)
      .toBe(false);
    expect(litellm.store.keys.has(`foreignkey${run}`.padEnd(64, '0'))).toBe(true);
    // The next pass finds none.
    await expect.poll(() => metricValue(registry, 'llm_tenancy_orphans', 'user'), poll).toBe(0);

    for (const kept of [
      alive,
      `released-${run}`,
      `foreign-${run}`,
      `bulk-0-${run}`,
      `bulk-119-${run}`,
    ]) {
      expect(litellm.store.users.has(kept), kept).toBe(true);
    }
    for (const kept of [team, `foreign-team-${run}`, `other-manager-${run}`]) {
      expect(litellm.store.teams.has(kept), kept).toBe(true);
    }
    // Every user but the ghost is still there (plus alive, created meanwhile).
    expect(litellm.store.users.size).toBe(usersBefore);
    await objects.deleteUser(alive);
    await objects.deleteTeam(team);
    await expect.poll(() => objects.user(alive), poll).toBeUndefined();
  });
});
