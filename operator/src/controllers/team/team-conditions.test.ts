import { describe, expect, it } from 'vitest';
import {
  enterpriseRequiredMessage,
  litellmTeamConflictConditions,
  syncedConditions,
  type TeamSyncOutcome,
} from './team-conditions.ts';

const outcome: TeamSyncOutcome = {
  teamId: 'ml',
  memberCount: 2,
  pending: [],
  models: ['granite-3-8b'],
  namespaceConflicts: [],
  refusedAdmins: [],
  hasGroups: false,
  held: [],
};
const byType = (updates: ReturnType<typeof syncedConditions>) =>
  Object.fromEntries(updates.map((u) => [u.type, u]));

describe('syncedConditions', () => {
  it('is Ready and Synced when LiteLLM matches and nothing conflicts', () => {
    const c = byType(syncedConditions(outcome, 4));
    expect(c.Ready).toMatchObject({ status: 'True', reason: 'Reconciled', observedGeneration: 4 });
    expect(c.Ready!.message).toBe('LiteLLM team ml: 2 member(s), models granite-3-8b');
    expect(c.Synced).toMatchObject({ status: 'True', reason: 'ReconcileSuccess' });
    expect(c.NamespaceConflict).toMatchObject({ status: 'False' });
    expect(c.RolesSynced).toMatchObject({ status: 'True' });
    expect(c.GroupsHeld).toBeUndefined();
  });

  it('says who is waiting for their User, and that no model is reachable yet', () => {
    const c = byType(syncedConditions({ ...outcome, models: [], pending: ['bob', 'carol'] }));
    expect(c.Ready!.message).toBe(
      'LiteLLM team ml: 2 member(s), no models (no Active ModelSubscription yet); waiting for Users bob, carol to be Ready before adding them',
    );
  });

  it('is not Ready while another Team claims a namespace, though still Synced', () => {
    const c = byType(
      syncedConditions({
        ...outcome,
        namespaceConflicts: [{ team: 'nlp', namespaces: ['apps'] }],
      }),
    );
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'NamespaceConflict' });
    expect(c.Ready!.message).toContain('namespace apps is also claimed by Team nlp');
    expect(c.NamespaceConflict).toMatchObject({ status: 'True' });
    expect(c.Synced!.status).toBe('True');
  });

  it('reports refused admin roles without failing the Team', () => {
    const c = byType(syncedConditions({ ...outcome, refusedAdmins: ['alice'] }));
    expect(c.RolesSynced).toMatchObject({ status: 'False', reason: 'EnterpriseRequired' });
    expect(c.RolesSynced!.message).toBe(
      "LiteLLM needs an Enterprise licence to change a member's team role; alice is a member in LiteLLM; llm-tenancy's gateway enforces the admin role",
    );
    expect(c.Ready!.status).toBe('True');
  });

  it('reports GroupsHeld only for Teams that name groups', () => {
    expect(byType(syncedConditions({ ...outcome, hasGroups: true })).GroupsHeld).toMatchObject({
      status: 'False',
      reason: 'GroupsFollowed',
    });
    const held = byType(
      syncedConditions({
        ...outcome,
        hasGroups: true,
        held: [
          {
            users: ['alice'],
            status: { name: 'ml', state: 'Empty', users: 0, since: '2026-11-23T10:00:00.000Z' },
            holdUntil: new Date('2026-11-23T11:00:00.000Z'),
          },
        ],
      }),
    ).GroupsHeld!;
    expect(held).toMatchObject({ status: 'True', reason: 'GroupEmptyOrMissing' });
    expect(held.message).toContain('until 2026-11-23T11:00:00.000Z');
  });
});

describe('enterpriseRequiredMessage', () => {
  it('names every member concerned', () => {
    expect(enterpriseRequiredMessage(['alice', 'bob', 'carol'])).toContain(
      'alice, bob and carol are members in LiteLLM',
    );
  });
});

describe('litellmTeamConflictConditions', () => {
  it('tells how to adopt a team llm-tenancy did not create', () => {
    const [ready, synced] = litellmTeamConflictConditions('ml', 'unmanaged', undefined, 2);
    expect(ready).toMatchObject({ type: 'Ready', status: 'False', reason: 'LiteLLMTeamConflict' });
    expect(synced).toMatchObject({ type: 'Synced', status: 'False' });
    expect(ready!.message).toContain('llmtenancy.dev/adopt: "true"');
  });

  it('names the object holding it for another owner', () => {
    const [ready] = litellmTeamConflictConditions('ml', 'other-owner', 'Team/ml-old (uid u1)');
    expect(ready!.message).toContain('llm-tenancy manages it for Team/ml-old (uid u1)');
  });
});
