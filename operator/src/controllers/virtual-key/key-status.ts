// VirtualKey.status as the VirtualKey controller writes it, from what a reconcile found.
// Conditions: Ready (the key works as the spec says), ModelsAvailable (every requested model
// has an Active subscription), when the key has an expiry, Expired, and when the key or its
// team has a max budget, BudgetExceeded (what LiteLLM says; it leaves Ready alone, which is
// about what the operator made, while a spent budget clears by itself when it resets). Other
// fields and conditions are kept: spend and budget are the spend sync's, except that a key
// registered just now starts them over with LiteLLM's answer (spend 0).
//
// Status is also the record of the key values (keyId, lastRotatedAt, previousKey): written
// before a value goes into the Secret (recordKeys), read back by recordedKeys. Tenants
// cannot write /status, so this is the state a tenant cannot forge.
import type { VirtualKey, VirtualKeyStatus } from '../../../../crds/api/index.ts';
import {
  metaTime,
  removeCondition,
  setConditions,
  type ConditionUpdate,
} from '../../runtime/conditions.ts';
import type { KeyAccess } from './key-access.ts';
import type { BudgetExceeded } from './key-budget.ts';
import type { PreviousKey, RecordedKeys } from './key-material.ts';
import type { SpendFields } from '../spend/spend-status.ts';

export const READY = 'Ready';
export const MODELS_AVAILABLE = 'ModelsAvailable';
export const EXPIRED = 'Expired';
export const BUDGET_EXCEEDED = 'BudgetExceeded';

/** The state of a key after a reconcile that got as far as deciding it. */
export interface KeyOutcome {
  team?: string;
  keyId?: string;
  keyAlias?: string;
  models: readonly string[];
  missing: readonly string[];
  secretName?: string;
  expiresAt?: Date;
  mintedAt?: Date;
  nextRotationAt?: Date;
  /** The superseded key still working. */
  previous?: PreviousKey;
  /** Ready=False with this reason and message; undefined: Ready=True. */
  notReady?: { reason: string; message: string };
  expired: boolean;
  /** The key or its team has a max budget (else no BudgetExceeded condition). */
  budgeted?: boolean;
  /** The budget LiteLLM says is spent. */
  budgetExceeded?: BudgetExceeded;
  /**
   * Spend and budget of a key registered just now (LiteLLM's answer): status.spend and
   * status.budget, which the spend sync owns otherwise, are the current key's, so they start
   * over with it. Undefined: they are kept.
   */
  registered?: SpendFields;
}

export function keyStatus(current: VirtualKey, outcome: KeyOutcome, now: Date): VirtualKeyStatus {
  const previous = current.status ?? {};
  const generation = current.metadata.generation;
  const at = (u: ConditionUpdate): ConditionUpdate => ({ ...u, observedGeneration: generation });
  const updates: ConditionUpdate[] = [
    at(
      outcome.notReady
        ? { type: READY, status: 'False', ...outcome.notReady }
        : {
            type: READY,
            status: 'True',
            reason: 'KeyReady',
            message: `key ${outcome.keyAlias ?? ''} is in Secret ${outcome.secretName ?? ''} and reaches ${outcome.models.join(', ')}`,
          },
    ),
    modelsAvailable(outcome.missing, generation),
  ];
  if (outcome.expiresAt) {
    updates.push(
      at(
        outcome.expired
          ? {
              type: EXPIRED,
              status: 'True',
              reason: 'Expired',
              message: `the key expired at ${metaTime(outcome.expiresAt)}`,
            }
          : {
              type: EXPIRED,
              status: 'False',
              reason: 'NotExpired',
              message: `the key expires at ${metaTime(outcome.expiresAt)}`,
            },
      ),
    );
  }
  const budget = budgetCondition(outcome);
  if (budget) updates.push(at(budget));
  let conditions = setConditions(previous.conditions, updates, now);
  if (!outcome.expiresAt) conditions = removeCondition(conditions, EXPIRED);
  if (!budget) conditions = removeCondition(conditions, BUDGET_EXCEEDED);
  const list = (items: readonly string[]) => (items.length > 0 ? [...items] : undefined);
  const time = (date: Date | undefined) => (date ? metaTime(date) : undefined);
  return {
    ...previous,
    observedGeneration: generation,
    team: outcome.team,
    keyId: outcome.keyId,
    keyAlias: outcome.keyAlias,
    models: list(outcome.models),
    missingModels: list(outcome.missing),
    secretName: outcome.secretName,
    expiresAt: time(outcome.expiresAt),
    lastRotatedAt: time(outcome.mintedAt),
    nextRotationAt: time(outcome.nextRotationAt),
    previousKey: previousKeyStatus(outcome.previous),
    ...(outcome.registered
      ? { spend: outcome.registered.spend, budget: outcome.registered.budget }
      : {}),
    conditions,
  };
}

