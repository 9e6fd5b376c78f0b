import { describe, expect, it } from 'vitest';
import type { User } from '../../../../crds/api/index.ts';
import { groupMembersIndex } from './group-members.ts';

const user = (name: string, spec: Partial<User['spec']> = {}) => ({
  metadata: { name },
  spec: { role: 'user' as const, deletionPolicy: 'Delete' as const, ...spec },
});

describe('groupMembersIndex', () => {
  it('maps OpenShift user names onto User objects (by login subject, else by derived name)', () => {
    const index = groupMembersIndex(
      [{ metadata: { name: 'ml' }, users: ['alice', 'Bob@Corp'] }],
      [
        user('alice-renamed', {
          identity: { issuer: 'https://oauth.openshift', subject: 'alice' },
        }),
      ],
    );
    expect(index('ml')).toEqual(['alice-renamed', expect.stringMatching(/^bob-corp-[0-9a-f]{8}$/)]);
  });

  it('adds users whose last login reported the group, without duplicates', () => {
    const index = groupMembersIndex(
      [{ metadata: { name: 'ml' }, users: ['alice'] }],
      [user('alice', { groups: ['ml'] }), user('carol', { groups: ['ml', 'ops'] })],
    );
    expect(index('ml')).toEqual(['alice', 'carol']);
    expect(index('ops')).toEqual(['carol']);
  });

  it('tells a missing OpenShift group (undefined) from an empty one ([])', () => {
    const index = groupMembersIndex([{ metadata: { name: 'empty' }, users: null }], []);
    expect(index('empty')).toEqual([]);
    expect(index('gone')).toBeUndefined();
  });

  it('without a Group API, an unclaimed group is empty, not missing', () => {
    expect(groupMembersIndex(undefined, [])('ml')).toEqual([]);
  });
});
