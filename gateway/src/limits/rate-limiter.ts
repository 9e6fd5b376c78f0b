// What the request path asks of rate limiting, whatever counts the requests (Redis shared by
// every gateway instance, or this process alone while Redis is unreachable).
//
// Limits apply per scope: the key, the team's subscription to the requested model, and the
// team. One request is admitted only when every scope has room for it, and then counted in
// every scope at once, atomically: a refused request leaves no trace in any counter.
//
// Semantics, as LiteLLM's own limiter (parallel_request_limiter_v3):
// - rpm: requests started in the current fixed 60-second window (windows follow Redis's clock,
//   so every instance agrees on them). A request is admitted when fewer than rpm started.
// - tpm: tokens in the current window. Token counts are known only after the response, so
//   admission reserves an estimate (token-estimate.ts) in every tpm scope, and a request is
//   admitted only when the window's tokens plus its reservation stay within tpm. Settle
//   replaces the reservation with the real usage (real − reserved, in the window the
//   reservation was made in); a request that ends without usage keeps its reservation.
// - maxParallelRequests: requests running now. A slot is held until settle, or until its lease
//   ends (a gateway that died mid-request cannot hold a slot forever).
// - budgets (budget/budget-check.ts): the key's and the team's spend in the current budget
//   period against their maxBudget, checked in the same step, before any limit; a request is
//   charged its cost later, when the answer's head brings it (chargeSpend). Only Redis holds
//   spend: a limiter without it (LocalRateLimiter) admits past budgets, and the operator's
//   budgetExceeded flag is then the only budget that holds.
import type { BudgetCheck } from '../budget/budget-check.ts';

/** Thrown by admit when one of the request's budgets is spent (the first, key before team). */
export class BudgetSpent extends Error {
  override readonly name = 'BudgetSpent';
  readonly budget: BudgetCheck;
  /** The scope's spend in the period, micro-dollars. */
  readonly spentMicros: number;

  constructor(budget: BudgetCheck, spentMicros: number) {
    super(`the ${budget.scope} budget is spent`);
    this.budget = budget;
    this.spentMicros = spentMicros;
  }
}

export type ScopeKind = 'key' | 'subscription' | 'team';
export type LimitKind = 'requests' | 'tokens' | 'parallel';

export interface LimitScope {
  kind: ScopeKind;
  /** key: the key hash; subscription: its uid (older records: the model); team: the team id. */
  id: string;
  rpm?: number | undefined;
  tpm?: number | undefined;
  maxParallelRequests?: number | undefined;
}

export interface AdmissionRequest {
  /** Unique per request: names its parallel slot. */
  requestId: string;
  /** Every scope belongs to one team; its id keeps all the counters in one Redis Cluster slot. */
  team: string;
  /** Only scopes with at least one limit; may be empty (then nothing is counted). */
  scopes: readonly LimitScope[];
  /** Tokens to reserve in every tpm scope at admission (token-estimate.ts); 0 when unset. */
  reserveTokens?: number | undefined;
  /** Budgets to check (and later charge); may be absent or empty. */
  budgets?: readonly BudgetCheck[] | undefined;
}

/** One limit of one scope after the decision (for x-ratelimit-* headers). */
export interface LimitStatus {
  scope: ScopeKind;
  limit: LimitKind;
  /** The configured limit. */
  max: number;
  /** What is left after this request (requests, tokens, parallel slots), never below 0. */
  remaining: number;
  /** When the window resets, in ms since the epoch (parallel: undefined). */
  resetAtMs?: number | undefined;
}

export type Admission =
  | {
      allowed: true;
      statuses: LimitStatus[];
      /** Who counted: 'redis', 'local' (Redis down, counted here alone), 'none' (failed open). */
      countedBy: 'redis' | 'local' | 'none';
      /** The window the request (and its reservation) was counted in; unset: nothing counted. */
      window?: number | undefined;
      /** Per budget of the request, its spend so far (micro-dollars); unset: not checked. */
      spentMicros?: readonly number[] | undefined;
    }
  | {
      allowed: false;
      /** The first limit that had no room (in scope order key, subscription, team). */
      refusedBy: LimitStatus;
      /** Seconds until a retry can succeed (window end; parallel: 1). */
      retryAfterSeconds: number;
      statuses: LimitStatus[];
      countedBy: 'redis' | 'local';
    }
  | {
      /** Redis unreachable and LIMITS_WHEN_REDIS_DOWN=closed. */
      allowed: false;
      unavailable: true;
    };

export interface RateLimiter {
  /**
   * Decides and counts in one step (one Redis round trip). A spent budget rejects with
   * BudgetSpent (nothing counted), before any limit is looked at.
   */
  admit(request: AdmissionRequest): Promise<Admission>;
  /**
   * After the request ended (success, error or client abort): frees its parallel slot and
   * settles its reservation to `tokens`, the tokens it really used (tokensToSettle), in the
   * tpm counters of `window`. Never throws; a failure is logged and counted.
   * `countedBy` and `window` are the admission's, so a request counted locally is settled
   * locally; `window` undefined: the current one.
   */
  settle(
    request: AdmissionRequest,
    tokens: number,
    countedBy: 'redis' | 'local' | 'none',
    window?: number,
  ): Promise<void>;
  /**
   * Adds an answer's cost (micro-dollars) to the spend counters of the request's budgets,
   * in one round trip. Never throws: resolves false when the counters did not take it (Redis
   * down), and the cost is then known only to LiteLLM (and the operator's sync). Absent: the
   * limiter counts no spend.
   */
  chargeSpend?(request: AdmissionRequest, micros: number): Promise<boolean>;
  /** Sends whatever settles are still gathered (before shutdown). Never throws. */
  flush?(): Promise<void>;
}
