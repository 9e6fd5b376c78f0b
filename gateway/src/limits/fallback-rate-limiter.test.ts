import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FallbackRateLimiter, type RedisDownMode } from './fallback-rate-limiter.ts';
import { LocalRateLimiter } from './local-rate-limiter.ts';
import type { Admission, AdmissionRequest, RateLimiter } from './rate-limiter.ts';

/** A Redis limiter stand-in: admits, or throws while `down`; records settles. */
class StubRedisLimiter implements RateLimiter {
  down = false;
  admits = 0;
  readonly settled: [string, number, number | undefined][] = [];

  async admit(): Promise<Admission> {
    this.admits++;
    if (this.down) throw new Error('Connection is closed.');
    return { allowed: true, statuses: [], countedBy: 'redis' };
  }

  async settle(
    request: AdmissionRequest,
    tokens: number,
    _countedBy: string,
    window?: number,
  ): Promise<void> {
    this.settled.push([request.requestId, tokens, window]);
  }
}

function logCapture() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => lines.push(JSON.parse(line)) },
  );
  return { logger, warnings: () => lines.filter((l) => l.level === 40), lines };
}

let n = 0;
const request = (): AdmissionRequest => ({
  requestId: `r${++n}`,
  team: 't',
  scopes: [{ kind: 'key', id: 'k', rpm: 2, maxParallelRequests: 5 }],
});

function setUp(mode: RedisDownMode, ready = true) {
  const redis = new StubRedisLimiter();
  const local = new LocalRateLimiter({ leaseMs: 60_000 });
  const log = logCapture();
  const fallbacks: RedisDownMode[] = [];
  let isReady = ready;
  const limiter = new FallbackRateLimiter({
    redis,
    local,
    mode,
    isRedisReady: () => isReady,
    logger: log.logger,
    onFallback: (m) => fallbacks.push(m),
  });
  return {
    redis,
    local,
    log,
    fallbacks,
    limiter,
    setReady: (r: boolean) => (isReady = r),
  };
}

describe('FallbackRateLimiter', () => {
  it('uses Redis while it answers', async () => {
    const t = setUp('closed');
    const r = request();
    const admission = await t.limiter.admit(r);
    expect(admission).toEqual({ allowed: true, statuses: [], countedBy: 'redis' });
    await t.limiter.settle(r, 9, 'redis', 29_000_000);
    // The admission's window goes along: the reservation is settled where it was made.
    expect(t.redis.settled).toEqual([[r.requestId, 9, 29_000_000]]);
    expect(t.fallbacks).toEqual([]);
  });

  it('local: counts in this process when admit throws, and settles there', async () => {
    const t = setUp('local');
    t.redis.down = true;
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await t.limiter.admit(request()));
    expect(results.map((a) => a.allowed)).toEqual([true, true, false]);
    expect(results.every((a) => 'countedBy' in a && a.countedBy === 'local')).toBe(true);
    expect(t.fallbacks).toEqual(['local', 'local', 'local']);
    expect(t.local.trackedScopes).toBe(1);
  });

  it('open: admits without counting when Redis is not connected, without trying it', async () => {
    const t = setUp('open', false);
    const admission = await t.limiter.admit(request());
    expect(admission).toEqual({ allowed: true, statuses: [], countedBy: 'none' });
    expect(t.redis.admits).toBe(0);
    expect(t.fallbacks).toEqual(['open']);
  });

  it('closed: refuses as unavailable', async () => {
    const t = setUp('closed');
    t.redis.down = true;
    expect(await t.limiter.admit(request())).toEqual({ allowed: false, unavailable: true });
  });

  it('admits a request without limits in every mode, Redis or not', async () => {
    const t = setUp('closed', false);
    const admission = await t.limiter.admit({ requestId: 'x', team: 't', scopes: [] });
    expect(admission).toEqual({ allowed: true, statuses: [], countedBy: 'redis' });
    expect(t.fallbacks).toEqual([]);
    expect(t.log.warnings()).toEqual([]);
  });

  it('settles with whoever counted', async () => {
    const t = setUp('local');
    t.redis.down = true;
    const local = request();
    expect(await t.limiter.admit(local)).toMatchObject({ countedBy: 'local' });
    t.redis.down = false;
    const shared = request();
    expect(await t.limiter.admit(shared)).toMatchObject({ countedBy: 'redis' });

    await t.limiter.settle(local, 5, 'local');
    await t.limiter.settle(shared, 7, 'redis');
    await t.limiter.settle(request(), 1, 'none');
    expect(t.redis.settled).toEqual([[shared.requestId, 7, undefined]]);
    // The local slot was freed: nothing tracked any more but this window's request count.
    const next = await t.local.admit(request());
    expect(next.allowed && next.statuses.find((s) => s.limit === 'parallel')!.remaining).toBe(4);
  });

  it('warns once per outage, and says when Redis is back', async () => {
    const t = setUp('open');
    t.redis.down = true;
    for (let i = 0; i < 5; i++) await t.limiter.admit(request());
    t.setReady(false);
    for (let i = 0; i < 5; i++) await t.limiter.admit(request());
    expect(t.log.warnings()).toHaveLength(1);
    expect(t.log.warnings()[0]!.msg).toMatch(/admitting requests without rate limits/);
    expect(t.limiter.inOutage).toBe(true);

    t.setReady(true);
    t.redis.down = false;
    await t.limiter.admit(request());
    expect(t.limiter.inOutage).toBe(false);
    expect(t.log.lines.at(-1)!.msg).toMatch(/counted in Redis again/);

    t.redis.down = true;
    await t.limiter.admit(request());
    expect(t.log.warnings()).toHaveLength(2);
  });
});
