import { describe, expect, it } from 'vitest';
import { resolveGroup } from './group-grace.ts';

const hour = 3_600_000;
const t0 = new Date('2026-11-23T10:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);
const previous = {
  groups: [{ name: 'ml', state: 'Found' as const, users: 2 }],
  members: [
    { user: 'alice', role: 'member' as const, source: 'spec, group:ml' },
    { user: 'bob', role: 'member' as const, source: 'group:ml' },
    { user: 'carol', role: 'member' as const, source: 'group:other' },
  ],
};

describe('resolveGroup', () => {
  it('follows a group that has users', () => {
    expect(resolveGroup('ml', ['bob', 'dave'], previous, t0, hour)).toEqual({
      users: ['bob', 'dave'],
      status: { name: 'ml', state: 'Found', users: 2 },
    });
  });

  it('keeps the former users of a group that emptied, until the grace period ends', () => {
    const held = resolveGroup('ml', [], previous, t0, hour);
    expect(held.users).toEqual(['alice', 'bob']);
    expect(held.status).toEqual({ name: 'ml', state: 'Empty', users: 0, since: t0.toISOString() });
    expect(held.holdUntil).toEqual(later(hour));
  });

  it('counts the grace period from when the group first vanished, across reconciles and restarts', () => {
    const first = resolveGroup('ml', undefined, previous, t0, hour);
    const afterRestart = { ...previous, groups: [first.status] };
    const stillHeld = resolveGroup('ml', undefined, afterRestart, later(hour - 1), hour);
    expect(stillHeld.users).toEqual(['alice', 'bob']);
    expect(stillHeld.status.since).toBe(t0.toISOString());
    const over = resolveGroup('ml', undefined, afterRestart, later(hour), hour);
    expect(over.users).toEqual([]);
    expect(over.holdUntil).toBeUndefined();
    expect(over.status.state).toBe('Missing');
  });

  it('starts a new grace period when a group that came back vanishes again', () => {
    const back = resolveGroup(
      'ml',
      ['alice'],
      { ...previous, groups: [{ name: 'ml', state: 'Missing', since: '2020-01-01T00:00:00Z' }] },
      t0,
      hour,
    );
    expect(back.status).toEqual({ name: 'ml', state: 'Found', users: 1 });
    const again = resolveGroup(
      'ml',
      [],
      { ...previous, groups: [back.status] },
      later(5 * hour),
      hour,
    );
    expect(again.status.since).toBe(later(5 * hour).toISOString());
    expect(again.users).toEqual(['alice', 'bob']);
  });

  it('a group never seen with users has nobody to hold', () => {
    const result = resolveGroup('new', [], undefined, t0, hour);
    expect(result.users).toEqual([]);
    expect(result.holdUntil).toBeUndefined();
  });
});
