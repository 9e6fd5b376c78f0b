import { describe, expect, it } from 'vitest';
import type { Team } from '../../../../crds/api/index.ts';
import { AdminRefusals } from './admin-refusals.ts';
import { knownRefusedAdmins, listMembers, membersInSync } from './member-sync.ts';
import type { MembershipPlan } from './membership.ts';

const team = { metadata: { name: 'ml', uid: 'uid-1', generation: 2 } } as Team;
const plan = (overrides: Partial<MembershipPlan> = {}): MembershipPlan => ({
  members: [],
  pending: [],
  add: [],
  remove: [],
  changeRole: [],
  ...overrides,
});

describe('membersInSync', () => {
  it('is true for a plan with nothing to do', () => {
    expect(membersInSync(plan(), team, new AdminRefusals())).toBe(true);
    expect(knownRefusedAdmins(plan(), team, new AdminRefusals())).toEqual([]);
  });

  it('is false while a member is to be added, removed or given another role', () => {
    const refusals = new AdminRefusals();
    expect(membersInSync(plan({ add: [{ user_id: 'a', role: 'user' }] }), team, refusals)).toBe(
      false,
    );
    expect(membersInSync(plan({ remove: ['a'] }), team, refusals)).toBe(false);
    expect(
      membersInSync(plan({ changeRole: [{ user_id: 'a', role: 'admin' }] }), team, refusals),
    ).toBe(false);
  });

  it('takes an admin role LiteLLM refused at this generation as settled, and names it', () => {
    const refusals = new AdminRefusals();
    refusals.add('uid-1', 2, 'bob');
    refusals.add('uid-1', 2, 'alice');
    const refused = plan({
      changeRole: [
        { user_id: 'bob', role: 'admin' },
        { user_id: 'alice', role: 'admin' },
      ],
    });
    expect(membersInSync(refused, team, refusals)).toBe(true);
    expect(knownRefusedAdmins(refused, team, refusals)).toEqual(['alice', 'bob']);

    // A new generation asks LiteLLM again.
    const edited = { metadata: { ...team.metadata, generation: 3 } } as Team;
    expect(membersInSync(refused, edited, refusals)).toBe(false);
  });

  it('never takes a demotion as settled: LiteLLM is asked to make the member a member', () => {
    const refusals = new AdminRefusals();
    refusals.add('uid-1', 2, 'bob');
    expect(
      membersInSync(plan({ changeRole: [{ user_id: 'bob', role: 'user' }] }), team, refusals),
    ).toBe(false);
  });
});

describe('listMembers', () => {
  it('names each member with its role', () => {
    expect(
      listMembers([
        { user_id: 'alice', role: 'admin' },
        { user_id: 'bob', role: 'user' },
      ]),
    ).toBe('alice (admin), bob (member)');
  });
});
