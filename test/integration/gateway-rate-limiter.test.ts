// The gateway's rate limiter against a real redis-server: two RedisRateLimiter instances with
// connections of their own stand for two gateway replicas sharing one Redis. Concurrent
// admissions must be exact (rpm, parallel), concurrent settles must add up (tpm), a refusal
// must leave every counter as it was, and a crashed request's slot must come back when its
// lease ends. On a Redis of our own: the scripts are loaded again after a restart and a
// SCRIPT FLUSH, and with Redis stopped the fallback modes decide.
//
// Window counters follow Redis's clock: tests that count in one window first make sure the
// window has at least a few seconds left, so a minute boundary cannot split them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  FallbackRateLimiter,
  type RedisDownMode,
} from '../../gateway/src/limits/fallback-rate-limiter.ts';
import { LIMIT_SUFFIX, scopeBaseKey, WINDOW_SECONDS } from '../../gateway/src/limits/limit-keys.ts';
import { LocalRateLimiter } from '../../gateway/src/limits/local-rate-limiter.ts';
import type {
  Admission,
  AdmissionRequest,
  LimitScope,
} from '../../gateway/src/limits/rate-limiter.ts';
import { RedisRateLimiter } from '../../gateway/src/limits/redis-rate-limiter.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const TEAM = 'ml-research';
const KEY_HASH = 'c'.repeat(64);
let unique = 0;
const uniquePrefix = () => `limits-test-${process.pid}-${Date.now()}-${++unique}:`;

/** A client like the gateway's: commands fail at once while disconnected; it reconnects. */
function client(url: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2_000,
    retryStrategy: () => 50,
  });
  redis.on('error', () => {}); // while a test's Redis is down
  return redis;
}

async function ready(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
}

/** Until a command gets through (after a restart the client may not have seen the drop yet). */
async function reachable(redis: Redis): Promise<void> {
  await expect
    .poll(() => redis.ping().catch(() => 'down'), { timeout: 10_000, interval: 20 })
    .toBe('PONG');
}

/** Redis's current window, after waiting out the end of one with less than `margin` s left. */
async function windowWithRoom(redis: Redis, marginSeconds = 5): Promise<number> {
  const seconds = Number((await redis.time())[0]);
  const left = WINDOW_SECONDS - (seconds % WINDOW_SECONDS);
  if (left >= marginSeconds) return Math.floor(seconds / WINDOW_SECONDS);
  await sleep(left * 1000 + 100);
  return windowWithRoom(redis, marginSeconds);
}

let n = 0;
const request = (scopes: LimitScope[], team = TEAM): AdmissionRequest => ({
  requestId: `req-${process.pid}-${++n}`,
  team,
  scopes,
});

function outcome(admissions: Admission[]) {
  const allowed = admissions.filter((a) => a.allowed);
  const refused = admissions.flatMap((a) => (!a.allowed && !('unavailable' in a) ? [a] : []));
  return { allowed, refused };
}

/** Every key under `prefix` with its value (string or zset with scores). */
async function snapshot(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const keys = (await redis.keys(`${prefix}*`)).sort();
  const entries: [string, unknown][] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    entries.push([
      key,
      type === 'zset' ? await redis.zrange(key, 0, '-1', 'WITHSCORES') : await redis.get(key),
    ]);
  }
  return Object.fromEntries(entries);
}

