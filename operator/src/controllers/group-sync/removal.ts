// When group sync may delete the Team it created for a Group. Never at once: group-sync tools
// in the field have deleted or emptied Groups by mistake, and deleting a Team deletes its
// LiteLLM team and every key in it. The Team controller records in Team.status.groups when it
// first saw the group Missing; only a group gone for longer than the grace period since then
// takes its Team with it. A Group that exists (empty, or no longer matching the selector)
// never does: its Team stays for an admin to decide.
import type { Team } from '../../../../crds/api/index.ts';

export type RemovalDecision =
  | { action: 'keep'; reason: string }
  | { action: 'wait'; ms: number; reason: string }
  | { action: 'delete'; reason: string };

export function removalDecision(input: {
  team: Pick<Team, 'status'>;
  group: string;
  /** The Group exists (in any form, labelled or not). */
  groupExists: boolean;
  now: Date;
  graceMs: number;
}): RemovalDecision {
  const { team, group, now, graceMs } = input;
  if (input.groupExists) return { action: 'keep', reason: `group ${group} exists` };
  const seen = team.status?.groups?.find((g) => g.name === group);
  if (seen?.state !== 'Missing' || !seen.since) {
    // The Team controller has not recorded the group as missing yet; look again later.
    return {
      action: 'wait',
      ms: graceMs,
      reason: `group ${group} is gone; waiting for the Team to record since when`,
    };
  }
  const deadline = Date.parse(seen.since) + graceMs;
  if (now.getTime() >= deadline) {
    return {
      action: 'delete',
      reason: `group ${group} has been missing since ${seen.since}, longer than the grace period of ${graceMs} ms`,
    };
  }
  return {
    action: 'wait',
    ms: deadline - now.getTime(),
    reason: `group ${group} is missing since ${seen.since}; its Team is deleted at ${new Date(deadline).toISOString()} unless it comes back`,
  };
}
