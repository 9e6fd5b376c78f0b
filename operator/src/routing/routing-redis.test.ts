import { describe, expect, it } from 'vitest';
import { reconnectDelay, redactRedisUrl } from './routing-redis.ts';

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

describe('redactRedisUrl', () => {
  it('drops user name and password', () => {
    expect(redactRedisUrl('redis://default:s3cret@redis.ns.svc:6379/2')).toBe(
      'redis://redis.ns.svc:6379/2',
    );
    expect(redactRedisUrl('rediss://:s3cret@redis:6380')).toBe('rediss://redis:6380');
  });

  it('masks credentials even in something that is not a URL', () => {
    expect(redactRedisUrl('not a url redis://u:s3cret@')).not.toContain('s3cret');
  });
});
