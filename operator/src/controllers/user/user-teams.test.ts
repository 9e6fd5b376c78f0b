import { describe, expect, it } from 'vitest';
import type { Team } from '../../../../crds/api/index.ts';
import { aTeam } from '../../../../test/fixtures/builders.ts';
import { memberRequests, membersChanged, teamsOf } from './user-teams.ts';

const withMembers = (name: string, users: string[]): Team =>
  aTeam(name)
    .with(
      'status.members',
      users.map((user) => ({ user, role: 'member', source: 'spec' })),
    )
    .build<Team>();

describe('teamsOf', () => {
  it('lists the Teams whose status names the user, sorted', () => {
    const teams = [
      withMembers('zeta', ['alice']),
      withMembers('alpha', ['bob', 'alice']),
      withMembers('beta', ['bob']),
      aTeam('no-status').build<Team>(),
    ];
    expect(teamsOf('alice', teams)).toEqual(['alpha', 'zeta']);
    expect(teamsOf('carol', teams)).toEqual([]);
  });
});

describe('memberRequests and membersChanged', () => {
  it('enqueues every member, and only when the member list moved', () => {
    const before = withMembers('ml', ['alice']);
    const after = withMembers('ml', ['alice', 'bob']);
    expect(memberRequests(after)).toEqual([{ name: 'alice' }, { name: 'bob' }]);
    expect(membersChanged(before, after)).toBe(true);
    expect(membersChanged(after, structuredClone(after))).toBe(false);
    expect(memberRequests(aTeam('empty').build<Team>())).toEqual([]);
  });
});
