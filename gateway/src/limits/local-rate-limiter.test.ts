import { describe, expect, it } from 'vitest';
import { LocalRateLimiter } from './local-rate-limiter.ts';
import type { Admission, AdmissionRequest, LimitScope } from './rate-limiter.ts';

/** A clock at 12:00:10 UTC (10 s into a window) that tests move by hand. */
function fakeClock(startMs = Date.UTC(2030, 0, 1, 12, 0, 10)) {
  let now = startMs;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

let n = 0;
const request = (scopes: LimitScope[], team = 'ml-research'): AdmissionRequest => ({
  requestId: `req-${++n}`,
  team,
  scopes,
});

function refusal(a: Admission) {
  if (a.allowed || 'unavailable' in a) throw new Error('expected a refusal');
  return a;
}

describe('LocalRateLimiter', () => {
  it('admits exactly rpm requests per window, then refuses with the time to the window end', async () => {
    const clock = fakeClock();
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: clock.now });
    const scopes: LimitScope[] = [{ kind: 'key', id: 'k', rpm: 3 }];

    const results = [];
    for (let i = 0; i < 5; i++) results.push(await limiter.admit(request(scopes)));

    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(results[0]).toEqual({
      allowed: true,
      countedBy: 'local',
      window: Math.floor(Date.UTC(2030, 0, 1, 12, 0, 10) / 60_000),
      statuses: [
        {
          scope: 'key',
          limit: 'requests',
          max: 3,
          remaining: 2,
          resetAtMs: Date.UTC(2030, 0, 1, 12, 1, 0),
        },
      ],
    });
    const refused = refusal(results[3]!);
    expect(refused.refusedBy).toMatchObject({ scope: 'key', limit: 'requests', remaining: 0 });
    expect(refused.retryAfterSeconds).toBe(50);
    expect(refused.countedBy).toBe('local');
  });

  it('starts a new window at the minute boundary', async () => {
    const clock = fakeClock();
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: clock.now });
    const scopes: LimitScope[] = [{ kind: 'key', id: 'k', rpm: 1 }];
    expect((await limiter.admit(request(scopes))).allowed).toBe(true);
    clock.advance(49_999); // 12:00:59.999
    expect((await limiter.admit(request(scopes))).allowed).toBe(false);
    clock.advance(1); // 12:01:00
    const next = await limiter.admit(request(scopes));
    expect(next.allowed).toBe(true);
    expect(next.allowed && next.statuses[0]!.resetAtMs).toBe(Date.UTC(2030, 0, 1, 12, 2, 0));
  });

  it('admits while tokens are below tpm and adds tokens only at settle', async () => {
    const clock = fakeClock();
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: clock.now });
    const scopes: LimitScope[] = [{ kind: 'team', id: 'ml-research', tpm: 100 }];

    const first = request(scopes);
    const second = request(scopes);
    // Both admitted before either used anything: tpm is checked, then debited.
    expect((await limiter.admit(first)).allowed).toBe(true);
    expect((await limiter.admit(second)).allowed).toBe(true);
    await limiter.settle(first, 60, 'local');
    const third = await limiter.admit(request(scopes));
    expect(third.allowed && third.statuses[0]).toMatchObject({ limit: 'tokens', remaining: 40 });
    await limiter.settle(second, 60, 'local'); // 120 ≥ 100
    const refused = refusal(await limiter.admit(request(scopes)));
    expect(refused.refusedBy).toEqual({
      scope: 'team',
      limit: 'tokens',
      max: 100,
      remaining: 0,
      resetAtMs: Date.UTC(2030, 0, 1, 12, 1, 0),
    });
    clock.advance(50_000);
    expect((await limiter.admit(request(scopes))).allowed).toBe(true);
  });

  it('ignores settles counted elsewhere', async () => {
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: fakeClock().now });
    const scopes: LimitScope[] = [{ kind: 'key', id: 'k', tpm: 10, maxParallelRequests: 1 }];
    const r = request(scopes);
    await limiter.admit(r);
    await limiter.settle(r, 50, 'redis');
    await limiter.settle(r, 50, 'none');
    const next = refusal(await limiter.admit(request(scopes)));
    // Tokens not counted (tokens had room), the slot still held.
    expect(next.refusedBy.limit).toBe('parallel');
    expect(next.statuses.find((s) => s.limit === 'tokens')!.remaining).toBe(10);
  });

  it('holds a parallel slot until settle', async () => {
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: fakeClock().now });
    const scopes: LimitScope[] = [{ kind: 'key', id: 'k', maxParallelRequests: 2 }];
    const a = request(scopes);
    const b = request(scopes);
    expect((await limiter.admit(a)).allowed).toBe(true);
    const second = await limiter.admit(b);
    expect(second.allowed && second.statuses[0]).toEqual({
      scope: 'key',
      limit: 'parallel',
      max: 2,
      remaining: 0,
      resetAtMs: undefined,
    });
    const refused = refusal(await limiter.admit(request(scopes)));
    expect(refused.refusedBy.limit).toBe('parallel');
    expect(refused.retryAfterSeconds).toBe(1);
    await limiter.settle(a, 0, 'local');
    expect((await limiter.admit(request(scopes))).allowed).toBe(true);
  });

  it('frees the slot of a request that never settles when its lease ends', async () => {
    const clock = fakeClock();
    const limiter = new LocalRateLimiter({ leaseMs: 5_000, now: clock.now });
    const scopes: LimitScope[] = [{ kind: 'key', id: 'k', maxParallelRequests: 1 }];
    expect((await limiter.admit(request(scopes))).allowed).toBe(true);
    clock.advance(4_999);
    expect((await limiter.admit(request(scopes))).allowed).toBe(false);
    clock.advance(1);
    expect((await limiter.admit(request(scopes))).allowed).toBe(true);
  });

  it('counts nothing anywhere when one scope is full', async () => {
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: fakeClock().now });
    const key: LimitScope = { kind: 'key', id: 'k', rpm: 10, maxParallelRequests: 10 };
    const team: LimitScope = { kind: 'team', id: 'ml-research', rpm: 1 };
    expect((await limiter.admit(request([key, team]))).allowed).toBe(true);
    for (let i = 0; i < 3; i++) {
      const refused = refusal(await limiter.admit(request([key, team])));
      expect(refused.refusedBy).toMatchObject({ scope: 'team', limit: 'requests' });
    }
    // The key saw one request and holds one slot: the three refusals left no trace.
    const alone = await limiter.admit(request([key]));
    expect(alone.allowed && alone.statuses).toEqual([
      expect.objectContaining({ limit: 'requests', remaining: 8 }),
      expect.objectContaining({ limit: 'parallel', remaining: 8 }),
    ]);
  });

  it('reports the first full limit in scope order', async () => {
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: fakeClock().now });
    const scopes: LimitScope[] = [
      { kind: 'key', id: 'k', rpm: 5 },
      { kind: 'subscription', id: 'granite', rpm: 0 },
      { kind: 'team', id: 'ml-research', rpm: 0 },
    ];
    const refused = refusal(await limiter.admit(request(scopes)));
    expect(refused.refusedBy).toMatchObject({ scope: 'subscription', max: 0 });
    expect(refused.statuses.map((s) => [s.scope, s.remaining])).toEqual([
      ['key', 5],
      ['subscription', 0],
      ['team', 0],
    ]);
  });

  it('keeps teams apart, and a team scope shared by its keys', async () => {
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: fakeClock().now });
    const team = (id: string): LimitScope => ({ kind: 'team', id, rpm: 2 });
    expect(
      (await limiter.admit(request([{ kind: 'key', id: 'a' }, team('t1')], 't1'))).allowed,
    ).toBe(true);
    expect(
      (await limiter.admit(request([{ kind: 'key', id: 'b' }, team('t1')], 't1'))).allowed,
    ).toBe(true);
    expect((await limiter.admit(request([team('t1')], 't1'))).allowed).toBe(false);
    expect((await limiter.admit(request([team('t2')], 't2'))).allowed).toBe(true);
  });

  it('reserves tokens at admission, refuses a reservation that does not fit, and settles to the usage', async () => {
    const clock = fakeClock();
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: clock.now });
    const scopes: LimitScope[] = [{ kind: 'key', id: 'k', tpm: 100 }];
    const reserving = (reserveTokens: number) => ({ ...request(scopes), reserveTokens });

    const first = reserving(40);
    const admitted = await limiter.admit(first);
    expect(admitted).toMatchObject({
      allowed: true,
      statuses: [{ limit: 'tokens', max: 100, remaining: 60 }],
    });
    expect((await limiter.admit(reserving(60))).allowed).toBe(true); // exactly fits: 100
    // Nothing settled yet, and the window is reserved up to its tpm.
    const refused = refusal(await limiter.admit(reserving(1)));
    expect(refused.refusedBy).toMatchObject({ limit: 'tokens', remaining: 0 });

    // The first used 10 of its 40: 30 come back, so a 30-token reservation fits, a 31 not.
    await limiter.settle(first, 10, 'local', admitted.allowed ? admitted.window : undefined);
    expect((await limiter.admit(reserving(31))).allowed).toBe(false);
    expect((await limiter.admit(reserving(30))).allowed).toBe(true);
  });

  it('charges more than reserved, in the current window once the reservation window ended', async () => {
    const clock = fakeClock();
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: clock.now });
    const scopes: LimitScope[] = [{ kind: 'key', id: 'k', tpm: 100 }];
    const late = { ...request(scopes), reserveTokens: 10 };
    const admitted = await limiter.admit(late);
    const window = admitted.allowed ? admitted.window : undefined;
    clock.advance(60_000);
    // Used 90, reserved 10: the 80 beyond the reservation land in the new window.
    await limiter.settle(late, 90, 'local', window);
    expect(
      refusal(await limiter.admit({ ...request(scopes), reserveTokens: 21 })).refusedBy,
    ).toMatchObject({ limit: 'tokens', remaining: 20 });
    // A refund to an ended window gives nothing in the current one.
    const early = { ...request(scopes), reserveTokens: 20 };
    const again = await limiter.admit(early);
    clock.advance(60_000);
    expect((await limiter.admit({ ...request(scopes), reserveTokens: 50 })).allowed).toBe(true);
    await limiter.settle(early, 0, 'local', again.allowed ? again.window : undefined);
    expect(
      refusal(await limiter.admit({ ...request(scopes), reserveTokens: 51 })).refusedBy,
    ).toMatchObject({ limit: 'tokens', remaining: 50 });
  });

  it('admits an empty scope list without counting', async () => {
    const limiter = new LocalRateLimiter({ leaseMs: 60_000, now: fakeClock().now });
    expect(await limiter.admit(request([]))).toMatchObject({
      allowed: true,
      statuses: [],
      countedBy: 'local',
    });
    expect(limiter.trackedScopes).toBe(0);
  });

  it('forgets ended windows and settled or expired slots', async () => {
    const clock = fakeClock();
    const limiter = new LocalRateLimiter({ leaseMs: 30_000, now: clock.now });
    const settled = [];
    for (let i = 0; i < 100; i++) {
      const r = request([{ kind: 'key', id: `k${i}`, rpm: 5, tpm: 5, maxParallelRequests: 1 }]);
      await limiter.admit(r);
      if (i % 2 === 0) settled.push(r);
    }
    for (const r of settled) await limiter.settle(r, 3, 'local');
    expect(limiter.trackedScopes).toBe(100);
    clock.advance(60_000); // next window; every lease has ended
    await limiter.admit(request([{ kind: 'key', id: 'other', rpm: 1 }]));
    expect(limiter.trackedScopes).toBe(1);
  });
});
