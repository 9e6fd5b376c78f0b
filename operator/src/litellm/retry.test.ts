import { describe, expect, it } from 'vitest';
import { LiteLLMError, type LiteLLMErrorKind } from './errors.ts';
import { backoffDelay, defaultRetryPolicy, retryDelay } from './retry.ts';

const policy = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 2_000 };
const error = (
  kind: LiteLLMErrorKind,
  extra: { retryAfterMs?: number; circuitOpen?: boolean } = {},
) => new LiteLLMError({ kind, method: 'GET', endpoint: '/team/info', detail: 'x', ...extra });
const half = () => 0.5;

describe('retryDelay', () => {
  it('retries only idempotent calls', () => {
    expect(retryDelay(policy, 1, error('unavailable'), true, half)).toBeTypeOf('number');
    expect(retryDelay(policy, 1, error('unavailable'), false, half)).toBeUndefined();
  });

  it('retries unavailability, not answers that a repeat cannot change', () => {
    for (const kind of [
      'invalid',
      'conflict',
      'notFound',
      'enterpriseOnly',
      'unauthorized',
      'server',
    ] as const) {
      expect(retryDelay(policy, 1, error(kind), true, half), kind).toBeUndefined();
    }
  });

  it('stops after maxAttempts', () => {
    expect(retryDelay(policy, 3, error('unavailable'), true, half)).toBeTypeOf('number');
    expect(retryDelay(policy, 4, error('unavailable'), true, half)).toBeUndefined();
  });

  it('waits for a short Retry-After; hands a long one back to the caller', () => {
    expect(retryDelay(policy, 1, error('unavailable', { retryAfterMs: 1_000 }), true, half)).toBe(
      1_000,
    );
    expect(retryDelay(policy, 1, error('rateLimited', { retryAfterMs: 0 }), true, half)).toBe(0);
    expect(
      retryDelay(policy, 1, error('rateLimited', { retryAfterMs: 60_000 }), true, half),
    ).toBeUndefined();
    expect(
      retryDelay(policy, 1, error('unavailable', { retryAfterMs: 60_000 }), true, half),
    ).toBeUndefined();
  });

  it('does not retry a 429 without Retry-After (the reconciler backs off)', () => {
    expect(retryDelay(policy, 1, error('rateLimited'), true, half)).toBeUndefined();
  });

  it('never retries a call the open circuit refused', () => {
    expect(
      retryDelay(
        policy,
        1,
        error('unavailable', { circuitOpen: true, retryAfterMs: 10 }),
        true,
        half,
      ),
    ).toBeUndefined();
  });

  it('defaults to three attempts', () => {
    expect(defaultRetryPolicy.maxAttempts).toBe(3);
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt, with up to half of it random, and is capped', () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 0.999999)).toBe(100);
    expect(backoffDelay(policy, 2, () => 0)).toBe(100);
    expect(backoffDelay(policy, 3, () => 0)).toBe(200);
    expect(backoffDelay(policy, 10, () => 0)).toBe(500);
    expect(backoffDelay(policy, 10, () => 0.999999)).toBe(1_000);
  });
});
