// The same limits counted in this process alone, for while Redis is unreachable
// (LIMITS_WHEN_REDIS_DOWN=local). Same semantics as the Redis scripts: fixed 60-second
// windows (on the local clock), check every scope before counting in any, tokens reserved at
// admission and settled to the real usage in the reservation's window, parallel slots held
// until settle or lease end. Each instance counts only its own
// requests, so with N instances a scope may get up to N times its limit during an outage.
//
// Memory stays bounded by what is live: counters of ended windows are dropped at the first
// admission of a new window, and an inflight set goes when its last slot is freed or expires.
import { scopeBaseKey, windowOf } from './limit-keys.ts';
import { toAdmission, type ScopeCounts } from './limit-decision.ts';
import type {
  Admission,
  AdmissionRequest,
  LimitKind,
  LimitScope,
  RateLimiter,
} from './rate-limiter.ts';

export interface LocalRateLimiterOptions {
  /** How long a parallel slot is held when its request never settles. */
  leaseMs: number;
  /** ms since the epoch; injectable for tests. */
  now?: (() => number) | undefined;
}

interface WindowCounts {
  window: number;
  requests: number;
  tokens: number;
}

export class LocalRateLimiter implements RateLimiter {
  readonly #leaseMs: number;
  readonly #now: () => number;
  /** scope name → its counts in the window they were last touched in. */
  readonly #windows = new Map<string, WindowCounts>();
  /** scope name → requestId → lease end (ms). */
  readonly #inflight = new Map<string, Map<string, number>>();
  #sweptWindow = -1;

  constructor(options: LocalRateLimiterOptions) {
    if (!(options.leaseMs > 0)) throw new Error('leaseMs must be positive');
    this.#leaseMs = options.leaseMs;
    this.#now = options.now ?? Date.now;
  }

  /** Scopes holding counters or slots now (for tests and a gauge). */
  get trackedScopes(): number {
    return new Set([...this.#windows.keys(), ...this.#inflight.keys()]).size;
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    const nowMs = this.#now();
    const window = windowOf(nowMs);
    this.#sweep(window, nowMs);
    const names = request.scopes.map((s) => name(request.team, s));
    const reserve = tokenCount(request.reserveTokens ?? 0);

    // Check every scope first; count only when all have room.
    const counts: ScopeCounts[] = [];
    let refused: { scope: number; limit: LimitKind } | undefined;
    request.scopes.forEach((scope, i) => {
      const current = this.#windows.get(names[i]!);
      const inWindow = current?.window === window ? current : undefined;
      const slots = this.#slots(names[i]!, nowMs);
      const count = {
        requests: inWindow?.requests ?? 0,
        tokens: inWindow?.tokens ?? 0,
        parallel: slots?.size ?? 0,
      };
      counts.push(count);
      if (refused) return;
      const full = fullLimit(scope, count, reserve);
      if (full) refused = { scope: i, limit: full };
    });

    if (!refused) {
      request.scopes.forEach((scope, i) => {
        if (scope.rpm !== undefined)
          counts[i]!.requests = ++this.#counts(names[i]!, window).requests;
        if (scope.tpm !== undefined && reserve > 0) {
          counts[i]!.tokens = this.#counts(names[i]!, window).tokens += reserve;
        }
        if (scope.maxParallelRequests !== undefined) {
          let slots = this.#inflight.get(names[i]!);
          if (!slots) this.#inflight.set(names[i]!, (slots = new Map()));
          slots.set(request.requestId, nowMs + this.#leaseMs);
          counts[i]!.parallel = slots.size;
        }
      });
    }
    return toAdmission({ scopes: request.scopes, counts, nowMs, refused, countedBy: 'local' });
  }

  async settle(
    request: AdmissionRequest,
    tokens: number,
    countedBy: 'redis' | 'local' | 'none',
    window?: number,
  ): Promise<void> {
    if (countedBy !== 'local') return;
    const current = windowOf(this.#now());
    const delta = tokenCount(tokens) - tokenCount(request.reserveTokens ?? 0);
    // As the Redis script: a refund to the reservation's window, a debit beyond it to the
    // current window once that one has ended (an ended window is no longer kept here).
    const at = window === undefined || (delta > 0 && window < current) ? current : window;
    for (const scope of request.scopes) {
      const scopeName = name(request.team, scope);
      if (scope.tpm !== undefined && delta !== 0) {
        const counts = this.#windows.get(scopeName);
        if (counts?.window === at) counts.tokens = Math.max(0, counts.tokens + delta);
        else if (delta > 0 && at === current) this.#counts(scopeName, at).tokens += delta;
      }
      const slots = this.#inflight.get(scopeName);
      if (slots?.delete(request.requestId) && slots.size === 0) this.#inflight.delete(scopeName);
    }
  }

  /** This window's counts of a scope, created (or restarted) when needed. */
  #counts(scopeName: string, window: number): WindowCounts {
    let counts = this.#windows.get(scopeName);
    if (counts?.window !== window) {
      counts = { window, requests: 0, tokens: 0 };
      this.#windows.set(scopeName, counts);
    }
    return counts;
  }

  /** A scope's live slots, after dropping the expired ones. */
  #slots(scopeName: string, nowMs: number): Map<string, number> | undefined {
    const slots = this.#inflight.get(scopeName);
    if (!slots) return undefined;
    for (const [id, leaseEnd] of slots) if (leaseEnd <= nowMs) slots.delete(id);
    if (slots.size > 0) return slots;
    this.#inflight.delete(scopeName);
    return undefined;
  }

  /** Once per window: forget ended windows and expired slots of every scope. */
  #sweep(window: number, nowMs: number): void {
    if (window === this.#sweptWindow) return;
    this.#sweptWindow = window;
    for (const [scopeName, counts] of this.#windows) {
      if (counts.window < window) this.#windows.delete(scopeName);
    }
    for (const scopeName of this.#inflight.keys()) this.#slots(scopeName, nowMs);
  }
}

/** The scope's Redis base name without a prefix: one naming scheme for both stores. */
function name(team: string, scope: LimitScope): string {
  return scopeBaseKey('', team, scope.kind, scope.id);
}

function fullLimit(scope: LimitScope, count: ScopeCounts, reserve: number): LimitKind | undefined {
  if (scope.rpm !== undefined && count.requests >= scope.rpm) return 'requests';
  if (
    scope.tpm !== undefined &&
    (count.tokens >= scope.tpm || count.tokens + reserve > scope.tpm)
  ) {
    return 'tokens';
  }
  if (scope.maxParallelRequests !== undefined && count.parallel >= scope.maxParallelRequests) {
    return 'parallel';
  }
  return undefined;
}

/** A token count as the Redis scripts take it: a whole number, 0 for anything else. */
function tokenCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}
