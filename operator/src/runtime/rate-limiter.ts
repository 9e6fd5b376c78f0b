// How long an item waits before it is retried, shaped like client-go's workqueue rate
// limiters: a per-item exponential backoff for failures (one object failing again and again
// waits longer each time, others are unaffected) combined with an overall token bucket (a
// burst of failures across many objects cannot hammer the API server or LiteLLM). The
// combination takes the longer of the two delays, like DefaultTypedControllerRateLimiter.
import { systemClock, type Clock } from './clock.ts';

export interface RateLimiter<T = string> {
  /** Milliseconds `item` should wait before its next try; counts as one more retry. */
  when(item: T): number;
  /** The item succeeded: start its backoff over. */
  forget(item: T): void;
  /** How many times `when` was asked for `item` since it was last forgotten. */
  retries(item: T): number;
}

export interface ExponentialBackoffOptions {
  /** First delay; each failure doubles it. Default 5 ms. */
  baseDelayMs?: number;
  /** Never wait longer than this. Default 1000 s. */
  maxDelayMs?: number;
  /**
   * Adds up to `jitter × delay` at random (0.1: up to 10 % longer), so many objects that
   * failed together do not retry in lockstep. Default 0 (exact doubling, as client-go).
   */
  jitter?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Per-item exponential failure backoff: base × 2^failures, capped. */
export class ExponentialFailureRateLimiter<T = string> implements RateLimiter<T> {
  readonly #failures = new Map<T, number>();
  readonly #base: number;
  readonly #max: number;
  readonly #jitter: number;
  readonly #random: () => number;

  constructor(options: ExponentialBackoffOptions = {}) {
    this.#base = options.baseDelayMs ?? 5;
    this.#max = options.maxDelayMs ?? 1_000_000;
    this.#jitter = options.jitter ?? 0;
    this.#random = options.random ?? Math.random;
    if (this.#base <= 0 || this.#max < this.#base)
      throw new RangeError('need 0 < baseDelayMs <= maxDelayMs');
  }

  when(item: T): number {
    const failures = this.#failures.get(item) ?? 0;
    this.#failures.set(item, failures + 1);
    // 2^failures overflows to Infinity long after it passed any sane cap; Math.min handles it.
    const delay = Math.min(this.#max, this.#base * 2 ** failures);
    if (this.#jitter <= 0) return delay;
    return Math.min(this.#max, delay * (1 + this.#random() * this.#jitter));
  }

  forget(item: T): void {
    this.#failures.delete(item);
  }

  retries(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

export interface TokenBucketOptions {
  /** Tokens added per second. Default 10. */
  qps?: number;
  /** Bucket size: how many tries may go at once before the rate applies. Default 100. */
  burst?: number;
  clock?: Clock;
}

/**
 * An overall token bucket (golang.org/x/time/rate's reservation semantics): every `when`
 * takes a token; when none is left the caller waits until its token will have been added.
 * The bucket may go negative, so a queue of reservations is served in order.
 */
export class TokenBucketRateLimiter<T = string> implements RateLimiter<T> {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(options: TokenBucketOptions = {}) {
    this.#qps = options.qps ?? 10;
    this.#burst = options.burst ?? 100;
    this.#clock = options.clock ?? systemClock;
    if (this.#qps <= 0 || this.#burst < 1) throw new RangeError('need qps > 0 and burst >= 1');
    this.#tokens = this.#burst;
    this.#last = this.#clock.now();
  }

  when(_item: T): number {
    const now = this.#clock.now();
    const elapsedSeconds = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsedSeconds * this.#qps) - 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }

  /** The bucket is shared, not per item: nothing to forget. */
  forget(_item: T): void {}

  retries(_item: T): number {
    return 0;
  }
}

/** The longest delay of several limiters; retries is the largest count among them. */
export class MaxOfRateLimiter<T = string> implements RateLimiter<T> {
  readonly #limiters: readonly RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.#limiters = limiters;
  }

  when(item: T): number {
    // Every limiter must see the call (each counts it), so no short-circuit.
    return this.#limiters.map((l) => l.when(item)).reduce((a, b) => Math.max(a, b), 0);
  }

  forget(item: T): void {
    for (const l of this.#limiters) l.forget(item);
  }

  retries(item: T): number {
    return this.#limiters.map((l) => l.retries(item)).reduce((a, b) => Math.max(a, b), 0);
  }
}

export interface ControllerRateLimiterOptions
  extends ExponentialBackoffOptions, TokenBucketOptions {}

/** client-go's default for controllers: 5 ms … 1000 s per item, max with 10 qps / burst 100. */
export function defaultControllerRateLimiter<T = string>(
  options: ControllerRateLimiterOptions = {},
): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ExponentialFailureRateLimiter<T>(options),
    new TokenBucketRateLimiter<T>(options),
  );
}
