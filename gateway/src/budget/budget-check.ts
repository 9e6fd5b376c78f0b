// The budgets one request is checked against, from the key's routing record: the key's own
// and its team's, each with the spend counter it is counted in (redis-layout.ts
// spendCounterKey). Checked in the rate limiter's admit script and charged when the answer's
// cost arrives (charge-cost.ts), both by Redis; while Redis is down only the operator's
// budgetExceeded flag applies (auth/authenticate.ts).
//
// A scope is counted when its limits have a maxBudget or a softBudget and its period is known:
// the operator's spend sync names it (KeyPolicy.spendPeriods); without that, "total" for a
// budget without budgetDuration, and nothing for one with (the gateway cannot know when
// LiteLLM's period began, and a counter that never resets would refuse a key after its reset).
import {
  SPEND_COUNTER_GRACE_SECONDS,
  TOTAL_PERIOD,
  type SpendScope,
} from '../../../contracts/routing/redis-layout.ts';
import type { KeyPolicy, RoutingLimits, SpendPeriod } from '../../../contracts/routing/schema.ts';
import { budgetMicroDollars } from '../../../contracts/routing/micro-dollars.ts';

export interface BudgetCheck {
  scope: Exclude<SpendScope, 'user'>;
  /** key: the key hash; team: the team id. */
  id: string;
  periodId: string;
  /**
   * LiteLLM's rule: a key is refused once its spend reached its budget (≥), a team once its
   * spend passed it (>), see operator/src/controllers/virtual-key/key-budget.ts.
   */
  rule: 'reached' | 'passed';
  /** The budget in micro-dollars, rounded for `rule` (micro-dollars.ts); undefined: none. */
  maxMicros?: number | undefined;
  /** As written (USD), for the error message. */
  maxBudget?: string | undefined;
  /** Warn from this spend on (≥), micro-dollars rounded up. */
  softMicros?: number | undefined;
  softBudget?: string | undefined;
  /** When the counter expires (unix seconds); undefined: never ("total"). */
  expireAtSeconds?: number | undefined;
}

const NONE: readonly BudgetCheck[] = Object.freeze([]);
/** A record's checks never change (a change is a new record object): computed once. */
const byPolicy = new WeakMap<KeyPolicy, readonly BudgetCheck[]>();

export function budgetChecks(policy: KeyPolicy): readonly BudgetCheck[] {
  const { key, team } = policy.limits;
  // The usual record has no budget: no allocation, no lookup.
  if (!hasBudget(key) && !hasBudget(team)) return NONE;
  let checks = byPolicy.get(policy);
  if (checks === undefined) {
    checks = [
      checkOf('key', policy.keyHash, 'reached', key, policy.spendPeriods?.key),
      checkOf('team', policy.team, 'passed', team, policy.spendPeriods?.team),
    ].filter((c) => c !== undefined);
    byPolicy.set(policy, checks);
  }
  return checks;
}

function hasBudget(limits: RoutingLimits | undefined): limits is RoutingLimits {
  return limits?.maxBudget !== undefined || limits?.softBudget !== undefined;
}

function checkOf(
  scope: BudgetCheck['scope'],
  id: string,
  rule: BudgetCheck['rule'],
  limits: RoutingLimits | undefined,
  period: SpendPeriod | undefined,
): BudgetCheck | undefined {
  if (!hasBudget(limits)) return undefined;
  const periodId = period?.periodId ?? (limits.budgetDuration ? undefined : TOTAL_PERIOD);
  if (periodId === undefined) return undefined;
  const maxMicros = budgetMicroDollars(limits.maxBudget, rule);
  const softMicros = budgetMicroDollars(limits.softBudget, 'reached');
  if (maxMicros === undefined && softMicros === undefined) return undefined;
  const check: BudgetCheck = { scope, id, periodId, rule };
  if (maxMicros !== undefined) {
    check.maxMicros = maxMicros;
    check.maxBudget = limits.maxBudget;
  }
  if (softMicros !== undefined) {
    check.softMicros = softMicros;
    check.softBudget = limits.softBudget;
  }
  const end = periodEndMs(period);
  if (end !== undefined)
    check.expireAtSeconds = Math.ceil(end / 1000) + SPEND_COUNTER_GRACE_SECONDS;
  return check;
}

/** resetsAt, else the periodId itself when it is a time (LiteLLM's budget_reset_at). */
function periodEndMs(period: SpendPeriod | undefined): number | undefined {
  if (period === undefined || period.periodId === TOTAL_PERIOD) return undefined;
  const end = Date.parse(period.resetsAt ?? period.periodId);
  return Number.isFinite(end) ? end : undefined;
}
