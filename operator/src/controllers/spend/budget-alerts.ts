// Budget alerts' bookkeeping: which thresholds (percent of maxBudget) the spend has reached
// in the current budget period and not yet been alerted, remembered in
// status.budget.alertsSent so that each fires once per period, across restarts. A new period
// (another periodStart) starts with none sent. Whether a threshold is reached is decided from
// the exact amounts (spend × 100 ≥ threshold × maxBudget), not from the rounded fraction.
import type { BudgetStatus } from '../../../../crds/api/meta.ts';
import type { EventSpec } from '../../runtime/events.ts';

export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = [50, 75, 90, 100];
export const BUDGET_THRESHOLD_REACHED = 'BudgetThresholdReached';
/** From this percentage on, the Event is a Warning. */
const WARNING_FROM = 90;

export type AlertsSent = NonNullable<BudgetStatus['alertsSent']>;

export interface AlertBookkeeping {
  /** What status.budget.alertsSent becomes; undefined: none sent this period. */
  alertsSent: AlertsSent | undefined;
  /** Thresholds reached now for the first time this period, ascending. */
  reached: number[];
}

export function budgetAlerts(
  spend: string,
  budget: Pick<BudgetStatus, 'maxBudget' | 'periodStart'>,
  previous: AlertsSent | undefined,
  thresholds: readonly number[],
): AlertBookkeeping {
  const samePeriod = previous !== undefined && previous.periodStart === budget.periodStart;
  const sent = samePeriod ? previous.thresholds : [];
  const reached = [...new Set(thresholds)]
    .filter((t) => !sent.includes(t) && hasReached(spend, budget.maxBudget, t))
    .sort((a, b) => a - b);
  const all = [...new Set([...sent, ...reached])].sort((a, b) => a - b);
  if (all.length === 0) return { alertsSent: undefined, reached };
  return {
    alertsSent: {
      ...(budget.periodStart ? { periodStart: budget.periodStart } : {}),
      thresholds: all,
    },
    reached,
  };
}

/** spend ≥ percent % of maxBudget, exactly. A budget of 0 is reached by any spend. */
export function hasReached(spend: string, maxBudget: string, percent: number): boolean {
  return micros(spend) * 100n >= BigInt(percent) * micros(maxBudget);
}

/** The Event for one threshold reached: the percentage, spend and budget in the note. */
export function thresholdEvent(
  percent: number,
  spend: string,
  budget: Pick<BudgetStatus, 'maxBudget' | 'periodStart' | 'resetsAt'>,
): EventSpec {
  const period = budget.resetsAt ? `; the budget resets at ${budget.resetsAt}` : '';
  return {
    type: percent >= WARNING_FROM ? 'Warning' : 'Normal',
    reason: BUDGET_THRESHOLD_REACHED,
    action: 'SyncSpend',
    note: `Spend reached ${percent}% of the budget: $${spend} of $${budget.maxBudget}${period}`,
  };
}

function micros(amount: string): bigint {
  const [whole = '0', fraction = ''] = amount.split('.');
  return BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0');
}
