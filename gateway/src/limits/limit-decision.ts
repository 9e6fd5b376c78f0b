// Turns what a counter store answered (the counts of every scope after the decision, and
// which limit was full, if any) into an Admission. Shared by the Redis and the local limiter
// so both report the same statuses, remaining counts, reset times and retry-after.
import { windowEndMs, windowOf } from './limit-keys.ts';
import type { Admission, LimitKind, LimitScope, LimitStatus } from './rate-limiter.ts';

export interface ScopeCounts {
  /** Requests started in the window, this one included when admitted. */
  requests: number;
  /** Tokens in the window: settled, plus the reservations of requests not settled yet. */
  tokens: number;
  /** Running requests, this one included when admitted. */
  parallel: number;
}

export interface Decision {
  scopes: readonly LimitScope[];
  counts: readonly ScopeCounts[];
  /** The time the decision was made at (the store's clock). */
  nowMs: number;
  /** The first full limit: index into scopes, and which. Undefined: admitted. */
  refused: { scope: number; limit: LimitKind } | undefined;
  countedBy: 'redis' | 'local';
}

export function toAdmission({ scopes, counts, nowMs, refused, countedBy }: Decision): Admission {
  const resetAtMs = windowEndMs(windowOf(nowMs));
  const statuses: LimitStatus[] = [];
  let refusedBy: LimitStatus | undefined;
  scopes.forEach((scope, i) => {
    const count = counts[i]!;
    const add = (limit: LimitKind, max: number | undefined, used: number) => {
      if (max === undefined) return;
      const status: LimitStatus = {
        scope: scope.kind,
        limit,
        max,
        remaining: Math.max(0, max - used),
        resetAtMs: limit === 'parallel' ? undefined : resetAtMs,
      };
      statuses.push(status);
      if (refused?.scope === i && refused.limit === limit) refusedBy = status;
    };
    add('requests', scope.rpm, count.requests);
    add('tokens', scope.tpm, count.tokens);
    add('parallel', scope.maxParallelRequests, count.parallel);
  });
  if (!refused) return { allowed: true, statuses, countedBy, window: windowOf(nowMs) };
  if (!refusedBy) throw new Error('the refusing limit is not among the scopes sent');
  return {
    allowed: false,
    refusedBy,
    // A window limit has room again when the window ends; a slot whenever a request ends.
    retryAfterSeconds:
      refused.limit === 'parallel' ? 1 : Math.max(1, Math.ceil((resetAtMs - nowMs) / 1000)),
    statuses,
    countedBy,
  };
}
