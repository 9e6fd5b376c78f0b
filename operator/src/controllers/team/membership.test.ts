import { describe, expect, it } from 'vitest';
import { planMembership, type MembershipInput } from './membership.ts';

const everyoneReady = () => true;
const groups = (table: Record<string, string[]>) => (g: string) => table[g] ?? [];

function plan(overrides: Partial<MembershipInput> & { spec: MembershipInput['spec'] }) {
  return planMembership({
    usersInGroup: groups({}),
    isReady: everyoneReady,
    observed: [],
    ...overrides,
  });
}

describe('planMembership', () => {
  it('adds spec members and group users to an empty LiteLLM team, spec role winning', () => {
    const result = plan({
      spec: {
        members: [{ user: 'alice', role: 'admin' }, { user: 'bob' }],
        groups: ['ml'],
        membershipMode: 'Authoritative',
      },
      usersInGroup: groups({ ml: ['alice', 'carol'] }),
    });
    expect(result.members).toEqual([
      { user: 'alice', role: 'admin', source: 'spec, group:ml' },
      { user: 'bob', role: 'member', source: 'spec' },
      { user: 'carol', role: 'member', source: 'group:ml' },
    ]);
    expect(result.add).toEqual([
      { user_id: 'alice', role: 'admin' },
      { user_id: 'bob', role: 'user' },
      { user_id: 'carol', role: 'user' },
    ]);
    expect(result.remove).toEqual([]);
  });

  it('changes nothing when LiteLLM already agrees (the no-change resync)', () => {
    const result = plan({
      spec: {
        members: [{ user: 'alice', role: 'admin' }],
        groups: ['ml'],
        membershipMode: 'Authoritative',
      },
      usersInGroup: groups({ ml: ['bob'] }),
      observed: [
        { user_id: 'alice', role: 'admin' },
        { user_id: 'bob', role: 'user' },
        { user_id: 'default_user_id', role: 'admin' },
      ],
    });
    expect([result.add, result.remove, result.changeRole, result.pending]).toEqual([
      [],
      [],
      [],
      [],
    ]);
  });

  it('Authoritative removes members added behind our back, but never LiteLLM’s own default_user_id', () => {
    const result = plan({
      spec: { members: [{ user: 'alice' }], membershipMode: 'Authoritative' },
      observed: [
        { user_id: 'alice', role: 'user' },
        { user_id: 'mallory', role: 'user' },
        { user_id: 'default_user_id', role: 'admin' },
      ],
    });
    expect(result.remove).toEqual(['mallory']);
    expect(result.members.map((m) => m.user)).toEqual(['alice']);
  });

  it('Additive keeps and reports members added in LiteLLM', () => {
    const result = plan({
      spec: { members: [{ user: 'alice' }], membershipMode: 'Additive' },
      observed: [{ user_id: 'zoe', role: 'admin' }],
    });
    expect(result.remove).toEqual([]);
    expect(result.add).toEqual([{ user_id: 'alice', role: 'user' }]);
    expect(result.members).toContainEqual({ user: 'zoe', role: 'admin', source: 'litellm' });
  });

  it('plans a role change when the spec role differs from LiteLLM', () => {
    const result = plan({
      spec: { members: [{ user: 'alice', role: 'admin' }], membershipMode: 'Authoritative' },
      observed: [{ user_id: 'alice', role: 'user' }],
    });
    expect(result.changeRole).toEqual([{ user_id: 'alice', role: 'admin' }]);
  });

  it('keeps users that are not in LiteLLM yet pending instead of adding them', () => {
    const result = plan({
      spec: { groups: ['ml'], membershipMode: 'Authoritative' },
      usersInGroup: groups({ ml: ['new-hire', 'alice'] }),
      isReady: (u) => u === 'alice',
    });
    expect(result.add).toEqual([{ user_id: 'alice', role: 'user' }]);
    expect(result.pending).toEqual(['new-hire']);
    expect(result.members.map((m) => m.user)).toEqual(['alice', 'new-hire']);
  });

  it('a user leaving the group is removed (access is re-evaluated, never snapshotted)', () => {
    const result = plan({
      spec: { groups: ['ml'], membershipMode: 'Authoritative' },
      usersInGroup: groups({ ml: [] }),
      observed: [{ user_id: 'leaver', role: 'user' }],
    });
    expect(result.remove).toEqual(['leaver']);
  });
});
