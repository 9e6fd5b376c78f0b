// The shared rate limiter: every gateway instance counts in the same Redis, one script call
// per admission and one per settle (limit-scripts.ts), so limits hold across instances.
//
// admit() throws when Redis does not answer (unreachable, timed out, script error): whether to
// count locally, admit or refuse then is FallbackRateLimiter's choice, not ours. Give it a
// client that fails fast (enableOfflineQueue off, a short commandTimeout): a request should
// not wait for a Redis that is down.
//
// settle() never throws. A settle that fails leaves the request's reservation as its tokens
// and its parallel slot held until the lease ends; `leaseMs` bounds that, so it must exceed
// the longest request the gateway lets run (a longer request's slot is freed early).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { spendCounterKey } from '../../../contracts/routing/redis-layout.ts';
import type { BudgetCheck } from '../budget/budget-check.ts';
import { LIMIT_SUFFIX, scopeBaseKey } from './limit-keys.ts';
import { toAdmission } from './limit-decision.ts';
import {
  limitScripts,
  type LimitScripts,
  type ScriptBudget,
  type ScriptScope,
  type TokenDebit,
} from './limit-scripts.ts';
import {
  BudgetSpent,
  type Admission,
  type AdmissionRequest,
  type RateLimiter,
} from './rate-limiter.ts';

/** How long token debits gather before they go to Redis in one call per team. */
export const TOKEN_BATCH_MS = 20;

export interface RedisRateLimiterOptions {
  redis: Redis;
  /** Key prefix, as the routing config's (e.g. "llmtenancy:"). */
  prefix: string;
  /** How long a parallel slot is held when its request never settles. */
  leaseMs: number;
  logger?: Logger | undefined;
  /** Called for every settle Redis did not take (for a metric). */
  onSettleError?: ((error: unknown) => void) | undefined;
}

export class RedisRateLimiter implements RateLimiter {
  readonly #scripts: LimitScripts;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #log: Logger | undefined;
  readonly #onSettleError: ((error: unknown) => void) | undefined;
  /** While settles keep failing, only the first is logged as a warning. */
  #settleFailing = false;
  /** team → tpm counter (base and window) → tokens not yet sent (see #debitLater). */
  readonly #pendingTokens = new Map<string, Map<string, TokenDebit>>();
  #debits: Promise<void> | undefined;
  readonly #scriptBudgets = new WeakMap<BudgetCheck, { team: string; script: ScriptBudget }>();

  constructor(options: RedisRateLimiterOptions) {
    if (!Number.isInteger(options.leaseMs) || options.leaseMs <= 0) {
      throw new Error('leaseMs must be a positive integer');
    }
    scopeBaseKey(options.prefix, 't', 'team', 't'); // rejects a prefix with braces now
    this.#scripts = limitScripts(options.redis);
    this.#prefix = options.prefix;
    this.#leaseMs = options.leaseMs;
    this.#log = options.logger;
    this.#onSettleError = options.onSettleError;
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    const budgets = request.budgets ?? [];
    // Nothing to count or check: no round trip.
    if (request.scopes.length === 0 && budgets.length === 0) {
      return { allowed: true, statuses: [], countedBy: 'redis' };
    }
    const reply = await this.#scripts.admit(
      this.#scriptScopes(request),
      request.requestId,
      this.#leaseMs,
      request.reserveTokens ?? 0,
      budgets.map((b) => this.#scriptBudget(request.team, b)),
    );
    const spent = reply.spentMicros;
    if (reply.budgetRefused !== undefined) {
      const i = reply.budgetRefused;
      throw new BudgetSpent(budgets[i]!, spent![i]!);
    }
    const { nowMs, refused, counts } = reply;
    const admission = toAdmission({
      scopes: request.scopes,
      nowMs,
      refused,
      counts,
      countedBy: 'redis',
    });
    if (admission.allowed && spent !== undefined) admission.spentMicros = spent;
    return admission;
  }