/** The key state status records; times are kept to the second (metav1.Time). */
export function recordedKeys(status: VirtualKeyStatus | undefined): RecordedKeys {
  const time = (text: string | undefined) => {
    const ms = Date.parse(text ?? '');
    return Number.isNaN(ms) ? undefined : new Date(ms);
  };
  const mintedAt = time(status?.lastRotatedAt);
  const validUntil = time(status?.previousKey?.validUntil);
  return {
    ...(status?.keyId
      ? { current: { hash: status.keyId, mintedAt: mintedAt ?? new Date(0) } }
      : {}),
    ...(status?.previousKey && validUntil
      ? { previous: { hash: status.previousKey.keyId, validUntil } }
      : {}),
  };
}

/**
 * Status naming `recorded` as the key's values, everything else kept: written before a new
 * value goes into the Secret, so the Secret never holds a value status does not name.
 */
export function recordKeys(current: VirtualKey, recorded: RecordedKeys): VirtualKeyStatus {
  return {
    ...current.status,
    keyId: recorded.current?.hash,
    lastRotatedAt: recorded.current ? metaTime(recorded.current.mintedAt) : undefined,
    previousKey: previousKeyStatus(recorded.previous),
  };
}

function previousKeyStatus(previous: PreviousKey | undefined): VirtualKeyStatus['previousKey'] {
  return previous ? { keyId: previous.hash, validUntil: metaTime(previous.validUntil) } : undefined;
}

/**
 * Status after a reconcile that stopped early: Ready says why; when access was decided, the
 * team, the missing models and ModelsAvailable too; everything else stays.
 */
export function notReadyStatus(
  current: VirtualKey,
  reason: string,
  message: string,
  now: Date,
  access?: { team?: string; missing: readonly string[] },
): VirtualKeyStatus {
  const previous = current.status ?? {};
  const generation = current.metadata.generation;
  const updates: ConditionUpdate[] = [
    { type: READY, status: 'False', reason, message, observedGeneration: generation },
  ];
  if (access) updates.push(modelsAvailable(access.missing, generation));
  return {
    ...previous,
    observedGeneration: generation,
    ...(access
      ? {
          team: access.team,
          missingModels: access.missing.length > 0 ? [...access.missing] : undefined,
        }
      : {}),
    conditions: setConditions(previous.conditions, updates, now),
  };
}

/** Ready=False and why, for a key that is registered; undefined when it is Ready. */
export function notReadyReason(
  key: VirtualKey,
  access: KeyAccess,
  expired: boolean,
  blockedReason: string | undefined,
): KeyOutcome['notReady'] {
  if (expired) return { reason: 'Expired', message: 'the key has expired' };
  if (access.denial) return { reason: access.denial.reason, message: access.denial.message };
  if (key.spec.suspended)
    return { reason: 'Suspended', message: 'the key is suspended (spec.suspended)' };
  if (blockedReason)
    return { reason: blockedReason, message: `the key is blocked: ${blockedReason}` };
  if (access.wait) return { reason: access.wait.reason, message: access.wait.message };
  if (access.missing.length > 0 && key.spec.requireAllModels) {
    return {
      reason: 'ModelsNotSubscribed',
      message: `no Active ModelSubscription for ${access.missing.join(', ')}; the key reaches only ${access.models.join(', ') || 'nothing'}`,
    };
  }
  if (access.models.length === 0)
    return { reason: 'NoSubscribedModels', message: 'the key reaches no model' };
  return undefined;
}

const EXCEEDED_REASON: Record<BudgetExceeded['scope'], string> = {
  key: 'KeyBudgetExceeded',
  user: 'UserBudgetExceeded',
  team: 'TeamBudgetExceeded',
};

function budgetCondition(outcome: KeyOutcome): ConditionUpdate | undefined {
  const spent = outcome.budgetExceeded;
  if (spent) {
    const whose = spent.scope === 'key' ? 'the key' : `${spent.scope} ${spent.id}`;
    return {
      type: BUDGET_EXCEEDED,
      status: 'True',
      reason: EXCEEDED_REASON[spent.scope],
      message: `${whose} spent ${spent.spend} USD of a max budget of ${spent.maxBudget} USD; requests are refused until the budget resets or is raised`,
    };
  }
  if (!outcome.budgeted) return undefined;
  return {
    type: BUDGET_EXCEEDED,
    status: 'False',
    reason: 'WithinBudget',
    message: 'the key and its team are within their max budgets',
  };
}

function modelsAvailable(missing: readonly string[], generation?: number): ConditionUpdate {
  return missing.length > 0
    ? {
        type: MODELS_AVAILABLE,
        status: 'False',
        reason: 'ModelsNotSubscribed',
        message: `no Active ModelSubscription for ${missing.join(', ')}`,
        observedGeneration: generation,
      }
    : {
        type: MODELS_AVAILABLE,
        status: 'True',
        reason: 'AllSubscribed',
        message: 'every requested model has an Active subscription',
        observedGeneration: generation,
      };
}
