import { describe, expect, it } from 'vitest';
import type { Team } from '../../../../crds/api/index.ts';
import { sameJson } from '../../runtime/status.ts';
import type { TeamSyncOutcome } from './team-conditions.ts';
import { conditionsOnlyStatus, syncedStatus, type SyncedTeam } from './team-status.ts';

const t0 = new Date('2026-11-23T10:00:00Z');
const t1 = new Date('2026-11-23T10:05:00Z');
const team = (status?: Team['status'], generation = 2): Team => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'Team',
  metadata: { name: 'ml', uid: 'uid-1', generation },
  spec: { membershipMode: 'Authoritative', deletionPolicy: 'Delete', groups: ['ml'] },
  status,
});
const outcome: TeamSyncOutcome = {
  teamId: 'ml',
  memberCount: 1,
  pending: [],
  models: [],
  namespaceConflicts: [],
  refusedAdmins: [],
  hasGroups: true,
  held: [],
};
const synced: SyncedTeam = {
  outcome,
  members: [{ user: 'alice', role: 'member', source: 'group:ml' }],
  groups: [{ name: 'ml', state: 'Found', users: 1 }],
};

describe('syncedStatus', () => {
  it('records id, members, groups and conditions at the current generation', () => {
    const status = syncedStatus(team(), synced, t0);
    expect(status).toMatchObject({
      observedGeneration: 2,
      teamId: 'ml',
      memberCount: 1,
      members: [{ user: 'alice', role: 'member', source: 'group:ml' }],
      groups: [{ name: 'ml', state: 'Found', users: 1 }],
    });
    expect(status.models).toBeUndefined();
    expect(status.conditions!.map((c) => c.type)).toEqual([
      'Synced',
      'Ready',
      'NamespaceConflict',
      'RolesSynced',
      'GroupsHeld',
    ]);
  });

  it('is identical when nothing changed, so the status writer writes nothing', () => {
    const first = syncedStatus(team(), synced, t0);
    expect(sameJson(syncedStatus(team(first), synced, t1), first)).toBe(true);
  });

  it("records LiteLLM's spend, and keeps the last one when LiteLLM did not say", () => {
    expect(syncedStatus(team(), { ...synced, spend: '3.25' }, t0).spend).toBe('3.25');
    expect(syncedStatus(team({ spend: '3.25' }), { ...synced, spend: '0' }, t0).spend).toBe('0');
    expect(syncedStatus(team({ spend: '3.25' }), synced, t0).spend).toBe('3.25');
  });

  it('keeps what other controllers own: their conditions', () => {
    const theirs = {
      type: 'SpendSynced',
      status: 'True' as const,
      reason: 'Synced',
      message: '',
      lastTransitionTime: '2026-11-23T09:00:00Z',
    };
    const status = syncedStatus(team({ spend: '12.5', conditions: [theirs] }), synced, t0);
    expect(status.spend).toBe('12.5');
    expect(status.conditions![0]).toEqual(theirs);
  });

  it('drops GroupsHeld and groups once the Team names no groups', () => {
    const before = syncedStatus(team(), synced, t0);
    const after = syncedStatus(
      team(before),
      { ...synced, outcome: { ...outcome, hasGroups: false }, groups: [] },
      t1,
    );
    expect(after.groups).toBeUndefined();
    expect(after.conditions!.some((c) => c.type === 'GroupsHeld')).toBe(false);
  });

  it('keeps the earliest time a group was seen gone (recomputed from a stale copy)', () => {
    const stored = { groups: [{ name: 'ml', state: 'Missing' as const, since: t0.toISOString() }] };
    const status = syncedStatus(
      team(stored),
      { ...synced, groups: [{ name: 'ml', state: 'Missing', users: 0, since: t1.toISOString() }] },
      t1,
    );
    expect(status.groups![0]!.since).toBe(t0.toISOString());
  });
});

describe('conditionsOnlyStatus', () => {
  it('changes conditions and observedGeneration only', () => {
    const before = syncedStatus(team(), synced, t0);
    const failed = conditionsOnlyStatus(
      team(before, 3),
      [{ type: 'Ready', status: 'False', reason: 'LiteLLMUnavailable', message: 'down' }],
      t1,
    );
    expect(failed).toMatchObject({ observedGeneration: 3, members: before.members, teamId: 'ml' });
    expect(failed.conditions!.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'LiteLLMUnavailable',
      lastTransitionTime: '2026-11-23T10:05:00Z',
    });
  });
});
