// The spend sync's sink for the gateway's counters, on the real Redis: LiteLLM's figure raises
// a key's and a team's counter for its period, never lowers one, and names it exactly as the
// gateway reads it (contracts/routing/redis-layout.ts), so a spent budget the gateway missed is
// refused after one sync.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  SPEND_COUNTER_GRACE_SECONDS,
  spendCounterKey,
} from '../../contracts/routing/redis-layout.ts';
import { redisSpendCounters } from '../../operator/src/controllers/spend/redis-spend-counters.ts';

const prefix = `sink-${process.pid}-${Date.now()}:`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const signal = new AbortController().signal;
const resetsAt = '2031-01-01T00:00:00.000Z';

describe('redisSpendCounters', () => {
  it("raises each key's and team's counter for its period to LiteLLM's figure, rounded up", async () => {
    const sink = redisSpendCounters(redis, prefix);
    await sink.reconcile(
      {
        keys: [
          { id: 'a'.repeat(64), team: 'team-1', spend: '0.0012345' },
          {
            id: 'b'.repeat(64),
            team: 'team-1',
            spend: '2.5',
            periodStart: '2030-12-01T00:00:00.000Z',
            resetsAt,
          },
        ],
        teams: [{ id: 'team-1', team: 'team-1', spend: '10' }],
      },
      signal,
    );
    const key = spendCounterKey(prefix, 'team-1', 'key', 'a'.repeat(64), 'total');
    const periodKey = spendCounterKey(prefix, 'team-1', 'key', 'b'.repeat(64), resetsAt);
    const team = spendCounterKey(prefix, 'team-1', 'team', 'team-1', 'total');
    expect(await redis.get(key)).toBe('1235');
    expect(await redis.get(periodKey)).toBe('2500000');
    expect(await redis.get(team)).toBe('10000000');
    // A total counter never expires; a period's ends a grace after the period.
    expect(await redis.ttl(key)).toBe(-1);
    expect(await redis.expiretime(periodKey)).toBe(
      Date.parse(resetsAt) / 1000 + SPEND_COUNTER_GRACE_SECONDS,
    );
  });

  it('never lowers a counter the gateways raised past LiteLLM (costs LiteLLM has not booked)', async () => {
    const sink = redisSpendCounters(redis, prefix);
    const counter = spendCounterKey(prefix, 'team-2', 'key', 'c'.repeat(64), 'total');
    await redis.set(counter, '5000');
    await sink.reconcile(
      { keys: [{ id: 'c'.repeat(64), team: 'team-2', spend: '0.001' }], teams: [] },
      signal,
    );
    expect(await redis.get(counter)).toBe('5000');
    await sink.reconcile(
      { keys: [{ id: 'c'.repeat(64), team: 'team-2', spend: '0.009' }], teams: [] },
      signal,
    );
    expect(await redis.get(counter)).toBe('9000');
  });

  it('leaves out a key without a team: the gateway names no counter for it', async () => {
    const sink = redisSpendCounters(redis, prefix);
    await sink.reconcile({ keys: [{ id: 'd'.repeat(64), spend: '1' }], teams: [] }, signal);
    expect(await redis.keys(`${prefix}*${'d'.repeat(64)}*`)).toEqual([]);
  });
});
