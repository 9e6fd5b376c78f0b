import { describe, expect, it } from 'vitest';
import {
  hasOwnerMetadata,
  holderOf,
  INSTALLATION_KEY,
  mergeOwnerMetadata,
  ofAnotherInstallation,
  ownerMetadata,
  ownershipOf,
  type OwnerRef,
} from './ownership.ts';
import { withReleasedMark } from './released.ts';

const owner: OwnerRef = { kind: 'Team', name: 'ml', uid: 'uid-1', installation: 'install-a' };
const theirs = (extra: Partial<OwnerRef> = {}) =>
  ownerMetadata({ ...owner, installation: 'install-b', ...extra });
/** What an operator wrote before installation ids existed. */
const legacy = (extra: Partial<OwnerRef> = {}) => {
  const { [INSTALLATION_KEY]: _none, ...rest } = ownerMetadata({ ...owner, ...extra });
  return rest;
};

describe('ownershipOf', () => {
  it('ours, and a previous incarnation of ours, by name and uid within this installation', () => {
    expect(ownershipOf(ownerMetadata(owner), owner)).toBe('ours');
    expect(ownershipOf(ownerMetadata({ ...owner, uid: 'uid-0' }), owner)).toBe(
      'previous-incarnation',
    );
  });

  it("never takes another installation's object, not even one of the same name", () => {
    expect(ownershipOf(theirs(), owner)).toBe('other-owner');
    expect(ownershipOf(theirs({ uid: 'uid-0' }), owner)).toBe('other-owner');
    expect(ofAnotherInstallation(theirs(), 'install-a')).toBe(true);
  });

  it("adopts another installation's object by name once it released it (deletionPolicy Orphan)", () => {
    const released = withReleasedMark(theirs({ uid: 'uid-0' }));
    expect(ofAnotherInstallation(released, 'install-a')).toBe(false);
    expect(ownershipOf(released, owner)).toBe('previous-incarnation');
    expect(ownershipOf(withReleasedMark(theirs({ name: 'other' })), owner)).toBe('other-owner');
  });

  it('judges an object made before installation ids by name and uid, and claims it (metadata stale)', () => {
    expect(ownershipOf(legacy(), owner)).toBe('ours');
    expect(ownershipOf(legacy({ uid: 'uid-0' }), owner)).toBe('previous-incarnation');
    expect(ownershipOf(legacy({ name: 'other' }), owner)).toBe('other-owner');
    expect(ofAnotherInstallation(legacy(), 'install-a')).toBe(false);
    expect(hasOwnerMetadata(legacy(), owner)).toBe(false);
    expect(mergeOwnerMetadata({ ...legacy(), note: 'x' }, owner)).toEqual({
      ...ownerMetadata(owner),
      note: 'x',
    });
  });

  it('leaves unmanaged objects unmanaged, whatever installation key they carry', () => {
    expect(ownershipOf({ [INSTALLATION_KEY]: 'install-a' }, owner)).toBe('unmanaged');
    expect(ofAnotherInstallation({ [INSTALLATION_KEY]: 'install-b' }, 'install-a')).toBe(false);
  });
});

describe('holderOf', () => {
  it('names the owner, and the installation when it is another', () => {
    expect(holderOf(ownerMetadata(owner), 'install-a')).toBe('Team/ml (uid uid-1)');
    expect(holderOf(theirs(), 'install-a')).toBe(
      'Team/ml (uid uid-1) of another llm-tenancy installation (install-b)',
    );
  });
});
