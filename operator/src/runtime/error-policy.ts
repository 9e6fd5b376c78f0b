// What a failed reconcile means for the queue, decided apart from the reconciler (kube-rs's
// error_policy): reconcilers throw what went wrong; the policy, one function per controller,
// turns it into backoff, a fixed delay, or no retry. The default reads the markers of
// result.ts; a controller can wrap it to classify a client's own errors.
import { isCleanupFailure } from './finalizers.ts';
import type { Request } from './request.ts';
import { isTerminalError, retryAfterMsOf } from './result.ts';

export type ErrorDecision =
  /** Retry with the object's exponential backoff (network errors, 5xx, conflicts). */
  | { action: 'backoff' }
  /** Retry after exactly this delay (the outside system said when: Retry-After). */
  | { action: 'requeueAfter'; ms: number }
  /** Do not retry: retrying cannot fix it (a 4xx validation error, invalid spec). */
  | { action: 'terminal' };

export type ErrorPolicy = (err: unknown, request: Request) => ErrorDecision;

/** TerminalError → terminal; an error carrying retryAfterMs → that delay; else backoff. */
export const defaultErrorPolicy: ErrorPolicy = (err) => {
  if (isTerminalError(err)) return { action: 'terminal' };
  const ms = retryAfterMsOf(err);
  if (ms !== undefined) return { action: 'requeueAfter', ms };
  return { action: 'backoff' };
};

/**
 * `policy`, except that a failed cleanup (finalizers.ts) is never terminal: an object being
 * deleted waits on it, so it is retried with backoff until it succeeds or an admin releases
 * the finalizer. Retry-After is still honoured.
 */
export function retryingCleanup(policy: ErrorPolicy): ErrorPolicy {
  return (err, request) => {
    const decision = policy(err, request);
    return decision.action === 'terminal' && isCleanupFailure(err)
      ? { action: 'backoff' }
      : decision;
  };
}
