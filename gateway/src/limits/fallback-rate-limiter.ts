// What the request path uses: the Redis limiter while Redis answers, and LIMITS_WHEN_REDIS_DOWN
// when it does not (not connected, or the admission failed or timed out):
//   local   count in this process alone (LocalRateLimiter): limits still hold per instance
//   open    admit without counting: availability over limits
//   closed  refuse (the gateway answers 503): limits over availability
// A request is settled by whoever counted it, so one admitted before an outage still frees
// its Redis slot after, and one counted locally is settled locally when Redis is back.
//
// One warning per outage (the first fallback), one info when Redis answers again; onFallback
// is called for every admission decided without Redis (for a metric).
//
// Budgets are counted in Redis only: while it is down a request is admitted (or refused) as
// the mode says for its limits, its budgets go unchecked and its cost uncharged, and the
// operator's budgetExceeded flag (auth/authenticate.ts) is the only budget that holds.
//
// A Redis admission that timed out may still have been counted there: its slot is then held
// until its lease ends, and the request is counted once more by the fallback. Both err on the
// side of the limit.
import type { Logger } from 'pino';
import {
  BudgetSpent,
  type Admission,
  type AdmissionRequest,
  type RateLimiter,
} from './rate-limiter.ts';

export type RedisDownMode = 'local' | 'open' | 'closed';

export interface FallbackRateLimiterOptions {
  /** A RedisRateLimiter: throws when Redis does not answer. */
  redis: RateLimiter;
  /** A LocalRateLimiter. */
  local: RateLimiter;
  mode: RedisDownMode;
  /** True while the Redis connection is ready; false skips Redis without waiting. */
  isRedisReady: () => boolean;
  logger: Logger;
  onFallback?: ((mode: RedisDownMode) => void) | undefined;
}

export class FallbackRateLimiter implements RateLimiter {
  readonly #redis: RateLimiter;
  readonly #local: RateLimiter;
  readonly #mode: RedisDownMode;
  readonly #isRedisReady: () => boolean;
  readonly #log: Logger;
  readonly #onFallback: ((mode: RedisDownMode) => void) | undefined;
  #outage = false;

  constructor(options: FallbackRateLimiterOptions) {
    this.#redis = options.redis;
    this.#local = options.local;
    this.#mode = options.mode;
    this.#isRedisReady = options.isRedisReady;
    this.#log = options.logger;
    this.#onFallback = options.onFallback;
  }

  get mode(): RedisDownMode {
    return this.#mode;
  }

  /** True from the first admission decided without Redis until one reaches it again. */
  get inOutage(): boolean {
    return this.#outage;
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    // No limits: nothing to count or refuse, whatever Redis's state; what the Redis limiter
    // answers without a round trip ('none' stays reserved for failing open).
    const budgets = request.budgets?.length ?? 0;
    if (request.scopes.length === 0 && budgets === 0) {
      return { allowed: true, statuses: [], countedBy: 'redis' };
    }
    if (!this.#isRedisReady()) return this.#fallback(request, 'Redis is not connected');
    let admission: Admission;
    try {
      admission = await this.#redis.admit(request);
    } catch (err) {
      // Redis answered: a spent budget is a refusal, not an outage.
      if (err instanceof BudgetSpent) {
        this.#redisAnswered();
        throw err;
      }
      return this.#fallback(request, (err as Error).message ?? String(err));
    }
    this.#redisAnswered();
    return admission;
  }

  #redisAnswered(): void {
    if (this.#outage) {
      this.#outage = false;
      this.#log.info('rate limits counted in Redis again');
    }
  }

  async chargeSpend(request: AdmissionRequest, micros: number): Promise<boolean> {
    if (!this.#isRedisReady()) return false;
    return (await this.#redis.chargeSpend?.(request, micros)) ?? false;
  }

  async flush(): Promise<void> {
    await this.#redis.flush?.();
  }

  async settle(
    request: AdmissionRequest,
    tokens: number,
    countedBy: 'redis' | 'local' | 'none',
    window?: number,
  ): Promise<void> {
    if (countedBy === 'redis') await this.#redis.settle(request, tokens, countedBy, window);
    else if (countedBy === 'local') await this.#local.settle(request, tokens, countedBy, window);
  }

  #fallback(request: AdmissionRequest, reason: string): Promise<Admission> | Admission {
    if (!this.#outage) {
      this.#outage = true;
      const then = {
        local: 'counting rate limits in this process alone',
        open: 'admitting requests without rate limits',
        closed: 'refusing requests that have rate limits',
      }[this.#mode];
      this.#log.warn({ reason, mode: this.#mode }, `rate-limit store unavailable: ${then}`);
    }
    this.#onFallback?.(this.#mode);
    switch (this.#mode) {
      case 'local':
        return this.#local.admit(request);
      case 'open':
        return { allowed: true, statuses: [], countedBy: 'none' };
      case 'closed':
        return { allowed: false, unavailable: true };
    }
  }
}
