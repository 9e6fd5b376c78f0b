import { describe, expect, it } from 'vitest';
import { reconnectDelay } from './routing-redis.ts';

describe('reconnectDelay', () => {
  it('doubles from 100 ms and stops at the cap', () => {
    const none = () => 0;
    expect([1, 2, 3, 4, 8, 50].map((n) => reconnectDelay(n, 5_000, none))).toEqual([
      100, 200, 400, 800, 5_000, 5_000,
    ]);
  });

  it('adds at most 10 % jitter', () => {
    expect(reconnectDelay(50, 5_000, () => 0.999)).toBeLessThanOrEqual(5_500);
    expect(reconnectDelay(1, 5_000, () => 0.5)).toBe(105);
  });
});
