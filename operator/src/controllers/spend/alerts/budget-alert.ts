// The budget alert as sinks deliver it (README "Spend and budgets" documents this shape):
// one JSON object per alert, money as decimal strings (US dollars, exact), times RFC 3339.
//
//   id            stable per object, period and alert: a receiver deduplicates retries by it
//   type          budget.threshold_reached | budget.exhaustion_projected | budget.soft_budget_reached
//   kind, namespace ("" for Teams and Users), name, litellmId (team_id, user_id or key hash)
//   threshold     percent (threshold_reached only)
//   projectedSpend, exhaustedAt   (exhaustion_projected only)
//   softBudget    (soft_budget_reached only)
//   spend, maxBudget, usedFraction, periodStart, resetsAt (the last two null without a period)
//   at            when the spend sync decided it
import type { BudgetStatus } from '../../../../../crds/api/meta.ts';
import type { Projection } from '../budget-projection.ts';

export type BudgetAlertType =
  'budget.threshold_reached' | 'budget.exhaustion_projected' | 'budget.soft_budget_reached';

export interface BudgetAlert {
  id: string;
  type: BudgetAlertType;
  kind: 'Team' | 'User' | 'VirtualKey';
  namespace: string;
  name: string;
  litellmId: string;
  threshold?: number;
  projectedSpend?: string;
  exhaustedAt?: string;
  softBudget?: string;
  spend: string;
  maxBudget: string;
  usedFraction: string;
  periodStart: string | null;
  resetsAt: string | null;
  at: string;
}

export interface AlertSubject {
  kind: BudgetAlert['kind'];
  namespace: string;
  name: string;
  litellmId: string;
}

/** What fired: a threshold (percent), a projection, or the soft budget. */
export type AlertCause =
  | { type: 'budget.threshold_reached'; threshold: number }
  | { type: 'budget.exhaustion_projected'; projection: Projection }
  | { type: 'budget.soft_budget_reached'; softBudget: string };

export function budgetAlert(
  subject: AlertSubject,
  cause: AlertCause,
  spend: string,
  budget: BudgetStatus,
  at: number,
): BudgetAlert {
  const detail =
    cause.type === 'budget.threshold_reached'
      ? { threshold: cause.threshold }
      : cause.type === 'budget.exhaustion_projected'
        ? { ...cause.projection }
        : { softBudget: cause.softBudget };
  const which = cause.type === 'budget.threshold_reached' ? `:${cause.threshold}` : '';
  const period = budget.periodStart ?? 'total';
  return {
    id: `${subject.kind}/${subject.namespace}/${subject.name}/${period}/${cause.type}${which}`,
    type: cause.type,
    ...subject,
    ...detail,
    spend,
    maxBudget: budget.maxBudget,
    usedFraction: budget.usedFraction,
    periodStart: budget.periodStart ?? null,
    resetsAt: budget.resetsAt ?? null,
    at: new Date(at).toISOString(),
  };
}

/** One line a person reads (Slack's text, an e-mail's subject). */
export function alertSummary(alert: BudgetAlert): string {
  const who = alert.namespace
    ? `${alert.kind} ${alert.namespace}/${alert.name}`
    : `${alert.kind} ${alert.name}`;
  switch (alert.type) {
    case 'budget.threshold_reached':
      return `${who}: spend reached ${alert.threshold}% of the budget ($${alert.spend} of $${alert.maxBudget})`;
    case 'budget.exhaustion_projected':
      return `${who}: at the current rate the budget ($${alert.maxBudget}) runs out at ${alert.exhaustedAt}, before the period ends`;
    case 'budget.soft_budget_reached':
      return `${who}: spend reached the soft budget ($${alert.spend} of $${alert.softBudget})`;
  }
}

/** A few lines more: the period. */
export function alertDetails(alert: BudgetAlert): string {
  const lines = [
    alertSummary(alert),
    `Spend: $${alert.spend} of $${alert.maxBudget} (${(Number(alert.usedFraction) * 100).toFixed(2)}%)`,
  ];
  if (alert.projectedSpend) lines.push(`Projected spend this period: $${alert.projectedSpend}`);
  if (alert.periodStart && alert.resetsAt)
    lines.push(`Budget period: ${alert.periodStart} to ${alert.resetsAt}`);
  return lines.join('\n');
}
