import { describe, expect, it } from 'vitest';
import { hashKey } from '../../litellm/hash.ts';
import {
  freshMaterial,
  isKeyValue,
  newKeyValue,
  supersede,
  type RecordedKeys,
} from './key-material.ts';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const HOUR = 3_600_000;
const CURRENT = 'c'.repeat(64);
const PREVIOUS = 'p'.repeat(64);
const WRITTEN = 'w'.repeat(64);
const recorded: RecordedKeys = {
  current: { hash: CURRENT, mintedAt: new Date('2026-11-01T00:00:00Z') },
  previous: { hash: PREVIOUS, validUntil: new Date('2026-11-23T10:30:00Z') },
};

describe('newKeyValue / freshMaterial', () => {
  it('makes a 256-bit sk- key and records its hash and mint time', () => {
    const value = newKeyValue();
    expect(value).toMatch(/^sk-[A-Za-z0-9_-]{43}$/);
    expect(isKeyValue(value)).toBe(true);
    const m = freshMaterial(NOW);
    expect(m.hash).toBe(hashKey(m.value));
    expect(m.mintedAt).toBe(NOW);
    expect(m.previous).toBeUndefined();
    expect(freshMaterial(NOW).value).not.toBe(m.value);
  });
});

describe('supersede', () => {
  it('an emptied or deleted Secret revokes the recorded key at once; the previous keeps its grace', () => {
    expect(supersede(recorded, { kind: 'none' }, NOW, HOUR)).toEqual({
      previous: recorded.previous,
      discard: [CURRENT],
    });
  });

  it('a value written by hand: the recorded key works on for the grace period, an older previous goes now', () => {
    expect(supersede(recorded, { kind: 'foreign', hash: WRITTEN }, NOW, HOUR)).toEqual({
      previous: { hash: CURRENT, validUntil: new Date(NOW.getTime() + HOUR) },
      discard: [PREVIOUS],
    });
    const noPrevious = { current: recorded.current };
    expect(supersede(noPrevious, { kind: 'foreign', hash: WRITTEN }, NOW, HOUR)).toEqual({
      previous: { hash: CURRENT, validUntil: new Date(NOW.getTime() + HOUR) },
      discard: [],
    });
  });

  it('the previous value written back keeps the previous as it was; the recorded key nobody holds goes', () => {
    expect(supersede(recorded, { kind: 'foreign', hash: PREVIOUS }, NOW, HOUR)).toEqual({
      previous: recorded.previous,
      discard: [CURRENT],
    });
  });

  it('nothing recorded yet: nothing to keep or delete', () => {
    expect(supersede({}, { kind: 'foreign', hash: WRITTEN }, NOW, HOUR)).toEqual({ discard: [] });
    expect(supersede({}, { kind: 'none' }, NOW, HOUR)).toEqual({ discard: [] });
  });
});