  async chargeSpend(request: AdmissionRequest, micros: number): Promise<boolean> {
    const budgets = request.budgets;
    if (budgets === undefined || budgets.length === 0 || !(micros > 0)) return true;
    try {
      await this.#scripts.chargeSpend(
        budgets.map((b) => ({
          counter: this.#counter(request.team, b),
          expireAtSeconds: b.expireAtSeconds,
        })),
        micros,
      );
      return true;
    } catch (err) {
      this.#log?.debug(
        { err: { name: (err as Error).name, message: (err as Error).message } },
        'spend charge failed',
      );
      return false;
    }
  }

  #counter(team: string, budget: BudgetCheck): string {
    return this.#scriptBudget(team, budget).counter;
  }

  /**
   * A budget as the scripts take it, built once per check: a record's checks live as long as
   * the record (budget-check.ts), and its counter's name costs three URL encodings.
   */
  #scriptBudget(team: string, budget: BudgetCheck): ScriptBudget {
    const known = this.#scriptBudgets.get(budget);
    if (known?.team === team) return known.script;
    const script: ScriptBudget = {
      counter: spendCounterKey(this.#prefix, team, budget.scope, budget.id, budget.periodId),
      maxMicros: budget.maxMicros,
      strict: budget.rule === 'passed',
    };
    this.#scriptBudgets.set(budget, { team, script });
    return script;
  }

  async settle(
    request: AdmissionRequest,
    tokens: number,
    countedBy: 'redis' | 'local' | 'none',
    window?: number,
  ): Promise<void> {
    if (countedBy !== 'redis') return;
    const scopes = this.#scriptScopes(request).filter(
      (s) => s.tpm !== undefined || s.maxParallelRequests !== undefined,
    );
    if (scopes.length === 0) return;
    // What the reservation was off by: positive charges more, negative gives some back.
    const delta =
      (Number.isFinite(tokens) ? Math.max(0, tokens) : 0) - (request.reserveTokens ?? 0);
    const at = window ?? -1;
    if (!scopes.some((s) => s.maxParallelRequests !== undefined)) {
      if (delta === 0) return;
      return this.#debitLater(request.team, scopes, delta, at);
    }
    try {
      await this.#scripts.settle(scopes, request.requestId, delta, at);
      this.#settleSucceeded();
    } catch (err) {
      this.#settleFailed(err);
    }
  }

  #settleSucceeded(): void {
    if (this.#settleFailing) this.#log?.info('rate-limit settles reach Redis again');
    this.#settleFailing = false;
  }

  #settleFailed(err: unknown): void {
    this.#onSettleError?.(err);
    const fields = { err: { name: (err as Error).name, message: (err as Error).message } };
    if (this.#settleFailing) {
      this.#log?.debug(fields, 'rate-limit settle failed');
    } else {
      this.#settleFailing = true;
      this.#log?.warn(
        fields,
        "rate-limit settle failed: the request's tokens are not counted and its parallel slot is held until its lease ends",
      );
    }
  }

  /**
   * Token debits that free no parallel slot wait up to TOKEN_BATCH_MS and go to Redis together,
   * one script call per team (a team's counters share one Cluster slot): with tpm limits this
   * halves the Redis calls per request. The debit is exact, only later by that much; it goes to
   * the window of the reservation (a debit beyond it to the current one when that window has
   * ended meanwhile). Resolves once it reached Redis (or failed).
   */
  #debitLater(
    team: string,
    scopes: readonly ScriptScope[],
    delta: number,
    window: number,
  ): Promise<void> {
    let byCounter = this.#pendingTokens.get(team);
    if (!byCounter) this.#pendingTokens.set(team, (byCounter = new Map()));
    for (const s of scopes) {
      if (s.tpm === undefined) continue;
      const counter = `${s.base}${LIMIT_SUFFIX.tokens}${window}`;
      const pending = byCounter.get(counter);
      if (pending) pending.delta += delta;
      else byCounter.set(counter, { base: s.base, window, delta });
    }
    this.#debits ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => resolve(this.flush()), TOKEN_BATCH_MS);
      timer.unref();
    });
    return this.#debits;
  }

  /** Sends the token debits gathered so far (at once; also on shutdown). Never throws. */
  async flush(): Promise<void> {
    const pending = [...this.#pendingTokens.values()];
    this.#pendingTokens.clear();
    this.#debits = undefined;
    const results = await Promise.allSettled(
      pending
        .map((byCounter) => [...byCounter.values()].filter((d) => d.delta !== 0))
        .filter((debits) => debits.length > 0)
        .map((debits) => this.#scripts.addTokens(debits)),
    );
    for (const result of results) {
      if (result.status === 'rejected') this.#settleFailed(result.reason);
      else this.#settleSucceeded();
    }
  }

  #scriptScopes(request: AdmissionRequest): ScriptScope[] {
    return request.scopes.map((s) => ({
      base: scopeBaseKey(this.#prefix, request.team, s.kind, s.id),
      rpm: s.rpm,
      tpm: s.tpm,
      maxParallelRequests: s.maxParallelRequests,
    }));
  }
}
