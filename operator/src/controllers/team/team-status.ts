// Team.status as the Team controller writes it. Built from the object as stored *now* (the
// status writer calls these again with a fresh copy after a 409), keeping every field and
// condition other controllers own (their conditions), so a write never erases theirs.
//
// `spend` is LiteLLM's, from the /team/info each pass reads anyway: the VirtualKey
// controller compares it with the budget to tell the gateway a team's keys are spent. It
// changes only with use, so a quiet Team still writes nothing.
import type { Team, TeamStatus } from '../../../../crds/api/index.ts';
import { removeCondition, setConditions, type ConditionUpdate } from '../../runtime/conditions.ts';
import type { GroupStatus } from './group-grace.ts';
import type { EffectiveMember } from './membership.ts';
import { GROUPS_HELD, syncedConditions, type TeamSyncOutcome } from './team-conditions.ts';

export interface SyncedTeam {
  outcome: TeamSyncOutcome;
  members: readonly EffectiveMember[];
  groups: readonly GroupStatus[];
  /** LiteLLM's spend in the current budget period (moneyFromNumber); undefined keeps it. */
  spend?: string;
}

export function syncedStatus(current: Team, synced: SyncedTeam, now: Date): TeamStatus {
  const previous = current.status ?? {};
  const generation = current.metadata.generation;
  let conditions = setConditions(
    previous.conditions,
    syncedConditions(synced.outcome, generation),
    now,
  );
  if (!synced.outcome.hasGroups) conditions = removeCondition(conditions, GROUPS_HELD);
  return {
    ...previous,
    observedGeneration: generation,
    teamId: synced.outcome.teamId,
    members: synced.members.length > 0 ? synced.members.map((m) => ({ ...m })) : undefined,
    memberCount: synced.members.length,
    groups:
      synced.groups.length > 0 ? keepEarliestSince(synced.groups, previous.groups) : undefined,
    models: synced.outcome.models.length > 0 ? [...synced.outcome.models] : undefined,
    spend: synced.spend ?? previous.spend,
    conditions,
  };
}

/** Status after a reconcile that could not finish: conditions say why, the rest stays. */
export function conditionsOnlyStatus(
  current: Team,
  updates: readonly ConditionUpdate[],
  now: Date,
): TeamStatus {
  const previous = current.status ?? {};
  return {
    ...previous,
    observedGeneration: current.metadata.generation,
    conditions: setConditions(previous.conditions, updates, now),
  };
}

/**
 * A group's grace period starts when it was first seen empty or missing. If the stored
 * status already says so with an earlier time (we computed from a stale copy), keep that.
 */
function keepEarliestSince(
  groups: readonly GroupStatus[],
  stored: TeamStatus['groups'],
): GroupStatus[] {
  return groups.map((group) => {
    const before = stored?.find((g) => g.name === group.name);
    if (group.since && before?.since && before.state === group.state && before.since < group.since)
      return { ...group, since: before.since };
    return { ...group };
  });
}
