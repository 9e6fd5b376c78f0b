import { describe, expect, it } from 'vitest';
import { FakeClock } from './fake-clock.ts';
import {
  defaultControllerRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  TokenBucketRateLimiter,
} from './rate-limiter.ts';

describe('ExponentialFailureRateLimiter', () => {
  it('doubles from 5 ms per failure of one item and counts retries', () => {
    const limiter = new ExponentialFailureRateLimiter();
    expect([1, 2, 3, 4].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40]);
    expect(limiter.retries('a')).toBe(4);
  });

  it('keeps items apart: one failing object does not slow another', () => {
    const limiter = new ExponentialFailureRateLimiter();
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(5);
    expect(limiter.retries('b')).toBe(1);
  });

  it('caps at 1000 s by default, even after very many failures', () => {
    const limiter = new ExponentialFailureRateLimiter();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when('a');
    expect(last).toBe(1_000_000);
  });

  it('starts over after forget', () => {
    const limiter = new ExponentialFailureRateLimiter({ baseDelayMs: 100 });
    limiter.when('a');
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.retries('a')).toBe(0);
    expect(limiter.when('a')).toBe(100);
  });

  it('adds jitter of up to jitter × delay, never beyond the cap', () => {
    const limiter = new ExponentialFailureRateLimiter({
      baseDelayMs: 100,
      maxDelayMs: 250,
      jitter: 0.5,
      random: () => 0.999,
    });
    expect(limiter.when('a')).toBeCloseTo(149.95);
    expect(limiter.when('a')).toBe(250); // 200 × 1.4995 capped
    const none = new ExponentialFailureRateLimiter({
      baseDelayMs: 100,
      jitter: 0.5,
      random: () => 0,
    });
    expect(none.when('a')).toBe(100);
  });

  it('rejects a cap below the base delay', () => {
    expect(() => new ExponentialFailureRateLimiter({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(
      RangeError,
    );
  });
});

describe('TokenBucketRateLimiter', () => {
  it('lets a burst through at once, then spaces tries at 1/qps', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter({ qps: 10, burst: 3, clock });
    expect([1, 2, 3].map(() => bucket.when('x'))).toEqual([0, 0, 0]);
    // Reservations queue up: the 4th waits one token (100 ms), the 5th two.
    expect(bucket.when('x')).toBe(100);
    expect(bucket.when('y')).toBe(200);
  });

  it('refills with time, up to the burst', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter({ qps: 10, burst: 2, clock });
    bucket.when('a');
    bucket.when('a');
    clock.advance(10_000); // would be 100 tokens; the bucket holds 2
    expect([bucket.when('a'), bucket.when('a'), bucket.when('a')]).toEqual([0, 0, 100]);
  });

  it('has no per-item state', () => {
    const bucket = new TokenBucketRateLimiter({ clock: new FakeClock() });
    bucket.when('a');
    expect(bucket.retries('a')).toBe(0);
  });
});

describe('MaxOfRateLimiter and the controller default', () => {
  it('takes the longer delay of its limiters and forgets in all of them', () => {
    const a = new ExponentialFailureRateLimiter({ baseDelayMs: 1 });
    const b = new ExponentialFailureRateLimiter({ baseDelayMs: 3 });
    const max = new MaxOfRateLimiter(a, b);
    expect(max.when('k')).toBe(3);
    expect(max.when('k')).toBe(6);
    expect(max.retries('k')).toBe(2);
    max.forget('k');
    expect(a.retries('k') + b.retries('k')).toBe(0);
  });

  it('defaults to 5 ms backoff per item, and the 10 qps bucket once the burst of 100 is spent', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter({ clock });
    expect(limiter.when('first')).toBe(5);
    for (let i = 0; i < 99; i++) limiter.when(`item-${i}`);
    // Bucket empty: a fresh item (backoff 5 ms) now waits for a token, 100 ms.
    expect(limiter.when('late')).toBe(100);
  });
});
