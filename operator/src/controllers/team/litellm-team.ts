// The LiteLLM team a Team should be, and the smallest /team/update that makes the observed
// team so. Field names are LiteLLM's (operator/src/litellm/CONTRACT-VERIFIED.md).
//
// Two LiteLLM facts shape this file:
//  - an empty `models` list means *every* model. A team with no Active subscription must
//    reach nothing, so it gets a model name that cannot exist instead (NO_MODELS);
//  - `null` clears max_budget, budget_duration, tpm_limit and rpm_limit; a field removed
//    from the spec is sent as null, because 0 and "no limit" are different things.
// LiteLLM teams have no max_parallel_requests (it is dropped silently): the gateway
// enforces that limit from the routing config.

import type { Limits } from '../../../../crds/api/index.ts';
import { fieldChanges } from '../shared/field-changes.ts';

/** A model name no deployment can have (spaces are not allowed in our model names). */
export const NO_MODELS = 'llm-tenancy: no active subscriptions';

export interface TeamFields {
  team_alias: string;
  models: string[];
  max_budget: number | null;
  budget_duration: string | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
}

export function desiredTeamFields(input: {
  name: string;
  displayName?: string;
  limits?: Limits;
  models: readonly string[];
}): TeamFields {
  const limits = input.limits ?? {};
  return {
    team_alias: input.displayName ?? input.name,
    models: input.models.length > 0 ? [...input.models].sort() : [NO_MODELS],
    max_budget: limits.maxBudget === undefined ? null : Number(limits.maxBudget),
    budget_duration: limits.budgetDuration ?? null,
    tpm_limit: limits.tpm ?? null,
    rpm_limit: limits.rpm ?? null,
  };
}

/** What LiteLLM reports for a team (`team_info` of /team/info), loosely: any field may be null. */
export type ObservedTeam = { [K in keyof TeamFields]?: TeamFields[K] | null | undefined };

/** The fields to send to /team/update, or undefined when LiteLLM already agrees. */
export function teamFieldChanges(
  desired: TeamFields,
  observed: ObservedTeam,
): Partial<TeamFields> | undefined {
  return fieldChanges(desired, observed);
}
