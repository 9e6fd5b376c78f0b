// Group membership with a grace period. Group-sync tools in the field have emptied or pruned
// groups by mistake, and a Team that followed at once lost every member (and, in LiteLLM,
// every member's keys). So when a group a Team names becomes empty or disappears, its former
// users stay members for a grace period, and the Team says so in a condition. The state is
// kept in Team.status (groups[].since and members[].source), so an operator restart neither
// resets nor skips the grace period.

import type { TeamStatus } from '../../../../crds/api/index.ts';

export type GroupState = 'Found' | 'Empty' | 'Missing';

export interface GroupStatus {
  name: string;
  state: GroupState;
  users?: number;
  since?: string;
}

export interface GroupResolution {
  /** Users to treat as members through this group now. */
  users: readonly string[];
  status: GroupStatus;
  /** Set while former users are being kept: when they will be dropped. */
  holdUntil?: Date;
}

/**
 * @param current   the group's users now; undefined when the group does not exist
 * @param previous  this Team's last status (members with their sources, groups)
 */
export function resolveGroup(
  name: string,
  current: readonly string[] | undefined,
  previous: Pick<TeamStatus, 'groups' | 'members'> | undefined,
  now: Date,
  graceMs: number,
): GroupResolution {
  const state: GroupState =
    current === undefined ? 'Missing' : current.length === 0 ? 'Empty' : 'Found';
  if (state === 'Found')
    return { users: current!, status: { name, state, users: current!.length } };

  const before = previous?.groups?.find((g) => g.name === name);
  // The grace period starts when the group was first seen Empty or Missing, not on each reconcile.
  const since =
    before && before.state !== 'Found' && before.since ? before.since : now.toISOString();
  const holdUntil = new Date(Date.parse(since) + graceMs);
  const status: GroupStatus = { name, state, users: 0, since };
  if (now >= holdUntil) return { users: [], status };

  const source = `group:${name}`;
  const former = (previous?.members ?? [])
    .filter((m) => m.source.split(', ').includes(source))
    .map((m) => m.user);
  return former.length > 0 ? { users: former, status, holdUntil } : { users: [], status };
}

/** Human-readable message for the GroupsHeld condition. */
export function heldMessage(
  held: readonly { status: GroupStatus; users: readonly string[]; holdUntil?: Date }[],
): string {
  return held
    .map(
      (h) =>
        `group ${h.status.name} is ${h.status.state.toLowerCase()} since ${h.status.since}; its ${h.users.length} former user(s) stay members until ${h.holdUntil?.toISOString()}`,
    )
    .join('; ');
}
