// Projected exhaustion: at the rate spent so far this period, will the budget run out before
// the period ends? Linear: spend / elapsed × period length ≥ maxBudget, decided exactly in
// integers (micro-dollars × milliseconds). Early in a period one call makes any rate look
// alarming, so nothing is projected before 10 % of the period and 1 hour have both passed;
// periods of 1 hour or less are never projected. A budget already spent is not projected
// either: its 100 % threshold says so.
import type { BudgetStatus } from '../../../../crds/api/meta.ts';
import { microDollars, moneyFromMicros } from '../shared/money.ts';

/** Of the period, the least that must have passed before a projection (percent). */
export const MIN_ELAPSED_PERCENT = 10n;
export const MIN_ELAPSED_MS = 3_600_000;

export interface Projection {
  /** Spend at the period's end at the current rate, decimal US dollars. */
  projectedSpend: string;
  /** When the budget runs out at that rate (RFC 3339). */
  exhaustedAt: string;
}

export function projectedExhaustion(
  spend: string,
  budget: Pick<BudgetStatus, 'maxBudget' | 'periodStart' | 'resetsAt'>,
  now: number,
): Projection | undefined {
  if (!budget.periodStart || !budget.resetsAt) return undefined;
  const start = Date.parse(budget.periodStart);
  const length = BigInt(Date.parse(budget.resetsAt) - start);
  const elapsed = BigInt(Math.min(now, Date.parse(budget.resetsAt)) - start);
  if (elapsed < MIN_ELAPSED_MS || elapsed * 100n < length * MIN_ELAPSED_PERCENT) return undefined;
  const spent = microDollars(spend);
  const max = microDollars(budget.maxBudget);
  if (spent >= max || spent * length < max * elapsed) return undefined;
  return {
    projectedSpend: moneyFromMicros((spent * length) / elapsed),
    exhaustedAt: new Date(start + Number((max * elapsed) / spent)).toISOString(),
  };
}
