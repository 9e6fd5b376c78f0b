// Jittered exponential backoff, shared by every retry loop of both programs (the LiteLLM
// client, the alert outbox, the audit webhook).

export interface BackoffPolicy {
  /** The first retry waits about this long. */
  initialDelayMs: number;
  /** Cap of one delay. */
  maxDelayMs: number;
}

/**
 * The delay after attempt `attempt` (1-based) failed: [initial/2, initial) for the first,
 * doubling up to the cap. "Equal jitter": half fixed, half random, so clients that failed
 * together come back apart.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(base / 2 + (base / 2) * random());
}
