// The LiteLLM key a VirtualKey should be, and the smallest /key/update that makes an observed
// key so. Blocking is not a field here: it goes through /key/block and /key/unblock.
//
// - An empty `models` list means ALL models in LiteLLM, so a key that may reach nothing gets
//   a model name that cannot exist (NO_MODELS, as the Team controller does).
// - Limits removed from the spec are sent as null (0 and "no limit" differ).
// - Expiry is a `duration` from now (LiteLLM takes no timestamp); it is only resent when
//   LiteLLM's expiry is more than EXPIRY_TOLERANCE_MS off ours.
// - `metadata` is replaced wholesale by LiteLLM, so ours is merged into what is there.
// - Every key may call the LLM API routes only (`key_type: llm_api`, whose preset is
//   allowed_routes ["llm_api_routes"]): never /key/*, /user/*, /team/* or any other management
//   route, whoever owns it. /key/update has no key_type, so a key minted before this rule
//   converges through allowed_routes.
import type { VirtualKey } from '../../../../crds/api/index.ts';
import type { MoneyInput } from '../../../../crds/api/meta.ts';
import type { GenerateKeyRequest, KeyRow, UpdateKeyRequest } from '../../litellm/schemas.ts';
import { NO_MODELS } from '../team/litellm-team.ts';
import { hasOwnerMetadata, mergeOwnerMetadata, type OwnerRef } from '../shared/ownership.ts';
import { litellmDuration, sameExpiry } from './key-schedule.ts';

export interface KeyLimitFields {
  max_budget: number | null;
  soft_budget: number | null;
  budget_duration: string | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
  max_parallel_requests: number | null;
}

export interface DesiredKey {
  alias: string;
  teamId: string;
  userId?: string;
  models: readonly string[];
  limits: KeyLimitFields;
  expiresAt?: Date;
  blocked: boolean;
  owner: OwnerRef;
}

/** "ml-research/chatbot"; the key in its rotation grace period is "…/previous" (aliases are unique). */
export function keyAlias(namespace: string, name: string, previous = false): string {
  return `${namespace}/${name}${previous ? '/previous' : ''}`;
}

export function keyLimitFields(limits: VirtualKey['spec']['limits']): KeyLimitFields {
  const money = (value: MoneyInput | undefined) => (value === undefined ? null : Number(value));
  return {
    max_budget: money(limits?.maxBudget),
    soft_budget: money(limits?.softBudget),
    budget_duration: limits?.budgetDuration ?? null,
    tpm_limit: limits?.tpm ?? null,
    rpm_limit: limits?.rpm ?? null,
    max_parallel_requests: limits?.maxParallelRequests ?? null,
  };
}

/** LiteLLM's route group of the inference routes (_types › LiteLLMRoutes.llm_api_routes). */
export const LLM_API_ROUTES: readonly string[] = ['llm_api_routes'];

export function litellmModels(models: readonly string[]): string[] {
  return models.length > 0 ? [...models] : [NO_MODELS];
}

/** /key/generate for our own key value. */
export function generateRequest(desired: DesiredKey, key: string, now: Date): GenerateKeyRequest {
  const limits: Record<string, number | string> = {};
  for (const [field, value] of Object.entries(desired.limits)) {
    if (value !== null) limits[field] = value;
  }
  return {
    key,
    key_alias: desired.alias,
    team_id: desired.teamId,
    ...(desired.userId ? { user_id: desired.userId } : {}),
    models: litellmModels(desired.models),
    ...limits,
    ...(desired.expiresAt ? { duration: litellmDuration(desired.expiresAt, now) } : {}),
    metadata: mergeOwnerMetadata({}, desired.owner),
    ...(desired.blocked ? { blocked: true } : {}),
    key_type: 'llm_api',
    allowed_routes: [...LLM_API_ROUTES],
  };
}

/** The fields of `observed` that differ from `desired`, or undefined when none do. */
export function keyUpdates(
  desired: DesiredKey,
  observed: KeyRow,
  now: Date,
): Omit<UpdateKeyRequest, 'key'> | undefined {
  const update: Omit<UpdateKeyRequest, 'key'> = {};
  if (observed.key_alias !== desired.alias) update.key_alias = desired.alias;
  if (observed.team_id !== desired.teamId) update.team_id = desired.teamId;
  if (desired.userId && observed.user_id !== desired.userId) update.user_id = desired.userId;
  const models = litellmModels(desired.models);
  if (!sameSet(observed.models ?? [], models)) update.models = models;
  for (const [field, value] of Object.entries(desired.limits) as [
    keyof KeyLimitFields,
    KeyLimitFields[keyof KeyLimitFields],
  ][]) {
    if ((observed[field] ?? null) !== value) (update as Record<string, unknown>)[field] = value;
  }
  if (!sameExpiry(observed.expires, desired.expiresAt)) {
    update.duration = desired.expiresAt ? litellmDuration(desired.expiresAt, now) : null;
  }
  const routes = (observed.allowed_routes ?? []).map(String);
  if (!sameSet(routes, LLM_API_ROUTES)) update.allowed_routes = [...LLM_API_ROUTES];
  if (!hasOwnerMetadata(observed.metadata, desired.owner)) {
    update.metadata = mergeOwnerMetadata(observed.metadata, desired.owner);
  }
  return Object.keys(update).length > 0 ? update : undefined;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}
