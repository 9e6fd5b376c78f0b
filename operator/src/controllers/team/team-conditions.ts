// The conditions a Team reports, as pure functions of what a reconcile found. Ready and
// Synced as Crossplane has them (Synced: the last reconcile with LiteLLM worked; Ready: the
// Team is fully what its spec says), plus one condition per thing that can be partly wrong:
// NamespaceConflict, RolesSynced, GroupsHeld.
import type { ConditionUpdate } from '../../runtime/conditions.ts';
import { ADOPT_ANNOTATION, type Ownership } from '../shared/ownership.ts';
import { heldMessage, type GroupResolution } from './group-grace.ts';
import { namespaceConflictMessage, type NamespaceConflict } from './namespace-conflicts.ts';

export const READY = 'Ready';
export const SYNCED = 'Synced';
export const NAMESPACE_CONFLICT = 'NamespaceConflict';
export const ROLES_SYNCED = 'RolesSynced';
export const GROUPS_HELD = 'GroupsHeld';

export { ADOPT_ANNOTATION };

/** What a successful reconcile found, as far as conditions tell it. */
export interface TeamSyncOutcome {
  teamId: string;
  memberCount: number;
  /** Members whose User is not Ready yet, so not in LiteLLM yet. */
  pending: readonly string[];
  models: readonly string[];
  namespaceConflicts: readonly NamespaceConflict[];
  /** Members LiteLLM would not make team admin without an Enterprise licence. */
  refusedAdmins: readonly string[];
  /** Whether the Team names groups at all (GroupsHeld is reported only then). */
  hasGroups: boolean;
  /** Groups whose former users are kept through the grace period. */
  held: readonly GroupResolution[];
}

export function syncedConditions(outcome: TeamSyncOutcome, generation?: number): ConditionUpdate[] {
  const at = (update: ConditionUpdate): ConditionUpdate => ({
    ...update,
    observedGeneration: generation,
  });
  const conflicted = outcome.namespaceConflicts.length > 0;
  const updates: ConditionUpdate[] = [
    at({
      type: SYNCED,
      status: 'True',
      reason: 'ReconcileSuccess',
      message: `LiteLLM team ${outcome.teamId} matches the spec`,
    }),
    at(
      conflicted
        ? {
            type: READY,
            status: 'False',
            reason: 'NamespaceConflict',
            message: namespaceConflictMessage(outcome.namespaceConflicts),
          }
        : { type: READY, status: 'True', reason: 'Reconciled', message: readyMessage(outcome) },
    ),
    at(
      conflicted
        ? {
            type: NAMESPACE_CONFLICT,
            status: 'True',
            reason: 'NamespaceClaimedTwice',
            message: namespaceConflictMessage(outcome.namespaceConflicts),
          }
        : {
            type: NAMESPACE_CONFLICT,
            status: 'False',
            reason: 'NoConflict',
            message: 'no other Team claims these namespaces',
          },
    ),
    at(
      outcome.refusedAdmins.length > 0
        ? {
            type: ROLES_SYNCED,
            status: 'False',
            reason: 'EnterpriseRequired',
            message: enterpriseRequiredMessage(outcome.refusedAdmins),
          }
        : {
            type: ROLES_SYNCED,
            status: 'True',
            reason: 'RolesMatch',
            message: 'every member has its team role in LiteLLM',
          },
    ),
  ];
  if (outcome.hasGroups) {
    updates.push(
      at(
        outcome.held.length > 0
          ? {
              type: GROUPS_HELD,
              status: 'True',
              reason: 'GroupEmptyOrMissing',
              message: heldMessage(outcome.held),
            }
          : {
              type: GROUPS_HELD,
              status: 'False',
              reason: 'GroupsFollowed',
              message: 'members follow every group in spec.groups',
            },
      ),
    );
  }
  return updates;
}

function readyMessage(outcome: TeamSyncOutcome): string {
  const models =
    outcome.models.length > 0
      ? `models ${outcome.models.join(', ')}`
      : 'no models (no Active ModelSubscription yet)';
  const pending =
    outcome.pending.length > 0
      ? `; waiting for ${outcome.pending.length === 1 ? 'User' : 'Users'} ${outcome.pending.join(', ')} to be Ready before adding them`
      : '';
  return `LiteLLM team ${outcome.teamId}: ${outcome.memberCount} member(s), ${models}${pending}`;
}

export function enterpriseRequiredMessage(users: readonly string[]): string {
  const who = users.length === 1 ? `${users[0]} is a member` : `${joinNames(users)} are members`;
  return `LiteLLM needs an Enterprise licence to change a member's team role; ${who} in LiteLLM; llm-tenancy's gateway enforces the admin role`;
}

function joinNames(names: readonly string[]): string {
  return names.length <= 1
    ? (names[0] ?? '')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Why the LiteLLM team id is held by something we must not touch, and what to do. */
export function litellmTeamConflictMessage(
  teamId: string,
  ownership: Exclude<Ownership, 'ours' | 'previous-incarnation'>,
  holder: string | undefined,
): string {
  return ownership === 'other-owner'
    ? `LiteLLM team ${teamId} already exists and llm-tenancy manages it for ${holder ?? 'another object'}; it is never taken from another object: delete that object (or the LiteLLM team) first`
    : `LiteLLM team ${teamId} already exists and was not created by llm-tenancy; to adopt it, set the annotation ${ADOPT_ANNOTATION}: "true" on this Team (its settings, and in Authoritative mode its members, are then replaced by this Team's)`;
}

/** Ready/Synced when the LiteLLM team id is held by something we must not touch. */
export function litellmTeamConflictConditions(
  teamId: string,
  ownership: Exclude<Ownership, 'ours' | 'previous-incarnation'>,
  holder: string | undefined,
  generation?: number,
): ConditionUpdate[] {
  const message = litellmTeamConflictMessage(teamId, ownership, holder);
  return [
    {
      type: READY,
      status: 'False',
      reason: 'LiteLLMTeamConflict',
      message,
      observedGeneration: generation,
    },
    {
      type: SYNCED,
      status: 'False',
      reason: 'LiteLLMTeamConflict',
      message,
      observedGeneration: generation,
    },
  ];
}

/** Ready/Synced after a failed LiteLLM call (reasons: ../shared/litellm-failure.ts). */
export function failureConditions(
  reason: string,
  message: string,
  generation?: number,
): ConditionUpdate[] {
  return [
    { type: READY, status: 'False', reason, message, observedGeneration: generation },
    { type: SYNCED, status: 'False', reason, message, observedGeneration: generation },
  ];
}
