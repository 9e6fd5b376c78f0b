import { describe, expect, it } from 'vitest';
import type { ModelSubscription, Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import {
  aModelSubscription,
  aTeam,
  aUser,
  aVirtualKey,
} from '../../../../test/fixtures/builders.ts';
import { keyAccess, type AccessInputs } from './key-access.ts';

const NS = 'ml-research';
const T0 = '2026-11-23T10:00:00Z';

const condition = (type: string, status: 'True' | 'False') => ({
  type,
  status,
  reason: status === 'True' ? 'Ok' : 'NotOk',
  message: '',
  lastTransitionTime: T0,
});

/** A Team claiming NS, in LiteLLM (Synced=True, teamId) with `models` on the LiteLLM team. */
const team = (
  name = 'ml',
  status: Team['status'] = {
    teamId: `${name}-id`,
    models: ['granite', 'llama'],
    members: [{ user: 'alice', role: 'member', source: 'spec' }],
    conditions: [condition('Synced', 'True')],
  },
): Team =>
  aTeam(name)
    .with('spec.namespaces', [NS])
    .with('spec.membershipMode', 'Authoritative')
    .with('spec.deletionPolicy', 'Delete')
    .with('status', status)
    .build<Team>();

const subscription = (
  model: string,
  phase: 'Active' | 'Pending' | 'Denied' | 'Suspended' = 'Active',
  teamName = 'ml',
): ModelSubscription =>
  aModelSubscription(model)
    .inNamespace(NS)
    .with('spec.model', model)
    .with('spec.suspended', false)
    .with('status', { phase, team: teamName })
    .build<ModelSubscription>();

const user = (
  name = 'alice',
  status: User['status'] = readyUser(),
  role: User['spec']['role'] = 'user',
): User =>
  aUser(name)
    .with('spec.role', role)
    .with('spec.deletionPolicy', 'Delete')
    .with('status', status)
    .build<User>();

function readyUser(userId?: string): User['status'] {
  return { ...(userId ? { userId } : {}), conditions: [condition('Ready', 'True')] };
}

const key = (spec: Partial<VirtualKey['spec']> = {}): VirtualKey =>
  aVirtualKey('chatbot')
    .inNamespace(NS)
    .with('spec', { requireAllModels: true, suspended: false, ...spec })
    .build<VirtualKey>();

const deleting = <T extends Team | User>(object: T): T => ({
  ...object,
  metadata: { ...object.metadata, deletionTimestamp: new Date(T0), finalizers: ['x'] },
});

function inputs(overrides: Partial<AccessInputs> = {}): AccessInputs {
  return {
    key: key(),
    teams: [team()],
    user: undefined,
    subscriptions: [subscription('granite'), subscription('llama')],
    admissionPolicy: { inForce: true },
    ...overrides,
  };
}

describe('keyAccess: the team', () => {
  it('denies NoTeam when no Team claims the namespace, listing requested models as missing', () => {
    const access = keyAccess(inputs({ teams: [], key: key({ models: ['llama', 'granite'] }) }));
    expect(access.denial?.reason).toBe('NoTeam');
    expect(access.denial?.message).toContain(NS);
    expect(access.team).toBeUndefined();
    expect(access.models).toEqual([]);
    expect(access.missing).toEqual(['granite', 'llama']);
    expect(access.wait).toBeUndefined();
  });

  it('denies NamespaceConflict when two Teams claim the namespace, naming both sorted', () => {
    const access = keyAccess(inputs({ teams: [team('zeta'), team('alpha')] }));
    expect(access.denial?.reason).toBe('NamespaceConflict');
    expect(access.denial?.message).toContain('alpha, zeta');
    expect(access.models).toEqual([]);
    expect(access.team).toBeUndefined();
  });

  it('a Team being deleted counts as none', () => {
    expect(keyAccess(inputs({ teams: [deleting(team())] })).denial?.reason).toBe('NoTeam');
    // …and so does not make a conflict with the one that stays
    const access = keyAccess(inputs({ teams: [deleting(team('old')), team('ml')] }));
    expect(access.denial).toBeUndefined();
    expect(access.team).toEqual({ name: 'ml', teamId: 'ml-id' });
  });

  it('one Team in LiteLLM: its name and teamId, the subscribed models, no denial or wait', () => {
    const access = keyAccess(inputs());
    expect(access).toEqual({
      team: { name: 'ml', teamId: 'ml-id' },
      models: ['granite', 'llama'],
      missing: [],
    });
  });

  it('waits TeamNotReady while the Team is not Synced=True', () => {
    const t = team('ml', { teamId: 'ml-id', models: ['granite', 'llama'] });
    const access = keyAccess(inputs({ teams: [t] }));
    expect(access.wait?.reason).toBe('TeamNotReady');
    expect(access.denial).toBeUndefined();

    const synced = team('ml', {
      teamId: 'ml-id',
      models: ['granite', 'llama'],
      conditions: [condition('Synced', 'False')],
    });
    expect(keyAccess(inputs({ teams: [synced] })).wait?.reason).toBe('TeamNotReady');
  });

  it('waits TeamNotReady while the Team has no status.teamId, even when Synced', () => {
    const t = team('ml', {
      models: ['granite', 'llama'],
      conditions: [condition('Synced', 'True')],
    });
    const access = keyAccess(inputs({ teams: [t] }));
    expect(access.wait?.reason).toBe('TeamNotReady');
    expect(access.team).toEqual({ name: 'ml', teamId: 'ml' });
  });

  it('waits TeamNotReady for a model subscribed but not yet on the LiteLLM team', () => {
    const t = team('ml', {
      teamId: 'ml-id',
      models: ['granite'],
      conditions: [condition('Synced', 'True')],
    });
    const access = keyAccess(inputs({ teams: [t], key: key({ models: ['granite', 'llama'] }) }));
    expect(access.wait?.reason).toBe('TeamNotReady');
    expect(access.wait?.message).toContain('llama');
    expect(access.models).toEqual(['granite']);
    expect(access.missing).toEqual([]);
  });
});

describe('keyAccess: the models', () => {
  it('requireAllModels: a requested model without subscription waits ModelsNotSubscribed', () => {
    const access = keyAccess(inputs({ key: key({ models: ['mistral', 'granite'] }) }));
    expect(access.wait?.reason).toBe('ModelsNotSubscribed');
    expect(access.wait?.message).toContain('mistral');
    expect(access.missing).toEqual(['mistral']);
    expect(access.models).toEqual(['granite']);
    expect(access.denial).toBeUndefined();
  });

  it('requireAllModels false: the subscribed subset, the rest missing, no wait', () => {
    const access = keyAccess(
      inputs({ key: key({ models: ['mistral', 'llama'], requireAllModels: false }) }),
    );
    expect(access.models).toEqual(['llama']);
    expect(access.missing).toEqual(['mistral']);
    expect(access.wait).toBeUndefined();
    expect(access.denial).toBeUndefined();
  });

  it('empty spec.models: every Active subscription of this team, sorted', () => {
    const subscriptions = [subscription('llama'), subscription('granite')];
    expect(keyAccess(inputs({ key: key({ models: [] }), subscriptions })).models).toEqual([
      'granite',
      'llama',
    ]);
    expect(keyAccess(inputs({ key: key(), subscriptions })).models).toEqual(['granite', 'llama']);
  });

  it('ignores subscriptions of another team and those that are not Active', () => {
    const subscriptions = [
      subscription('granite'),
      subscription('llama', 'Active', 'other-team'),
      subscription('mistral', 'Pending'),
      subscription('phi', 'Suspended'),
    ];
    const t = team('ml', {
      teamId: 'ml-id',
      models: ['granite', 'llama', 'mistral', 'phi'],
      conditions: [condition('Synced', 'True')],
    });
    expect(keyAccess(inputs({ teams: [t], subscriptions })).models).toEqual(['granite']);

    const requested = keyAccess(
      inputs({
        teams: [t],
        subscriptions,
        key: key({ models: ['granite', 'llama', 'mistral', 'phi'], requireAllModels: false }),
      }),
    );
    expect(requested.models).toEqual(['granite']);
    expect(requested.missing).toEqual(['llama', 'mistral', 'phi']);
  });

  it('a subscription without status counts as not Active', () => {
    const s = aModelSubscription('granite')
      .inNamespace(NS)
      .with('spec.model', 'granite')
      .build<ModelSubscription>();
    const access = keyAccess(inputs({ subscriptions: [s] }));
    expect(access.models).toEqual([]);
    expect(access.wait?.reason).toBe('NoSubscribedModels');
  });

  it('waits NoSubscribedModels when the team has no Active subscription', () => {
    const access = keyAccess(inputs({ subscriptions: [] }));
    expect(access.wait?.reason).toBe('NoSubscribedModels');
    expect(access.wait?.message).toContain('no Active ModelSubscription');
    expect(access.models).toEqual([]);
  });

  it('waits NoSubscribedModels when none of the requested models is usable', () => {
    const access = keyAccess(
      inputs({ key: key({ models: ['mistral'], requireAllModels: false }) }),
    );
    expect(access.wait?.reason).toBe('NoSubscribedModels');
    expect(access.wait?.message).toContain('none of the requested models');
    expect(access.missing).toEqual(['mistral']);
  });
});

describe('keyAccess: personal keys', () => {
  it('denies UserNotFound when the User does not exist or is being deleted', () => {
    const missing = keyAccess(inputs({ key: key({ user: 'alice' }), user: undefined }));
    expect(missing.denial?.reason).toBe('UserNotFound');
    expect(missing.denial?.message).toContain('alice');
    expect(missing.user).toBeUndefined();

    const gone = keyAccess(inputs({ key: key({ user: 'alice' }), user: deleting(user()) }));
    expect(gone.denial?.reason).toBe('UserNotFound');
  });

  it('waits UserNotReady while the User is not Ready', () => {
    const notReady = user('alice', { conditions: [condition('Ready', 'False')] });
    const access = keyAccess(inputs({ key: key({ user: 'alice' }), user: notReady }));
    expect(access.wait?.reason).toBe('UserNotReady');
    expect(access.denial).toBeUndefined();
    expect(access.user).toEqual({ name: 'alice', userId: 'alice' });

    const noStatus = user('alice', {});
    expect(keyAccess(inputs({ key: key({ user: 'alice' }), user: noStatus })).wait?.reason).toBe(
      'UserNotReady',
    );
  });

  it('denies UserNotMember when the User is not in Team.status.members', () => {
    const bob = user('bob');
    const access = keyAccess(inputs({ key: key({ user: 'bob' }), user: bob }));
    expect(access.denial?.reason).toBe('UserNotMember');
    expect(access.denial?.message).toContain('bob');
    expect(access.denial?.message).toContain('ml');
    expect(access.wait).toBeUndefined();
  });

  it('a member: user id from status.userId, else the User name', () => {
    const pinned = keyAccess(
      inputs({ key: key({ user: 'alice' }), user: user('alice', readyUser('u-123')) }),
    );
    expect(pinned.user).toEqual({ name: 'alice', userId: 'u-123' });
    expect(pinned.denial).toBeUndefined();
    expect(pinned.wait).toBeUndefined();
    expect(pinned.models).toEqual(['granite', 'llama']);

    const unpinned = keyAccess(inputs({ key: key({ user: 'alice' }), user: user('alice') }));
    expect(unpinned.user).toEqual({ name: 'alice', userId: 'alice' });
  });

  it('a service key has no user, whatever user is passed', () => {
    expect(keyAccess(inputs({ user: user('alice') })).user).toBeUndefined();
  });

  it('denies UserRoleCannotHaveKeys for a viewer and for an admin (proxy_admin), whatever else holds', () => {
    for (const role of ['viewer', 'admin'] as const) {
      const access = keyAccess(
        inputs({ key: key({ user: 'alice' }), user: user('alice', readyUser(), role) }),
      );
      expect(access.denial?.reason, role).toBe('UserRoleCannotHaveKeys');
      expect(access.denial?.message).toContain(`role ${role}`);
    }
    // Not ready yet: still denied, not waiting, so a key is never made in between.
    const notReadyAdmin = user('alice', { conditions: [condition('Ready', 'False')] }, 'admin');
    const waiting = keyAccess(inputs({ key: key({ user: 'alice' }), user: notReadyAdmin }));
    expect(waiting.denial?.reason).toBe('UserRoleCannotHaveKeys');
    expect(waiting.wait).toBeUndefined();
    for (const role of ['user', 'manager'] as const) {
      const access = keyAccess(
        inputs({ key: key({ user: 'alice' }), user: user('alice', readyUser(), role) }),
      );
      expect(access.denial, role).toBeUndefined();
    }
  });

  it('denies AdmissionPolicyMissing for every personal key where the API server does not check spec.user', () => {
    const admissionPolicy = { inForce: false as const, why: 'no binding' };
    const access = keyAccess(
      inputs({ key: key({ user: 'alice' }), user: user('alice'), admissionPolicy }),
    );
    expect(access.denial?.reason).toBe('AdmissionPolicyMissing');
    expect(access.denial?.message).toContain('no binding');
    expect(access.denial?.message).toContain('crds/admission/');
    // Service keys do not name anyone: unaffected.
    const service = keyAccess(inputs({ admissionPolicy }));
    expect(service.denial).toBeUndefined();
    expect(service.models).toEqual(['granite', 'llama']);
  });
});
