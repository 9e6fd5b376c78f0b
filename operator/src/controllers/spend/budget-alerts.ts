// Budget alerts' bookkeeping: which thresholds (percent of maxBudget) the spend has reached
// in the current budget period and not yet been alerted, remembered in
// status.budget.alertsSent so that each fires once per period, across restarts. A new period
// (another periodStart) starts with none sent. Whether a threshold is reached is decided from
// the exact amounts (spend × 100 ≥ threshold × maxBudget), not from the rounded fraction.
// Two more alerts fire at most once per period the same way, remembered beside the
// thresholds: projected exhaustion (budget-projection.ts) and the soft budget (a key's
// spec.limits.softBudget; spend ≥ softBudget).
import type { BudgetStatus } from '../../../../crds/api/meta.ts';
import type { EventSpec } from '../../runtime/events.ts';
import { microDollars } from '../shared/money.ts';
import { projectedExhaustion, type Projection } from './budget-projection.ts';

export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = [50, 75, 90, 100];
export const BUDGET_THRESHOLD_REACHED = 'BudgetThresholdReached';
export const BUDGET_EXHAUSTION_PROJECTED = 'BudgetExhaustionProjected';
export const SOFT_BUDGET_REACHED = 'SoftBudgetReached';
/** From this percentage on, the Event is a Warning. */
const WARNING_FROM = 90;

export type AlertsSent = NonNullable<BudgetStatus['alertsSent']>;

export interface AlertBookkeeping {
  /** What status.budget.alertsSent becomes; undefined: none sent this period. */
  alertsSent: AlertsSent | undefined;
  /** Thresholds reached now for the first time this period, ascending. */
  reached: number[];
  /** Present when exhaustion is projected for the first time this period. */
  projection?: Projection;
  /** Present (true) when spend reached the soft budget for the first time this period. */
  softBudgetReached?: true;
}

export interface AlertInputs {
  /** The soft budget, decimal US dollars (a VirtualKey's spec.limits.softBudget). */
  softBudget?: string;
  /** Unix ms; without it nothing is projected. */
  now?: number;
}

export function budgetAlerts(
  spend: string,
  budget: Pick<BudgetStatus, 'maxBudget' | 'periodStart' | 'resetsAt'>,
  previous: AlertsSent | undefined,
  thresholds: readonly number[],
  inputs: AlertInputs = {},
): AlertBookkeeping {
  const samePeriod = previous !== undefined && previous.periodStart === budget.periodStart;
  const before: Partial<AlertsSent> = samePeriod ? previous : {};
  const sent = before.thresholds ?? [];
  const reached = [...new Set(thresholds)]
    .filter((t) => !sent.includes(t) && hasReached(spend, budget.maxBudget, t))
    .sort((a, b) => a - b);
  const projection =
    before.exhaustionProjected || inputs.now === undefined
      ? undefined
      : projectedExhaustion(spend, budget, inputs.now);
  const softBudgetReached =
    !before.softBudget &&
    inputs.softBudget !== undefined &&
    microDollars(spend) >= microDollars(inputs.softBudget);
  const fired = {
    reached,
    ...(projection ? { projection } : {}),
    ...(softBudgetReached ? { softBudgetReached: true as const } : {}),
  };
  const all = [...new Set([...sent, ...reached])].sort((a, b) => a - b);
  const exhaustionProjected = before.exhaustionProjected || projection !== undefined;
  const softBudget = before.softBudget || softBudgetReached;
  if (all.length === 0 && !exhaustionProjected && !softBudget)
    return { alertsSent: undefined, ...fired };
  return {
    alertsSent: {
      ...(budget.periodStart ? { periodStart: budget.periodStart } : {}),
      thresholds: all,
      ...(exhaustionProjected ? { exhaustionProjected } : {}),
      ...(softBudget ? { softBudget } : {}),
    },
    ...fired,
  };
}

/** spend ≥ percent % of maxBudget, exactly. A budget of 0 is reached by any spend. */
export function hasReached(spend: string, maxBudget: string, percent: number): boolean {
  return microDollars(spend) * 100n >= BigInt(percent) * microDollars(maxBudget);
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

/** The Event for a projected exhaustion: the rate's outcome and when the budget runs out. */
export function projectionEvent(
  projection: Projection,
  spend: string,
  budget: Pick<BudgetStatus, 'maxBudget' | 'resetsAt'>,
): EventSpec {
  return {
    type: 'Warning',
    reason: BUDGET_EXHAUSTION_PROJECTED,
    action: 'SyncSpend',
    note: `At the current rate the budget runs out at ${projection.exhaustedAt}, before it resets at ${budget.resetsAt}: $${spend} of $${budget.maxBudget} spent, $${projection.projectedSpend} projected`,
  };
}

/** The Event for a soft budget reached. */
export function softBudgetEvent(softBudget: string, spend: string): EventSpec {
  return {
    type: 'Warning',
    reason: SOFT_BUDGET_REACHED,
    action: 'SyncSpend',
    note: `Spend reached the soft budget: $${spend} of $${softBudget}`,
  };
}
