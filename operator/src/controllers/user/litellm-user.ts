// The LiteLLM user a User should be, and the smallest /user/update that makes it so.
//
// Roles (documented in README):
//   admin   → proxy_admin           runs the platform
//   manager → internal_user         manages the Teams that name them as admin
//   user    → internal_user
//   viewer  → internal_user_viewer  reads, cannot make keys
// A LiteLLM user with an empty `models` list may mint personal keys for *every* model.
// Access here comes only through Teams, so every user gets LiteLLM's `no-default-models`.
// max_parallel_requests cannot be cleared through /user/update; the gateway enforces it.

import type { Limits, UserRole } from '../../../../crds/api/index.ts';
import { fieldChanges } from '../shared/field-changes.ts';

export type LiteLLMUserRole =
  'proxy_admin' | 'proxy_admin_viewer' | 'internal_user' | 'internal_user_viewer';

export const LITELLM_ROLE: Readonly<Record<UserRole, LiteLLMUserRole>> = {
  admin: 'proxy_admin',
  manager: 'internal_user',
  user: 'internal_user',
  viewer: 'internal_user_viewer',
};

/** LiteLLM's sentinel: this user reaches models only through team keys. */
export const TEAM_MODELS_ONLY = ['no-default-models'];

export interface UserFields {
  user_email: string | null;
  user_alias: string | null;
  user_role: LiteLLMUserRole;
  models: string[];
  max_budget: number | null;
  budget_duration: string | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
}

export function desiredUserFields(spec: {
  email?: string;
  displayName?: string;
  role: UserRole;
  limits?: Limits;
}): UserFields {
  const limits = spec.limits ?? {};
  return {
    user_email: spec.email ?? null,
    user_alias: spec.displayName ?? null,
    user_role: LITELLM_ROLE[spec.role],
    models: [...TEAM_MODELS_ONLY],
    max_budget: limits.maxBudget === undefined ? null : Number(limits.maxBudget),
    budget_duration: limits.budgetDuration ?? null,
    tpm_limit: limits.tpm ?? null,
    rpm_limit: limits.rpm ?? null,
  };
}

export type ObservedUser = { [K in keyof UserFields]?: UserFields[K] | undefined };

/**
 * /user/update ignores null for these: an e-mail or alias removed from the spec stays in
 * LiteLLM, and asking again on every resync would never converge.
 */
type Unclearable = 'user_email' | 'user_alias';
const UNCLEARABLE: readonly Unclearable[] = ['user_email', 'user_alias'];

/** What /user/update is sent: null only where it clears (budgets and rate limits). */
export type UserFieldUpdate = Partial<Omit<UserFields, Unclearable>> & {
  [K in Unclearable]?: string;
};

/** What /user/new is sent: it knows no null, an unset field is left out. */
export type NewUserFields = { [K in keyof UserFields]?: Exclude<UserFields[K], null> };

/** The fields to send to /user/update, or undefined when LiteLLM already agrees. */
export function userFieldChanges(
  desired: UserFields,
  observed: ObservedUser,
): UserFieldUpdate | undefined {
  const changes = fieldChanges(desired, observed);
  for (const field of UNCLEARABLE) {
    if (changes?.[field] === null) delete changes[field];
  }
  return changes && Object.keys(changes).length > 0 ? (changes as UserFieldUpdate) : undefined;
}

export function newUserFields(desired: UserFields): NewUserFields {
  return Object.fromEntries(
    Object.entries(desired).filter(([, value]) => value !== null),
  ) as NewUserFields;
}
