// Applies a membership plan (membership.ts) to a LiteLLM team: member_add, member_delete,
// member_update. LiteLLM without an Enterprise licence refuses to make anyone team admin;
// such a member is added (or stays) as a member, the refusal is remembered for the Team's
// generation (admin-refusals.ts), and the Team says so (RolesSynced=False).
import type { Team } from '../../../../crds/api/index.ts';
import { findLiteLLMError } from '../../litellm/errors.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { Call, Change } from '../shared/managed/external-client.ts';
import type { AdminRefusals } from './admin-refusals.ts';
import type { LiteLLMTeamRole, MembershipPlan } from './membership.ts';

export interface MemberSync {
  litellm: LiteLLMClient;
  refusals: AdminRefusals;
  team: Team;
  teamId: string;
  call: Call;
  changes: Change[];
}

/** True when applying `plan` would call LiteLLM for nothing: no member to add, remove or change. */
export function membersInSync(plan: MembershipPlan, team: Team, refusals: AdminRefusals): boolean {
  return (
    plan.add.length === 0 &&
    plan.remove.length === 0 &&
    plan.changeRole.every((c) => c.role === 'admin' && isRefused(team, refusals, c.user_id))
  );
}

/** The admins LiteLLM refused before, when the plan is in sync (what syncMembers would return). */
export function knownRefusedAdmins(
  plan: MembershipPlan,
  team: Team,
  refusals: AdminRefusals,
): string[] {
  const refused = plan.changeRole
    .filter((c) => c.role === 'admin' && isRefused(team, refusals, c.user_id))
    .map((c) => c.user_id);
  return [...new Set(refused)].sort();
}

/**
 * Applies the membership plan. Returns the members LiteLLM would not make team admin
 * without an Enterprise licence: they are added (or stay) as members, and the Team says so.
 */
export async function syncMembers(plan: MembershipPlan, sync: MemberSync): Promise<string[]> {
  const { litellm, refusals, team, teamId, call, changes } = sync;
  const uid = team.metadata.uid!;
  const generation = team.metadata.generation;
  const refused: string[] = [];
  const asMember = (users: readonly { user_id: string }[]) =>
    users.map((u) => ({ user_id: u.user_id, role: 'user' as const }));

  const addMembers = async (members: { user_id: string; role: LiteLLMTeamRole }[]) => {
    try {
      await litellm.addTeamMembers({ team_id: teamId, member: members }, call);
    } catch (err) {
      // Already there (someone was faster): what we wanted.
      if (findLiteLLMError(err)?.kind !== 'conflict') throw err;
    }
  };

  const members = plan.add.filter((m) => m.role === 'user');
  let admins = plan.add.filter((m) => m.role === 'admin');
  const knownRefused = admins.filter((m) => refusals.has(uid, generation, m.user_id));
  if (knownRefused.length > 0) {
    members.push(...asMember(knownRefused));
    refused.push(...knownRefused.map((m) => m.user_id));
    admins = admins.filter((m) => !knownRefused.includes(m));
  }
  if (admins.length > 0) {
    try {
      await addMembers(admins);
    } catch (err) {
      if (findLiteLLMError(err)?.kind !== 'enterpriseOnly') throw err;
      for (const m of admins) refusals.add(uid, generation, m.user_id);
      refused.push(...admins.map((m) => m.user_id));
      members.push(...asMember(admins));
      admins = [];
    }
  }
  if (members.length > 0) await addMembers(members);
  const added = [...admins, ...members].sort((a, b) => a.user_id.localeCompare(b.user_id));
  if (added.length > 0) {
    changes.push({
      reason: 'MemberAdded',
      action: 'AddMember',
      note: `added ${listMembers(added)} to LiteLLM team ${teamId}`,
    });
  }

  for (const user of plan.remove) {
    try {
      await litellm.deleteTeamMember({ team_id: teamId, user_id: user }, call);
    } catch (err) {
      if (findLiteLLMError(err)?.kind !== 'notFound') throw err;
    }
    changes.push({
      reason: 'MemberRemoved',
      action: 'RemoveMember',
      note: `removed ${user} from LiteLLM team ${teamId} (LiteLLM also deletes their keys in this team)`,
    });
  }

  for (const change of plan.changeRole) {
    if (change.role === 'admin' && refusals.has(uid, generation, change.user_id)) {
      refused.push(change.user_id);
      continue;
    }
    try {
      await litellm.updateTeamMember(
        { team_id: teamId, user_id: change.user_id, role: change.role },
        call,
      );
      changes.push({
        reason: 'MemberRoleChanged',
        action: 'UpdateMember',
        note: `made ${change.user_id} ${change.role === 'admin' ? 'an admin' : 'a member'} of LiteLLM team ${teamId}`,
      });
    } catch (err) {
      if (findLiteLLMError(err)?.kind !== 'enterpriseOnly') throw err;
      refusals.add(uid, generation, change.user_id);
      refused.push(change.user_id);
    }
  }
  return [...new Set(refused)].sort();
}

/** "alice (admin), bob (member)". */
export function listMembers(
  members: readonly { user_id: string; role: LiteLLMTeamRole }[],
): string {
  return members.map((m) => `${m.user_id} (${m.role === 'admin' ? 'admin' : 'member'})`).join(', ');
}

function isRefused(team: Team, refusals: AdminRefusals, user: string): boolean {
  return refusals.has(team.metadata.uid!, team.metadata.generation, user);
}
