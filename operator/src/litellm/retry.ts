// When the client retries a failed call itself, and after how long. Only calls that are safe
// to send twice are retried (GETs, and POSTs the table marks idempotent: see endpoints.ts),
// and only for failures a second attempt can fix: LiteLLM unreachable, timing out, or
// answering 502/503/504. A 429 is retried here only when LiteLLM asks for a short wait;
// a longer Retry-After goes back to the caller as `retryAfterMs`, so a controller worker is
// not held for a minute. Everything else is returned to the caller at once.
import { backoffDelay } from '../../../contracts/http/backoff.ts';
import type { LiteLLMError } from './errors.ts';

export interface RetryPolicy {
  /** Attempts in total, the first included. 1 = no retries. */
  maxAttempts: number;
  /** Base of the exponential backoff: the first retry waits about this long. */
  initialDelayMs: number;
  /** Cap of one backoff delay. */
  maxDelayMs: number;
  /** A Retry-After up to this long is waited for in the client; longer goes to the caller. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 2_000,
});

/**
 * The delay before attempt `attempt + 1` after `error` on attempt `attempt` (1-based), or
 * undefined when the client must not retry. `random` in [0, 1) spreads clients that failed
 * together ("equal jitter": half the exponential delay fixed, half random).
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: LiteLLMError,
  idempotent: boolean,
  random: () => number = Math.random,
): number | undefined {
  if (!idempotent || attempt >= policy.maxAttempts) return undefined;
  const retryAfter = error.retryAfterMs;
  if (error.kind === 'unavailable') {
    if (error.circuitOpen) return undefined; // failing fast is the point of an open circuit
    if (retryAfter !== undefined) {
      return retryAfter <= policy.maxRetryAfterMs ? retryAfter : undefined;
    }
    return backoffDelay(policy, attempt, random);
  }
  if (error.kind === 'rateLimited' && retryAfter !== undefined) {
    return retryAfter <= policy.maxRetryAfterMs ? retryAfter : undefined;
  }
  return undefined;
}

export { backoffDelay };
