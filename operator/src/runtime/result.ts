// The reconcile contract (controller-runtime's reconcile.Result and TerminalError). A
// reconciler either returns a Result or throws:
//
//   return {}                         done; forget the object's backoff
//   return { requeueAfter: 30_000 }   run again in 30 s (e.g. a periodic LiteLLM drift check)
//   throw err                         failed; retried with per-object exponential backoff
//   throw new TerminalError(...)      failed in a way retrying cannot fix (invalid input):
//                                     not retried; the reconciler or the controller's
//                                     recordTerminalError reports it as Ready=False
//   throw new RetryAfterError(ms)     the outside system asked us to wait (LiteLLM 429/503
//                                     with Retry-After): run again after exactly that delay
//
// How a thrown error becomes a decision lives apart from reconcile, in error-policy.ts.

export interface Result {
  /** Run again after this many milliseconds, without counting as a failure. */
  requeueAfter?: number;
  /**
   * Run again with the rate limiter's delay, without an error. Kept for parity with
   * controller-runtime (which deprecates it); prefer requeueAfter or throwing.
   */
  requeue?: boolean;
}

export const done: Result = Object.freeze({});

/** An error that retrying cannot fix; the controller does not requeue it. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** True for a TerminalError anywhere in the `cause` chain (like errors.Is). */
export function isTerminalError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    if (e instanceof TerminalError) return true;
  }
  return false;
}

/**
 * Any error carrying `retryAfterMs` (a number ≥ 0) asks to be retried after that delay.
 * Clients of outside systems (the LiteLLM client) set it from a Retry-After header, so the
 * controller need not know their error classes.
 */
export interface RetryAfter {
  retryAfterMs: number;
}

export class RetryAfterError extends Error implements RetryAfter {
  override readonly name = 'RetryAfterError';
  readonly retryAfterMs: number;
  constructor(
    retryAfterMs: number,
    message = `retry after ${retryAfterMs} ms`,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The requested delay of the first error in the cause chain that carries one. */
export function retryAfterMsOf(err: unknown): number | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    const ms = (e as Partial<RetryAfter>).retryAfterMs;
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms;
  }
  return undefined;
}

export { parseRetryAfter } from '../../../contracts/http/retry-after.ts';
