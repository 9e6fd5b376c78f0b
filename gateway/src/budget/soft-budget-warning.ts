// The header a request admitted past its key's or team's soft budget carries (LiteLLM's
// soft_budget: a warning, never a refusal). One entry per scope, comma-separated:
//   x-llmtenancy-budget-warning: key spend=0.0012 soft_budget=0.001 max_budget=0.002
// spend is the scope's spend in the current period before this request, USD.
import { formatMicroDollars } from '../../../contracts/routing/micro-dollars.ts';
import type { BudgetCheck } from './budget-check.ts';

export const BUDGET_WARNING_HEADER = 'x-llmtenancy-budget-warning';

export function softBudgetWarning(budget: BudgetCheck, spentMicros: number): string {
  const max = budget.maxBudget === undefined ? '' : ` max_budget=${budget.maxBudget}`;
  return `${budget.scope} spend=${formatMicroDollars(spentMicros)} soft_budget=${budget.softBudget}${max}`;
}
