import { describe, expect, it } from 'vitest';
import type { ModelSubscription, Team } from '../../../../crds/api/index.ts';
import { ObjectStore } from '../../runtime/cache.ts';
import { SUBSCRIPTION_INDEXES, TEAM_INDEXES } from '../shared/indexes.ts';
import {
  allSubscriptions,
  claimingTeams,
  subscriptionChanged,
  subscriptionsForTeam,
  teamApprovalChanged,
  type SubscriptionStores,
} from './watches.ts';

const team = (name: string, spec: Partial<Team['spec']>, deleting = false): Team => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'Team',
  metadata: {
    name,
    generation: 1,
    ...(deleting ? { deletionTimestamp: new Date('2026-11-23T10:00:00Z') } : {}),
  },
  spec: { membershipMode: 'Authoritative', deletionPolicy: 'Delete', ...spec },
});
const subscription = (
  namespace: string,
  name: string,
  status?: ModelSubscription['status'],
  generation = 1,
): ModelSubscription => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'ModelSubscription',
  metadata: { name, namespace, generation },
  spec: { model: 'granite-3-8b', suspended: false },
  status,
});
const keys = (requests: readonly { namespace?: string; name: string }[]) =>
  requests.map((r) => `${r.namespace}/${r.name}`).sort();

function stores(): SubscriptionStores {
  const s: SubscriptionStores = {
    subscriptions: new ObjectStore<ModelSubscription>(SUBSCRIPTION_INDEXES),
    teams: new ObjectStore<Team>(TEAM_INDEXES),
  };
  s.teams.set(team('ml', { namespaces: ['apps', 'batch'], models: ['*'] }));
  s.teams.set(team('nlp', { namespaces: ['apps'] }));
  s.teams.set(team('gone', { namespaces: ['old'] }, true));
  s.subscriptions.set(subscription('apps', 'granite'));
  s.subscriptions.set(subscription('apps', 'llama'));
  s.subscriptions.set(subscription('batch', 'granite'));
  s.subscriptions.set(subscription('other', 'granite'));
  return s;
}

describe('claimingTeams', () => {
  it('finds the Teams claiming a namespace, by name, without those being deleted', () => {
    const s = stores();
    expect(claimingTeams(s, 'apps').map((t) => t.metadata.name)).toEqual(['ml', 'nlp']);
    expect(claimingTeams(s, 'batch').map((t) => t.metadata.name)).toEqual(['ml']);
    expect(claimingTeams(s, 'old')).toEqual([]);
    expect(claimingTeams(s, 'nowhere')).toEqual([]);
  });
});

describe('subscriptionsForTeam', () => {
  it('maps a Team to every subscription in its namespaces', () => {
    const s = stores();
    expect(keys(subscriptionsForTeam(s)(s.teams.getByName('ml')!))).toEqual([
      'apps/granite',
      'apps/llama',
      'batch/granite',
    ]);
    expect(keys(subscriptionsForTeam(s)(team('none', {})))).toEqual([]);
  });

  it('lists every subscription for a catalog change', () => {
    expect(keys(allSubscriptions(stores()))).toHaveLength(4);
  });
});

describe('teamApprovalChanged', () => {
  const before = team('ml', { namespaces: ['a', 'b'], models: ['x', 'y'] });
  it.each([
    ['namespaces', team('ml', { namespaces: ['a'], models: ['x', 'y'] })],
    ['models', team('ml', { namespaces: ['a', 'b'], models: ['x'] })],
    ['"*"', team('ml', { namespaces: ['a', 'b'], models: ['*'] })],
    ['deletion', team('ml', { namespaces: ['a', 'b'], models: ['x', 'y'] }, true)],
  ])('passes a change of %s', (_what, after) => {
    expect(teamApprovalChanged(before, after)).toBe(true);
  });

  it('drops what cannot change a subscription: order, members, limits, status', () => {
    const after = team('ml', {
      namespaces: ['b', 'a'],
      models: ['y', 'x'],
      members: [{ user: 'alice' }],
      limits: { rpm: 5 },
    });
    expect(teamApprovalChanged(before, { ...after, status: { memberCount: 1 } })).toBe(false);
  });
});

describe('subscriptionChanged', () => {
  const active = { phase: 'Active' as const, team: 'ml' };
  it('passes spec changes, and phase or team changes (ours, or undoing others)', () => {
    expect(
      subscriptionChanged(subscription('a', 's', active, 1), subscription('a', 's', active, 2)),
    ).toBe(true);
    expect(
      subscriptionChanged(
        subscription('a', 's', active),
        subscription('a', 's', { ...active, phase: 'Pending' }),
      ),
    ).toBe(true);
    expect(
      subscriptionChanged(
        subscription('a', 's', active),
        subscription('a', 's', { ...active, team: 'x' }),
      ),
    ).toBe(true);
  });

  it('drops other status changes', () => {
    expect(
      subscriptionChanged(
        subscription('a', 's', active),
        subscription('a', 's', { ...active, modelInfo: { mode: 'chat' }, observedGeneration: 1 }),
      ),
    ).toBe(false);
  });
});
