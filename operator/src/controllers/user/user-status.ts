// The status a User reconcile writes, as a pure function of the current status and what the
// reconcile found. Fields other controllers own (lastLoginAt, written by the gateway) are
// kept; everything this controller reports is recomputed, so an unchanged world gives an
// identical status and no write.
import type { UserStatus } from '../../../../crds/api/index.ts';
import { setConditions, type ConditionUpdate } from '../../runtime/conditions.ts';

export const READY = 'Ready';
export const SYNCED = 'Synced';

export interface UserObservation {
  /** metadata.generation of the User the reconcile read. */
  generation: number | undefined;
  /** The LiteLLM user_id, once this User owns that LiteLLM user. */
  userId: string | undefined;
  teams: readonly string[];
  /** Decimal US dollars; undefined keeps what status has. */
  spend: string | undefined;
  conditions: readonly ConditionUpdate[];
}

export function nextUserStatus(
  current: UserStatus | undefined,
  observation: UserObservation,
  now: Date = new Date(),
): UserStatus {
  const conditions = setConditions(
    current?.conditions,
    observation.conditions.map((c) => ({ ...c, observedGeneration: observation.generation })),
    now,
  );
  return {
    ...current,
    observedGeneration: observation.generation,
    userId: observation.userId,
    teams: observation.teams.length > 0 ? [...observation.teams] : undefined,
    spend: observation.spend ?? current?.spend,
    conditions,
  };
}

/** Ready and Synced after LiteLLM was made to match. */
export function reconciledConditions(userId: string): ConditionUpdate[] {
  return [
    {
      type: READY,
      status: 'True',
      reason: 'Reconciled',
      message: `LiteLLM user ${userId} matches the spec`,
    },
    {
      type: SYNCED,
      status: 'True',
      reason: 'ReconcileSuccess',
      message: `LiteLLM user ${userId} matches the spec`,
    },
  ];
}

/** Ready and Synced false for the same reason (a conflict, a failed LiteLLM call). */
export function notReadyConditions(reason: string, message: string): ConditionUpdate[] {
  return [
    { type: READY, status: 'False', reason, message },
    { type: SYNCED, status: 'False', reason, message },
  ];
}
