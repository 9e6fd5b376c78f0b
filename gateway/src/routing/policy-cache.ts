// The gateway's in-process copy of the KeyPolicies it has needed, plus the keys it found
// unknown (for a short time, so a flood of bad keys costs one Redis read per key, not per
// request). Entries never expire on their own: pub/sub invalidation removes a changed key, and
// a cached key keeps working while Redis is unreachable. Both maps are bounded; the oldest
// insertion goes first (a Map iterates in insertion order), which is cheap and good enough
// when the bound is far above the number of active keys.
import type { KeyPolicy } from '../../../contracts/routing/schema.ts';

export interface CachedPolicy {
  policy: KeyPolicy;
  /** expiresAt as ms since the epoch; Infinity when the key never expires. */
  expiresAtMs: number;
}

/** A policy as the cache holds it: its expiry parsed once. */
export function cachedPolicy(policy: KeyPolicy): CachedPolicy {
  return { policy, expiresAtMs: policy.expiresAt ? Date.parse(policy.expiresAt) : Infinity };
}

export interface PolicyCacheOptions {
  /** How long an unknown key is answered from memory. */
  negativeTtlMs: number;
  maxEntries?: number;
  maxNegativeEntries?: number;
  now?: () => number;
}

export class PolicyCache {
  readonly #found = new Map<string, CachedPolicy>();
  /** key hash → until (ms). */
  readonly #absent = new Map<string, number>();
  readonly #negativeTtlMs: number;
  readonly #maxEntries: number;
  readonly #maxNegative: number;
  readonly #now: () => number;

  constructor(options: PolicyCacheOptions) {
    this.#negativeTtlMs = options.negativeTtlMs;
    this.#maxEntries = options.maxEntries ?? 200_000;
    this.#maxNegative = options.maxNegativeEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** A cached policy, 'absent' for a key recently found unknown, or undefined (ask Redis). */
  get(hash: string): CachedPolicy | 'absent' | undefined {
    const found = this.#found.get(hash);
    if (found) return found;
    const until = this.#absent.get(hash);
    if (until === undefined) return undefined;
    if (until > this.#now()) return 'absent';
    this.#absent.delete(hash);
    return undefined;
  }

  setFound(policy: KeyPolicy): CachedPolicy {
    const entry = cachedPolicy(policy);
    this.#absent.delete(policy.keyHash);
    this.#found.delete(policy.keyHash);
    this.#found.set(policy.keyHash, entry);
    evictOldest(this.#found, this.#maxEntries);
    return entry;
  }

  setAbsent(hash: string): void {
    this.#found.delete(hash);
    if (this.#negativeTtlMs <= 0) return;
    this.#absent.delete(hash);
    this.#absent.set(hash, this.#now() + this.#negativeTtlMs);
    evictOldest(this.#absent, this.#maxNegative);
  }

  /** Forget `hash` (its record changed or went away): the next request reads Redis. */
  invalidate(hash: string): void {
    this.#found.delete(hash);
    this.#absent.delete(hash);
  }

  /** The cached policies, oldest first. */
  foundEntries(): IterableIterator<CachedPolicy> {
    return this.#found.values();
  }

  clear(): void {
    this.#found.clear();
    this.#absent.clear();
  }

  get size(): { found: number; absent: number } {
    return { found: this.#found.size, absent: this.#absent.size };
  }
}

function evictOldest(map: Map<string, unknown>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    map.delete(oldest.value);
  }
}