describe('RedisRateLimiter on the shared Redis, two instances', () => {
  let a: Redis, b: Redis, reader: Redis;
  let prefix: string;
  let one: RedisRateLimiter, two: RedisRateLimiter;
  /** Sends the admissions alternately through the two instances, all at once. */
  const admitAll = (requests: AdmissionRequest[]) =>
    Promise.all(requests.map((r, i) => (i % 2 ? two : one).admit(r)));
  const keyOf = (kind: LimitScope['kind'], id: string, suffix: string) =>
    scopeBaseKey(prefix, TEAM, kind, id) + suffix;

  beforeAll(async () => {
    const url = inject('redisUrl');
    [a, b, reader] = [client(url), client(url), client(url)];
    await Promise.all([ready(a), ready(b), ready(reader)]);
  });
  afterAll(() => {
    for (const c of [a, b, reader]) c?.disconnect();
  });
  beforeEach(() => {
    prefix = uniquePrefix();
    one = new RedisRateLimiter({ redis: a, prefix, leaseMs: 60_000, logger });
    two = new RedisRateLimiter({ redis: b, prefix, leaseMs: 60_000, logger });
  });
  afterEach(async () => {
    const keys = await reader.keys(`${prefix}*`);
    if (keys.length > 0) await reader.del(...keys);
  });

  it('admits exactly rpm of 50 concurrent requests, and refuses the rest in the key scope', async () => {
    const window = await windowWithRoom(reader);
    const scopes: LimitScope[] = [{ kind: 'key', id: KEY_HASH, rpm: 20 }];
    const { allowed, refused } = outcome(
      await admitAll(Array.from({ length: 50 }, () => request(scopes))),
    );

    expect(allowed).toHaveLength(20);
    expect(refused).toHaveLength(30);
    for (const r of refused) {
      expect(r.countedBy).toBe('redis');
      expect(r.refusedBy).toMatchObject({ scope: 'key', limit: 'requests', max: 20, remaining: 0 });
      expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(r.retryAfterSeconds).toBeLessThanOrEqual(60);
      expect(r.refusedBy.resetAtMs).toBe((window + 1) * 60_000);
    }
    // Each admission saw a different count: remaining 19 … 0, once each.
    const remaining = allowed.map((x) => (x.allowed ? x.statuses[0]!.remaining : -1));
    expect(remaining.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));

    const counter = keyOf('key', KEY_HASH, `${LIMIT_SUFFIX.requests}${window}`);
    expect(await reader.get(counter)).toBe('20');
    // Kept one window past its own, then gone.
    const ttl = await reader.ttl(counter);
    expect(ttl).toBeGreaterThan(60);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it('holds exactly maxParallelRequests slots, and gives them back at settle', async () => {
    const scopes: LimitScope[] = [
      { kind: 'subscription', id: 'granite-3-8b', maxParallelRequests: 5 },
    ];
    const inflight = keyOf('subscription', 'granite-3-8b', LIMIT_SUFFIX.inflight);
    const first = Array.from({ length: 50 }, () => request(scopes));
    const admissions = await admitAll(first);
    const { allowed, refused } = outcome(admissions);
    expect(allowed).toHaveLength(5);
    expect(
      refused.every((r) => r.refusedBy.limit === 'parallel' && r.retryAfterSeconds === 1),
    ).toBe(true);
    expect(await reader.zcard(inflight)).toBe(5);

    const running = first.filter((_, i) => admissions[i]!.allowed);
    await Promise.all(running.map((r, i) => (i % 2 ? two : one).settle(r, 0, 'redis')));
    expect(await reader.exists(inflight)).toBe(0);

    const again = outcome(await admitAll(Array.from({ length: 50 }, () => request(scopes))));
    expect(again.allowed).toHaveLength(5);
  });

  it('sums concurrent settles exactly, and refuses every admission once tokens reach tpm', async () => {
    const window = await windowWithRoom(reader);
    const scopes: LimitScope[] = [{ kind: 'team', id: TEAM, tpm: 300 }];
    const requests = Array.from({ length: 50 }, () => request(scopes));
    // Tokens are debited after the fact: all 50 start while the window has used none.
    expect(outcome(await admitAll(requests)).allowed).toHaveLength(50);
    await Promise.all(requests.map((r, i) => (i % 2 ? two : one).settle(r, 7, 'redis')));

    const counter = keyOf('team', TEAM, `${LIMIT_SUFFIX.tokens}${window}`);
    expect(await reader.get(counter)).toBe('350');
    const { allowed, refused } = outcome(
      await admitAll(Array.from({ length: 10 }, () => request(scopes))),
    );
    expect(allowed).toHaveLength(0);
    expect(refused.map((r) => r.refusedBy)).toEqual(
      Array(10).fill(expect.objectContaining({ scope: 'team', limit: 'tokens', remaining: 0 })),
    );
    expect(await reader.get(counter)).toBe('350');
  });

  it('reserves in every tpm scope at once, admits exactly the reservations that fit, and settles to the usage', async () => {
    const window = await windowWithRoom(reader);
    const scopes: LimitScope[] = [
      { kind: 'key', id: KEY_HASH, tpm: 1000, maxParallelRequests: 50 },
      { kind: 'team', id: TEAM, tpm: 500 },
    ];
    const requests = Array.from({ length: 50 }, () => ({ ...request(scopes), reserveTokens: 60 }));
    const admissions = await admitAll(requests);
    // The team's 500 hold 8 reservations of 60; the key's 1000 would hold 16.
    const { allowed, refused } = outcome(admissions);
    expect(allowed).toHaveLength(8);
    expect(refused).toHaveLength(42);
    expect(refused[0]!.refusedBy).toMatchObject({ scope: 'team', limit: 'tokens', remaining: 20 });
    const keyCounter = keyOf('key', KEY_HASH, `${LIMIT_SUFFIX.tokens}${window}`);
    const teamCounter = keyOf('team', TEAM, `${LIMIT_SUFFIX.tokens}${window}`);
    expect([await reader.get(keyCounter), await reader.get(teamCounter)]).toEqual(['480', '480']);

    // Settle: 4 used 10 each (with the key's slot: one script call each), 4 used 100.
    const admitted = requests.filter((_, i) => admissions[i]!.allowed);
    const windowOfAdmission = (i: number) => {
      const a = admissions[requests.indexOf(admitted[i]!)]!;
      return a.allowed ? a.window : undefined;
    };
    await Promise.all(
      admitted.map((r, i) =>
        (i % 2 ? two : one).settle(r, i < 4 ? 10 : 100, 'redis', windowOfAdmission(i)),
      ),
    );
    expect([await reader.get(keyCounter), await reader.get(teamCounter)]).toEqual(['440', '440']);
    expect(await reader.zcard(keyOf('key', KEY_HASH, LIMIT_SUFFIX.inflight))).toBe(0);
  });

  it('settles batched debits (no parallel slot) to the usage, never below 0 and never into a lost counter', async () => {
    const window = await windowWithRoom(reader);
    const scopes: LimitScope[] = [{ kind: 'team', id: TEAM, tpm: 1000 }];
    const counter = keyOf('team', TEAM, `${LIMIT_SUFFIX.tokens}${window}`);
    const requests = Array.from({ length: 10 }, () => ({ ...request(scopes), reserveTokens: 50 }));
    const admissions = await admitAll(requests);
    expect(outcome(admissions).allowed).toHaveLength(10);
    expect(await reader.get(counter)).toBe('500');
    const windowOf = (i: number) => {
      const a = admissions[i]!;
      return a.allowed ? a.window : undefined;
    };
    // Batched per team: 5 used 20, 5 left without usage (charged their 50).
    await Promise.all(
      requests.map((r, i) => (i % 2 ? two : one).settle(r, i < 5 ? 20 : 50, 'redis', windowOf(i))),
    );
    expect(await reader.get(counter)).toBe(String(5 * 20 + 5 * 50));

    // A refund into a counter Redis lost does not create it, nor a negative count.
    await reader.del(counter);
    const late = { ...request(scopes), reserveTokens: 50 };
    await one.settle(late, 0, 'redis', window);
    expect(await reader.exists(counter)).toBe(0);
    await reader.set(counter, '10');
    await one.settle(late, 0, 'redis', window);
    expect(await reader.get(counter)).toBe('0');
  });

  it("settles in the reservation's window: a refund there, a debit beyond it in the current window once that one ended", async () => {
    const window = await windowWithRoom(reader);
    const scopes: LimitScope[] = [{ kind: 'key', id: KEY_HASH, tpm: 1000, maxParallelRequests: 5 }];
    const counterOf = (w: number) => keyOf('key', KEY_HASH, `${LIMIT_SUFFIX.tokens}${w}`);
    // As if reserved in the previous window: 100 there.
    await reader.set(counterOf(window - 1), '100', 'EX', 120);
    const refund = { ...request(scopes), reserveTokens: 60 };
    await one.settle(refund, 20, 'redis', window - 1);
    expect(await reader.get(counterOf(window - 1))).toBe('60');
    expect(await reader.exists(counterOf(window))).toBe(0);
    const beyond = { ...request(scopes), reserveTokens: 10 };
    await two.settle(beyond, 90, 'redis', window - 1);
    expect(await reader.get(counterOf(window - 1))).toBe('60');
    expect(await reader.get(counterOf(window))).toBe('80');
  });

  it('leaves every counter as it was when it refuses', async () => {
    await windowWithRoom(reader);
    const scopes: LimitScope[] = [
      { kind: 'key', id: KEY_HASH, rpm: 100, tpm: 1000, maxParallelRequests: 10 },
      { kind: 'subscription', id: 'granite-3-8b', rpm: 100, maxParallelRequests: 10 },
      { kind: 'team', id: TEAM, rpm: 1 },
    ];
    expect((await one.admit(request(scopes))).allowed).toBe(true);
    const before = await snapshot(reader, prefix);
    expect(Object.keys(before)).toHaveLength(5); // 3 rpm counters, 2 inflight sets

    const { refused } = outcome(await admitAll(Array.from({ length: 20 }, () => request(scopes))));
    expect(refused).toHaveLength(20);
    expect(refused[0]!.refusedBy).toMatchObject({ scope: 'team', limit: 'requests' });
    // The other scopes report their state without this request: it was not counted there.
    expect(
      refused[0]!.statuses.find((s) => s.scope === 'key' && s.limit === 'requests'),
    ).toMatchObject({ remaining: 99 });
    expect(await snapshot(reader, prefix)).toEqual(before);
  });

  it('shares a team limit between two keys of the team', async () => {
    const window = await windowWithRoom(reader);
    const team: LimitScope = { kind: 'team', id: TEAM, rpm: 6 };
    const keyA: LimitScope = { kind: 'key', id: 'a'.repeat(64), rpm: 100 };
    const keyB: LimitScope = { kind: 'key', id: 'b'.repeat(64), rpm: 100 };
    const requests = Array.from({ length: 20 }, (_, i) => request([i % 2 ? keyA : keyB, team]));
    const { allowed, refused } = outcome(await admitAll(requests));

    expect(allowed).toHaveLength(6);
    expect(refused.every((r) => r.refusedBy.scope === 'team')).toBe(true);
    const counts = await reader.mget(
      keyOf('key', keyA.id, `${LIMIT_SUFFIX.requests}${window}`),
      keyOf('key', keyB.id, `${LIMIT_SUFFIX.requests}${window}`),
      keyOf('team', TEAM, `${LIMIT_SUFFIX.requests}${window}`),
    );
    expect(Number(counts[0] ?? 0) + Number(counts[1] ?? 0)).toBe(6);
    expect(counts[2]).toBe('6');
  });

  it('frees the slot of a request that never settles when its lease ends', async () => {
    const short = new RedisRateLimiter({ redis: a, prefix, leaseMs: 300, logger });
    const scopes: LimitScope[] = [{ kind: 'key', id: KEY_HASH, maxParallelRequests: 1 }];
    const crashed = request(scopes);
    expect((await short.admit(crashed)).allowed).toBe(true);
    expect((await short.admit(request(scopes))).allowed).toBe(false);

    await sleep(400);
    const next = request(scopes);
    expect((await short.admit(next)).allowed).toBe(true);
    // A late settle of the crashed request frees nothing that is not its own.
    await short.settle(crashed, 0, 'redis');
    const inflight = keyOf('key', KEY_HASH, LIMIT_SUFFIX.inflight);
    expect(await reader.zrange(inflight, 0, '-1')).toEqual([next.requestId]);
  });

  it('keeps scopes of other teams and installations apart', async () => {
    const scopes: LimitScope[] = [{ kind: 'key', id: KEY_HASH, maxParallelRequests: 1 }];
    expect((await one.admit(request(scopes, 'team-a'))).allowed).toBe(true);
    expect((await one.admit(request(scopes, 'team-b'))).allowed).toBe(true);
    const other = new RedisRateLimiter({ redis: a, prefix: `${prefix}other:`, leaseMs: 60_000 });
    expect((await other.admit(request(scopes, 'team-a'))).allowed).toBe(true);
    expect((await one.admit(request(scopes, 'team-a'))).allowed).toBe(false);
  });
});

describe('RedisRateLimiter on a Redis of its own', () => {
  let dir: string;
  let server: RedisServer;
  let redis: Redis;
  let limiter: RedisRateLimiter;
  const prefix = 'llmtenancy:';
  const scopes: LimitScope[] = [{ kind: 'key', id: KEY_HASH, rpm: 1000 }];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-limits-'));
    server = await startRedis({ dir });
    redis = client(server.url);
    await ready(redis);
    limiter = new RedisRateLimiter({ redis, prefix, leaseMs: 60_000, logger });
  });
  afterEach(async () => {
    await server.start(); // after a test that stops it
    await reachable(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The remaining requests after one admission (the window counter's progress). */
  async function remainingAfterAdmit(): Promise<number> {
    const admission = await limiter.admit(request(scopes));
    if (!admission.allowed) throw new Error('expected an admission');
    return admission.statuses[0]!.remaining;
  }

  it('sends the token debits of concurrent requests in one call per team', async () => {
    const window = await windowWithRoom(redis);
    const calls = async () => {
      const stats = await redis.info('commandstats');
      return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    const teamScopes = (team: string): LimitScope[] => [
      { kind: 'key', id: `key-of-${team}`, tpm: 10_000 },
      { kind: 'team', id: team, tpm: 10_000 },
    ];
    const requests = Array.from({ length: 40 }, (_, i) =>
      request(teamScopes(i % 2 ? 'team-odd' : 'team-even'), i % 2 ? 'team-odd' : 'team-even'),
    );
    await Promise.all(requests.map((r) => limiter.admit(r)));
    const before = await calls();
    await Promise.all(requests.map((r, i) => limiter.settle(r, i + 1, 'redis')));
    // 40 settles, two teams: two script calls (EVALSHA, or EVAL once after a flush).
    expect((await calls()) - before).toBeLessThanOrEqual(2);
    const counter = (team: string) =>
      redis.get(`${scopeBaseKey(prefix, team, 'team', team)}${LIMIT_SUFFIX.tokens}${window}`);
    // Odd-indexed requests (i = 1, 3, …, 39) spent i + 1 = 2, 4, … 40 tokens.
    expect(await counter('team-odd')).toBe(
      String(Array.from({ length: 20 }, (_, k) => 2 * k + 2).reduce((a, b) => a + b)),
    );
    expect(await counter('team-even')).toBe(
      String(Array.from({ length: 20 }, (_, k) => 2 * k + 1).reduce((a, b) => a + b)),
    );
  });

  it('loads its scripts again after a restart and after SCRIPT FLUSH', async () => {
    await windowWithRoom(redis);
    expect(await remainingAfterAdmit()).toBe(999);

    // Same connection, scripts gone: EVALSHA meets NOSCRIPT and ioredis resends as EVAL.
    await redis.script('FLUSH');
    expect(await remainingAfterAdmit()).toBe(998);
    const stats = await redis.info('commandstats');
    const evalsha = /cmdstat_evalsha:.*?rejected_calls=(\d+),failed_calls=(\d+)/.exec(stats);
    expect(Number(evalsha?.[1]) + Number(evalsha?.[2])).toBeGreaterThanOrEqual(1);

    // A restart empties Redis (no persistence): counters and scripts are gone.
    await server.restart();
    await reachable(redis);
    await windowWithRoom(redis);
    expect(await remainingAfterAdmit()).toBe(999);
    expect(await remainingAfterAdmit()).toBe(998);
  });

  it('throws from admit while Redis is down, and never from settle', async () => {
    await server.stop();
    await expect(limiter.admit(request(scopes))).rejects.toThrow();
    await expect(
      limiter.settle(request([{ kind: 'key', id: KEY_HASH, tpm: 5 }]), 3, 'redis'),
    ).resolves.toBeUndefined();
  });

  describe('behind FallbackRateLimiter, with Redis stopped', () => {
    const fallbackTo = (mode: RedisDownMode, isRedisReady = () => redis.status === 'ready') => {
      const fallbacks: RedisDownMode[] = [];
      const fallback = new FallbackRateLimiter({
        redis: limiter,
        local: new LocalRateLimiter({ leaseMs: 60_000 }),
        mode,
        isRedisReady,
        logger,
        onFallback: (m) => fallbacks.push(m),
      });
      return { fallback, fallbacks };
    };
    const limited: LimitScope[] = [{ kind: 'key', id: 'd'.repeat(64), rpm: 2 }];

    it('local: counts in this process, then in Redis again once it is back', async () => {
      const { fallback, fallbacks } = fallbackTo('local');
      await server.stop();
      const down = [];
      for (let i = 0; i < 3; i++) down.push(await fallback.admit(request(limited)));
      expect(down.map((x) => x.allowed)).toEqual([true, true, false]);
      expect(down.map((x) => ('countedBy' in x ? x.countedBy : 'unavailable'))).toEqual([
        'local',
        'local',
        'local',
      ]);
      expect(fallbacks).toEqual(['local', 'local', 'local']);

      await server.start();
      await reachable(redis);
      await windowWithRoom(redis);
      // Redis restarted empty: its own count starts over.
      const back = await fallback.admit(request(limited));
      expect(back).toMatchObject({ allowed: true, countedBy: 'redis' });
      expect(fallback.inOutage).toBe(false);
    });

    it('open: admits without counting', async () => {
      const { fallback } = fallbackTo('open');
      await server.stop();
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await fallback.admit(request(limited)));
      expect(results).toEqual(Array(3).fill({ allowed: true, statuses: [], countedBy: 'none' }));
    });

    it('closed: refuses as unavailable, even when the connection still looks ready', async () => {
      // isRedisReady says yes: the admission itself fails, and the mode still decides.
      const { fallback, fallbacks } = fallbackTo('closed', () => true);
      await server.stop();
      expect(await fallback.admit(request(limited))).toEqual({
        allowed: false,
        unavailable: true,
      });
      expect(fallbacks).toEqual(['closed']);
    });
  });
});
