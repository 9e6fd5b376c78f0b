import { describe, expect, it } from 'vitest';
import { INSTALLATION_KEY, ownerMetadata } from '../shared/ownership.ts';
import { withReleasedMark } from '../shared/released.ts';
import {
  orphanVerdict,
  parseOwnerName,
  selectOrphans,
  type LiteLLMObject,
  type OwnerName,
  type Owners,
} from './orphan-selection.ts';

/** Owners as the caches would know them: kind → objects by key, with uids. */
function ownersOf(objects: Record<string, { key: string; uid: string }[]>): Owners {
  const keyOf = (o: OwnerName) => [o.namespace, o.name].filter(Boolean).join('/');
  return {
    watches: (kind) => kind in objects,
    exists: (owner) => (objects[owner.kind] ?? []).some((o) => o.key === keyOf(owner)),
    uidExists: (kind, uid) => (objects[kind] ?? []).some((o) => o.uid === uid),
  };
}

const team = (id: string, metadata: LiteLLMObject['metadata']): LiteLLMObject => ({
  kind: 'team',
  id,
  metadata,
});
const INSTALLATION = 'install-a';
const ours = (kind: string, name: string, uid: string, namespace?: string) =>
  ownerMetadata({ kind, name, uid, namespace, installation: INSTALLATION });
/** Made before installation ids existed. */
const legacy = (kind: string, name: string, uid: string) => {
  const { [INSTALLATION_KEY]: _none, ...rest } = ours(kind, name, uid);
  return rest;
};

describe('orphanVerdict', () => {
  const owners = ownersOf({
    Team: [{ key: 'alive', uid: 'uid-alive' }],
    User: [{ key: 'alice', uid: 'uid-alice' }],
  });

  it('finds an object of ours whose owner is gone by name and by uid', () => {
    expect(
      orphanVerdict(team('gone', ours('Team', 'gone', 'uid-gone')), owners, INSTALLATION),
    ).toEqual({
      orphan: true,
      owner: { kind: 'Team', name: 'gone' },
      ownerUid: 'uid-gone',
    });
  });

  it.each([
    ['objects without our metadata', team('x', { team_member_budget_id: 'b' }), 'unmanaged'],
    ['objects without metadata at all', team('x', null), 'unmanaged'],
    [
      'another managed-by value',
      team('x', { 'llmtenancy.dev/managed-by': 'someone-else' }),
      'unmanaged',
    ],
    ['objects whose owner exists', team('alive', ours('Team', 'alive', 'uid-old')), 'owner-exists'],
    [
      'objects whose owner uid exists under another name',
      team('y', ours('Team', 'renamed', 'uid-alive')),
      'owner-exists',
    ],
    ['released objects', team('z', withReleasedMark(ours('Team', 'gone', 'uid-gone'))), 'released'],
    [
      "another installation's objects, even with their owner gone",
      team('gone', { ...ours('Team', 'gone', 'uid-gone'), [INSTALLATION_KEY]: 'install-b' }),
      'other-installation',
    ],
    [
      'objects made before installation ids whose owner exists',
      team('alive', legacy('Team', 'alive', 'uid-alive')),
      'owner-exists',
    ],
    [
      'unreadable owners',
      team('z', { ...ours('Team', 'x', 'u'), 'llmtenancy.dev/owner': 'Team' }),
      'unreadable-owner',
    ],
    [
      'owners of kinds nobody watches',
      team('k', ours('VirtualKey', 'key', 'u', 'ns')),
      'unwatched-kind',
    ],
  ])('keeps %s', (_what, object, why) => {
    expect(orphanVerdict(object, owners, INSTALLATION)).toEqual({ orphan: false, why });
  });

  it('keeps, as unclaimed, an object made before installation ids whose owner is gone', () => {
    expect(
      orphanVerdict(team('gone', legacy('Team', 'gone', 'uid-gone')), owners, INSTALLATION),
    ).toEqual({
      orphan: false,
      why: 'unclaimed',
      owner: { kind: 'Team', name: 'gone' },
    });
  });
});

describe('selectOrphans', () => {
  it('returns only the orphans, users and teams alike', () => {
    const owners = ownersOf({ Team: [], User: [{ key: 'alice', uid: 'uid-alice' }] });
    const objects: LiteLLMObject[] = [
      team('gone', ours('Team', 'gone', 'uid-gone')),
      { kind: 'user', id: 'alice', metadata: ours('User', 'alice', 'uid-alice') },
      { kind: 'user', id: 'bob', metadata: ours('User', 'bob', 'uid-bob') },
      { kind: 'user', id: 'carol', metadata: {} },
    ];
    objects.push(
      team('theirs', { ...ours('Team', 'theirs', 'uid-theirs'), [INSTALLATION_KEY]: 'install-b' }),
      team('old', legacy('Team', 'old', 'uid-old')),
    );
    const { orphans, unclaimed } = selectOrphans(objects, owners, INSTALLATION);
    expect(orphans.map((o) => `${o.object.kind}/${o.object.id}`)).toEqual([
      'team/gone',
      'user/bob',
    ]);
    expect(unclaimed.map((o) => o.id)).toEqual(['old']);
  });
});

describe('parseOwnerName', () => {
  it.each([
    ['Team/ml', { kind: 'Team', name: 'ml' }],
    ['VirtualKey/ns/key', { kind: 'VirtualKey', namespace: 'ns', name: 'key' }],
    ['Team', undefined],
    ['Team//x', undefined],
    ['a/b/c/d', undefined],
    [42, undefined],
  ])('reads %s', (value, owner) => {
    expect(parseOwnerName(value)).toEqual(owner);
  });
});
