import { describe, expect, it } from 'vitest';
import { ROUTING_SCHEMA_VERSION, type KeyPolicy } from '../../../contracts/routing/schema.ts';
import { PolicyCache } from './policy-cache.ts';

const hash = (n: number) => n.toString(16).padStart(64, '0');

const policy = (n: number, extra: Partial<KeyPolicy> = {}): KeyPolicy => ({
  schemaVersion: ROUTING_SCHEMA_VERSION,
  keyHash: hash(n),
  owner: { namespace: 'ml-research', name: `key-${n}`, uid: `uid-${n}` },
  team: 'ml-research',
  models: ['granite-3-8b'],
  limits: { subscriptions: {} },
  suspended: false,
  ...extra,
});

/** A cache on a clock the test moves. */
function cacheAt(
  start: number,
  options: { negativeTtlMs?: number; maxEntries?: number; maxNegativeEntries?: number } = {},
) {
  const clock = { now: start };
  const cache = new PolicyCache({
    negativeTtlMs: options.negativeTtlMs ?? 2_000,
    maxEntries: options.maxEntries,
    maxNegativeEntries: options.maxNegativeEntries,
    now: () => clock.now,
  });
  return { cache, clock };
}

describe('PolicyCache', () => {
  it('knows nothing at first', () => {
    const { cache } = cacheAt(0);
    expect(cache.get(hash(1))).toBeUndefined();
    expect(cache.size).toEqual({ found: 0, absent: 0 });
  });

  it('answers a found policy until told otherwise, however much time passes', () => {
    const { cache, clock } = cacheAt(1_000);
    const p = policy(1);
    const entry = cache.setFound(p);
    expect(entry).toEqual({ policy: p, expiresAtMs: Infinity });
    clock.now += 365 * 86_400_000;
    expect(cache.get(hash(1))).toBe(entry);
    expect(cache.get(hash(2))).toBeUndefined();
  });

  it('reads expiresAt as ms since the epoch, whatever the offset', () => {
    const { cache } = cacheAt(0);
    expect(cache.setFound(policy(1, { expiresAt: '2030-01-01T00:00:00Z' })).expiresAtMs).toBe(
      Date.UTC(2030, 0, 1),
    );
    expect(
      cache.setFound(policy(2, { expiresAt: '2030-01-01T02:30:00.250+02:00' })).expiresAtMs,
    ).toBe(Date.UTC(2030, 0, 1, 0, 30, 0, 250));
    // An expired key stays cached: refusing it is authenticate's business.
    const { cache: later } = cacheAt(Date.UTC(2031, 0, 1));
    later.setFound(policy(3, { expiresAt: '2030-01-01T00:00:00Z' }));
    expect(later.get(hash(3))).toMatchObject({ expiresAtMs: Date.UTC(2030, 0, 1) });
  });

  it('answers absent for the negative TTL, then asks again', () => {
    const { cache, clock } = cacheAt(10_000, { negativeTtlMs: 2_000 });
    cache.setAbsent(hash(1));
    expect(cache.get(hash(1))).toBe('absent');
    clock.now = 11_999;
    expect(cache.get(hash(1))).toBe('absent');
    clock.now = 12_000;
    expect(cache.get(hash(1))).toBeUndefined();
    // The expired entry is gone, not just hidden.
    expect(cache.size.absent).toBe(0);
    clock.now = 0;
    expect(cache.get(hash(1))).toBeUndefined();
  });

  it('restarts the negative TTL when a key is found absent again', () => {
    const { cache, clock } = cacheAt(0, { negativeTtlMs: 1_000 });
    cache.setAbsent(hash(1));
    clock.now = 900;
    cache.setAbsent(hash(1));
    clock.now = 1_500;
    expect(cache.get(hash(1))).toBe('absent');
    expect(cache.size.absent).toBe(1);
  });

  it('caches nothing negative with a TTL of 0', () => {
    const { cache } = cacheAt(0, { negativeTtlMs: 0 });
    cache.setAbsent(hash(1));
    expect(cache.get(hash(1))).toBeUndefined();
    expect(cache.size).toEqual({ found: 0, absent: 0 });
  });

  it('forgets a found policy when its key is found absent (even with a TTL of 0)', () => {
    for (const negativeTtlMs of [0, 2_000]) {
      const { cache } = cacheAt(0, { negativeTtlMs });
      cache.setFound(policy(1));
      cache.setAbsent(hash(1));
      expect(cache.get(hash(1))).toBe(negativeTtlMs > 0 ? 'absent' : undefined);
      expect(cache.size.found).toBe(0);
    }
  });

  it('lets a found policy replace an absent entry', () => {
    const { cache } = cacheAt(0);
    cache.setAbsent(hash(1));
    const entry = cache.setFound(policy(1));
    expect(cache.get(hash(1))).toBe(entry);
    expect(cache.size).toEqual({ found: 1, absent: 0 });
  });

  it('replaces a policy with its newer version', () => {
    const { cache } = cacheAt(0);
    cache.setFound(policy(1, { models: ['a'] }));
    cache.setFound(policy(1, { models: ['a', 'b'] }));
    expect(cache.get(hash(1))).toMatchObject({ policy: { models: ['a', 'b'] } });
    expect(cache.size.found).toBe(1);
  });

  it('invalidates one key, found or absent', () => {
    const { cache } = cacheAt(0);
    cache.setFound(policy(1));
    cache.setFound(policy(2));
    cache.setAbsent(hash(3));
    cache.invalidate(hash(1));
    cache.invalidate(hash(3));
    expect(cache.get(hash(1))).toBeUndefined();
    expect(cache.get(hash(3))).toBeUndefined();
    expect(cache.get(hash(2))).toMatchObject({ policy: { keyHash: hash(2) } });
    cache.invalidate(hash(9)); // unknown: nothing happens
    expect(cache.size).toEqual({ found: 1, absent: 0 });
  });

  it('clears everything', () => {
    const { cache } = cacheAt(0);
    cache.setFound(policy(1));
    cache.setAbsent(hash(2));
    cache.clear();
    expect(cache.get(hash(1))).toBeUndefined();
    expect(cache.get(hash(2))).toBeUndefined();
    expect(cache.size).toEqual({ found: 0, absent: 0 });
  });

  it('evicts the oldest found policy beyond its bound', () => {
    const { cache } = cacheAt(0, { maxEntries: 3 });
    for (const n of [1, 2, 3]) cache.setFound(policy(n));
    cache.setFound(policy(1)); // set again: now the newest
    cache.setFound(policy(4));
    expect(cache.size.found).toBe(3);
    expect(cache.get(hash(2))).toBeUndefined();
    for (const n of [1, 3, 4]) expect(cache.get(hash(n)), String(n)).not.toBeUndefined();
  });

  it('evicts the oldest absent key beyond its bound, apart from the found ones', () => {
    const { cache } = cacheAt(0, { maxEntries: 10, maxNegativeEntries: 2 });
    cache.setFound(policy(100));
    for (const n of [1, 2, 3]) cache.setAbsent(hash(n));
    expect(cache.size).toEqual({ found: 1, absent: 2 });
    expect(cache.get(hash(1))).toBeUndefined();
    expect(cache.get(hash(2))).toBe('absent');
    expect(cache.get(hash(3))).toBe('absent');
    expect(cache.get(hash(100))).not.toBeUndefined();
  });

  it('uses the wall clock when given none', () => {
    const cache = new PolicyCache({ negativeTtlMs: 60_000 });
    cache.setAbsent(hash(1));
    expect(cache.get(hash(1))).toBe('absent');
  });
});
