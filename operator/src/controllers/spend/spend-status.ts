// The status fields the spend sync owns — spend and budget — computed from one LiteLLM row
// (a key, team or user from its list endpoint), and the merge patch that writes them.
//
// Money stays exact: LiteLLM's floats become decimal strings once (moneyFromNumber), and the
// fraction used is divided in integers from those strings, rounded half up to 4 places.
import type { BudgetStatus } from '../../../../crds/api/meta.ts';
import { microDollars, moneyFromNumber } from '../shared/money.ts';
import { sameJson } from '../../runtime/status.ts';
import { budgetPeriod } from './budget-period.ts';

/** What a list row says about money; LiteLLM's names. */
export interface SpendRow {
  /** A key's team (LiteLLM's team_id): its counters carry the team's Redis hash tag. */
  team_id?: string | null;
  spend?: number | null;
  max_budget?: number | null;
  budget_duration?: string | null;
  budget_reset_at?: string | null;
}

export interface SpendFields {
  spend?: string;
  budget?: BudgetStatus;
}

/** Spend and budget as the row gives them; a field LiteLLM cannot say is left out. */
export function spendFieldsOf(row: SpendRow): SpendFields {
  const spend = moneyFromNumber(row.spend ?? 0);
  const maxBudget = moneyFromNumber(row.max_budget);
  if (maxBudget === undefined) return { spend };
  const period = budgetPeriod(row.budget_reset_at, row.budget_duration);
  return {
    spend,
    budget: {
      maxBudget,
      usedFraction: usedFraction(spend ?? '0', maxBudget),
      ...period,
    },
  };
}

/**
 * The merge patch making `current`'s spend and budget equal to `desired`, or undefined when
 * they already are (then nothing is written). A budget LiteLLM no longer has is removed (null);
 * a spend it cannot say is kept.
 */
export function spendPatch(
  current: SpendFields | undefined,
  desired: SpendFields,
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  if (desired.spend !== undefined && desired.spend !== current?.spend) patch.spend = desired.spend;
  if (!sameJson(current?.budget, desired.budget)) patch.budget = desired.budget ?? null;
  if (patch.budget && current?.budget) {
    // A merge patch merges objects: name the fields that went away.
    for (const field of ['periodStart', 'resetsAt', 'alertsSent'] as const)
      if (desired.budget?.[field] === undefined && current.budget[field] !== undefined)
        (patch.budget as Record<string, unknown>)[field] = null;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

const PLACES = 4n;

/** spend / maxBudget to 4 places, half up: "0.4312". A budget of 0 is used up ("1.0000"). */
export function usedFraction(spend: string, maxBudget: string): string {
  const numerator = microDollars(spend);
  const denominator = microDollars(maxBudget);
  if (denominator === 0n) return '1.0000';
  const tenThousandths = (numerator * 10n ** PLACES * 2n + denominator) / (denominator * 2n);
  const digits = tenThousandths.toString().padStart(Number(PLACES) + 1, '0');
  return `${digits.slice(0, -Number(PLACES))}.${digits.slice(-Number(PLACES))}`;
}
