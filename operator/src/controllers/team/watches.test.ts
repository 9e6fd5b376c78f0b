import { describe, expect, it } from 'vitest';
import type { ModelSubscription, Team, User } from '../../../../crds/api/index.ts';
import { ObjectStore } from '../../runtime/cache.ts';
import { GROUP_INDEXES, SUBSCRIPTION_INDEXES, TEAM_INDEXES } from '../shared/indexes.ts';
import {
  conflictingTeams,
  groupUsersChanged,
  subscriptionPhaseChanged,
  teamsForGroup,
  teamsForSubscription,
  teamsForUser,
  userMembershipChanged,
  type GroupObject,
  type TeamStores,
} from './watches.ts';

const team = (name: string, spec: Partial<Team['spec']>, status?: Team['status']): Team => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'Team',
  metadata: { name },
  spec: { membershipMode: 'Authoritative', deletionPolicy: 'Delete', ...spec },
  status,
});
const user = (name: string, spec: Partial<User['spec']> = {}, ready = false): User => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'User',
  metadata: { name },
  spec: { role: 'user', deletionPolicy: 'Delete', ...spec },
  status: ready
    ? {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Synced',
            message: '',
            lastTransitionTime: '2026-11-23T10:00:00Z',
          },
        ],
      }
    : undefined,
});
const group = (name: string, users: string[]): GroupObject => ({ metadata: { name }, users });
const names = (requests: readonly { name: string }[]) => requests.map((r) => r.name);

function stores(): TeamStores {
  const s: TeamStores = {
    teams: new ObjectStore<Team>(TEAM_INDEXES),
    users: new ObjectStore<User>(),
    subscriptions: new ObjectStore<ModelSubscription>(SUBSCRIPTION_INDEXES),
    groups: new ObjectStore<GroupObject>(GROUP_INDEXES),
  };
  s.teams.set(
    team('ml', { namespaces: ['apps', 'batch'], members: [{ user: 'alice' }], groups: ['ml-eng'] }),
  );
  s.teams.set(team('nlp', { namespaces: ['apps'], groups: ['/org/nlp'] }));
  s.teams.set(
    team(
      'vision',
      { namespaces: ['cv'] },
      {
        members: [{ user: 'dave', role: 'member', source: 'group:cv-ops' }],
      },
    ),
  );
  s.groups!.set(group('ml-eng', ['bob', 'carol@example.com']));
  return s;
}

describe('Team watches', () => {
  it('maps a User to Teams naming it in spec or status, or one of its groups', () => {
    const s = stores();
    expect(names(teamsForUser(s)(user('alice')))).toEqual(['ml']);
    expect(names(teamsForUser(s)(user('dave')))).toEqual(['vision']);
    expect(names(teamsForUser(s)(user('erin', { groups: ['/org/nlp'] })))).toEqual(['nlp']);
    expect(names(teamsForUser(s)(user('nobody')))).toEqual([]);
  });

  it('maps a User to Teams naming an OpenShift Group it is in, by name or login subject', () => {
    const s = stores();
    expect(names(teamsForUser(s)(user('bob')))).toEqual(['ml']);
    const carol = user('carol-example.com-1a2b3c4d', {
      identity: { issuer: 'https://oauth.example.com', subject: 'carol@example.com' },
    });
    expect(names(teamsForUser(s)(carol))).toEqual(['ml']);
  });

  it('maps a Group to the Teams naming it', () => {
    const s = stores();
    expect(names(teamsForGroup(s)(group('ml-eng', [])))).toEqual(['ml']);
    expect(names(teamsForGroup(s)(group('unused', [])))).toEqual([]);
  });

  it('maps a ModelSubscription to every Team claiming its namespace', () => {
    const s = stores();
    const sub = (namespace: string) =>
      ({
        metadata: { name: 's', namespace },
        spec: { model: 'm', suspended: false },
      }) as ModelSubscription;
    expect(names(teamsForSubscription(s)(sub('batch')))).toEqual(['ml']);
    expect(names(teamsForSubscription(s)(sub('apps')))).toEqual(['ml', 'nlp']);
    expect(names(teamsForSubscription(s)(sub('elsewhere')))).toEqual([]);
  });

  it('maps a Team to the other Teams sharing a namespace with it', () => {
    const s = stores();
    expect(names(conflictingTeams(s)(s.teams.getByName('ml')!))).toEqual(['nlp']);
    expect(names(conflictingTeams(s)(s.teams.getByName('vision')!))).toEqual([]);
  });
});

describe('Team watch predicates', () => {
  it('let a User through when it becomes Ready or its groups or login change', () => {
    expect(userMembershipChanged(user('a'), user('a', {}, true))).toBe(true);
    expect(
      userMembershipChanged(user('a', { groups: ['x', 'y'] }), user('a', { groups: ['y', 'x'] })),
    ).toBe(false);
    expect(
      userMembershipChanged(user('a', { groups: ['x'] }), user('a', { groups: ['x', 'z'] })),
    ).toBe(true);
    expect(userMembershipChanged(user('a', {}, true), user('a', { displayName: 'A' }, true))).toBe(
      false,
    );
  });

  it('let a ModelSubscription through when its phase or owning Team changes', () => {
    const sub = (phase?: 'Active' | 'Pending', team?: string) =>
      ({
        metadata: { name: 's' },
        spec: { model: 'm', suspended: false },
        status: { phase, team },
      }) as ModelSubscription;
    expect(subscriptionPhaseChanged(sub('Pending', 'ml'), sub('Active', 'ml'))).toBe(true);
    expect(subscriptionPhaseChanged(sub('Active', 'ml'), sub('Active', 'nlp'))).toBe(true);
    expect(subscriptionPhaseChanged(sub('Active', 'ml'), sub('Active', 'ml'))).toBe(false);
  });

  it('let a Group through when its users change', () => {
    expect(groupUsersChanged(group('g', ['a', 'b']), group('g', ['b', 'a']))).toBe(false);
    expect(groupUsersChanged(group('g', ['a']), { metadata: { name: 'g' }, users: null })).toBe(
      true,
    );
  });
});
