// Whether a key's budget is spent, as LiteLLM decides before each request
// (litellm/proxy/auth/auth_checks.py), for the gateway's record (KeyPolicy.budgetExceeded):
// the gateway then refuses the key with LiteLLM's budget_exceeded error without asking it.
//
//   key   spend ≥ max_budget (_virtual_key_max_budget_check), both from the key's /key/info
//         row, which the reconciler reads on every pass anyway
//   team  spend > max_budget, strictly (_team_max_budget_check): Team.status.spend, which the
//         Team controller copies from /team/info on each of its passes, against the Team's
//         spec.limits.maxBudget, which it keeps LiteLLM's max_budget at. No LiteLLM call
//   user  never: LiteLLM checks a user's personal budget only for keys without a team
//         (common_checks 4.1), and every VirtualKey belongs to one
//
// The key is checked first, as LiteLLM does. Nothing is said about an amount money cannot
// hold (moneyFromNumber): the key then simply reaches LiteLLM, which decides.
import type { Team } from '../../../../crds/api/index.ts';
import type { KeyPolicy } from '../../../../contracts/routing/schema.ts';
import { dollarsOf } from '../../../../crds/api/meta.ts';
import { compareMoney, moneyFromNumber } from '../shared/money.ts';

export type BudgetExceeded = NonNullable<KeyPolicy['budgetExceeded']>;

/** A key's spend and max budget in LiteLLM, US dollars (null: none). */
export interface KeySpend {
  spend: number | null | undefined;
  maxBudget: number | null | undefined;
}

export type BudgetTeam = Pick<Team, 'metadata' | 'spec' | 'status'>;

export function keyBudgetExceeded(
  keyHash: string,
  key: KeySpend | undefined,
): BudgetExceeded | undefined {
  const spend = key?.spend;
  const max = key?.maxBudget;
  if (typeof spend !== 'number' || typeof max !== 'number' || !(spend >= max)) return undefined;
  return exceeded('key', keyHash, moneyFromNumber(spend), moneyFromNumber(max));
}

export function teamBudgetExceeded(team: BudgetTeam | undefined): BudgetExceeded | undefined {
  const spend = team?.status?.spend;
  const max = dollarsOf(team?.spec?.limits?.maxBudget);
  if (spend === undefined || max === undefined || compareMoney(spend, max) <= 0) return undefined;
  return exceeded('team', team!.status?.teamId ?? team!.metadata.name!, spend, max);
}

/** The first budget a request with this key would run into; undefined when none is spent. */
export function budgetExceeded(
  keyHash: string,
  key: KeySpend | undefined,
  team: BudgetTeam | undefined,
): BudgetExceeded | undefined {
  return keyBudgetExceeded(keyHash, key) ?? teamBudgetExceeded(team);
}

function exceeded(
  scope: BudgetExceeded['scope'],
  id: string,
  spend: string | undefined,
  maxBudget: string | undefined,
): BudgetExceeded | undefined {
  return spend !== undefined && maxBudget !== undefined
    ? { scope, id, spend, maxBudget }
    : undefined;
}
