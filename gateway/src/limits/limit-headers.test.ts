import { describe, expect, it } from 'vitest';
import {
  litellmTime,
  openAIDuration,
  rateLimitHeaders,
  refusalMessage,
  type Refusal,
} from './limit-headers.ts';
import type { Admission, AdmissionRequest, LimitStatus } from './rate-limiter.ts';

const reset = Date.UTC(2030, 0, 1, 12, 1, 0);
const now = reset - 41_500; // 12:00:18.5
const KEY_HASH = 'a'.repeat(64);

const request: AdmissionRequest = {
  requestId: 'r1',
  team: 'ml-research',
  scopes: [
    { kind: 'key', id: KEY_HASH, rpm: 10, tpm: 1000 },
    { kind: 'subscription', id: 'granite-3-8b', rpm: 100, maxParallelRequests: 4 },
    { kind: 'team', id: 'ml-research', rpm: 600, tpm: 500 },
  ],
};

const status = (s: Partial<LimitStatus> & Pick<LimitStatus, 'scope' | 'limit'>): LimitStatus => ({
  max: 10,
  remaining: 5,
  resetAtMs: s.limit === 'parallel' ? undefined : reset,
  ...s,
});

describe('rateLimitHeaders', () => {
  it('reports the scope with the least remaining per kind', () => {
    const admission: Admission = {
      allowed: true,
      countedBy: 'redis',
      statuses: [
        status({ scope: 'key', limit: 'requests', max: 10, remaining: 7 }),
        status({ scope: 'key', limit: 'tokens', max: 1000, remaining: 900 }),
        status({ scope: 'subscription', limit: 'requests', max: 100, remaining: 3 }),
        status({ scope: 'subscription', limit: 'parallel', max: 4, remaining: 0 }),
        status({ scope: 'team', limit: 'requests', max: 600, remaining: 590 }),
        status({ scope: 'team', limit: 'tokens', max: 500, remaining: 20 }),
      ],
    };
    expect(rateLimitHeaders(admission, now)).toEqual({
      'x-ratelimit-limit-requests': '100',
      'x-ratelimit-remaining-requests': '3',
      'x-ratelimit-reset-requests': '42s',
      'x-ratelimit-limit-tokens': '500',
      'x-ratelimit-remaining-tokens': '20',
      'x-ratelimit-reset-tokens': '42s',
    });
  });

  it('adds retry-after, rate_limit_type and reset_at to a refusal', () => {
    const refusedBy = status({ scope: 'team', limit: 'tokens', max: 500, remaining: 0 });
    const admission: Admission = {
      allowed: false,
      refusedBy,
      retryAfterSeconds: 42,
      countedBy: 'redis',
      statuses: [status({ scope: 'key', limit: 'requests', remaining: 4 }), refusedBy],
    };
    expect(rateLimitHeaders(admission, now)).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '4',
      'x-ratelimit-reset-requests': '42s',
      'x-ratelimit-limit-tokens': '500',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '42s',
      'retry-after': '42',
      rate_limit_type: 'tokens',
      reset_at: '2030-01-01 12:01:00 UTC',
    });
  });

  it('names a parallel refusal max_parallel_requests, with retry-after 1 and no reset', () => {
    const refusedBy = status({ scope: 'subscription', limit: 'parallel', max: 4, remaining: 0 });
    const headers = rateLimitHeaders(
      {
        allowed: false,
        refusedBy,
        retryAfterSeconds: 1,
        countedBy: 'local',
        statuses: [refusedBy],
      },
      now,
    );
    expect(headers).toEqual({ 'retry-after': '1', rate_limit_type: 'max_parallel_requests' });
  });

  it('has nothing to say when nothing was counted', () => {
    expect(rateLimitHeaders({ allowed: true, statuses: [], countedBy: 'none' })).toEqual({});
    expect(rateLimitHeaders({ allowed: false, unavailable: true })).toEqual({});
  });

  it('never reports a reset in the past', () => {
    const admission: Admission = {
      allowed: true,
      countedBy: 'redis',
      statuses: [status({ scope: 'key', limit: 'requests' })],
    };
    expect(rateLimitHeaders(admission, reset + 500)['x-ratelimit-reset-requests']).toBe('0s');
  });
});

describe('refusalMessage', () => {
  const refusal = (refusedBy: LimitStatus): Refusal => ({
    allowed: false,
    refusedBy,
    retryAfterSeconds: 42,
    statuses: [refusedBy],
    countedBy: 'redis',
  });

  it('says "this key" and never shows the key hash', () => {
    const message = refusalMessage(
      refusal(status({ scope: 'key', limit: 'requests', max: 10, remaining: 0 })),
      request,
    );
    expect(message).toBe(
      'Rate limit exceeded for this key. Limit type: requests. Current limit: 10, Remaining: 0. Limit resets at: 2030-01-01 12:01:00 UTC',
    );
    expect(message).not.toContain(KEY_HASH.slice(0, 8));
  });

  it('names the subscription by team and model, and the team by id', () => {
    expect(
      refusalMessage(
        refusal(status({ scope: 'subscription', limit: 'parallel', max: 4, remaining: 0 })),
        request,
      ),
    ).toBe(
      "Rate limit exceeded for model: granite-3-8b (team ml-research's subscription). Limit type: max_parallel_requests. Current limit: 4, Remaining: 0.",
    );
    expect(
      refusalMessage(
        refusal(status({ scope: 'team', limit: 'tokens', max: 500, remaining: 0 })),
        request,
      ),
    ).toBe(
      'Rate limit exceeded for team: ml-research. Limit type: tokens. Current limit: 500, Remaining: 0. Limit resets at: 2030-01-01 12:01:00 UTC',
    );
  });
});

describe('openAIDuration', () => {
  it.each([
    [0, '0s'],
    [12, '12ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [59_000, '59s'],
    [60_000, '1m0s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
    [3_600_000, '1h0m0s'],
  ])('%i ms is %s', (ms, text) => {
    expect(openAIDuration(ms)).toBe(text);
  });
});

it('litellmTime writes UTC without milliseconds', () => {
  expect(litellmTime(Date.UTC(2030, 5, 7, 8, 9, 10, 999))).toBe('2030-06-07 08:09:10 UTC');
});
