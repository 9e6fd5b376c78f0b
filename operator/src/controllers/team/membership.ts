// Who is in a Team, and what must change in LiteLLM to make it so.
//
// Effective members = spec.members ∪ the users of every group in spec.groups. A user named
// in spec keeps the role given there; a user who is only in groups is a member. Only users
// that already exist in LiteLLM (their User is Ready) can be added there; the rest wait,
// listed as pending, and join on a later reconcile.
//
// Authoritative mode: LiteLLM's member list is made equal to that set. Additive mode:
// members added in LiteLLM by other means are kept (and reported with source "litellm").

import type { TeamSpec } from '../../../../crds/api/index.ts';

export type TeamRole = 'admin' | 'member';
/** LiteLLM's member roles (`members_with_roles[].role`). */
export type LiteLLMTeamRole = 'admin' | 'user';

export const toLiteLLMRole = (role: TeamRole): LiteLLMTeamRole =>
  role === 'admin' ? 'admin' : 'user';

/**
 * LiteLLM adds the master key's identity to every team created with the master key. It is
 * not a person; we neither report nor remove it.
 */
export const LITELLM_INTERNAL_MEMBERS: ReadonlySet<string> = new Set(['default_user_id']);

export interface EffectiveMember {
  user: string;
  role: TeamRole;
  /** "spec", "group:<name>" (several joined by ", "), or "litellm" (kept in Additive mode). */
  source: string;
}

export interface MembershipInput {
  spec: Pick<TeamSpec, 'members' | 'groups' | 'membershipMode'>;
  /** User names in a group: OpenShift Group users and Users whose spec.groups name it. */
  usersInGroup: (group: string) => readonly string[];
  /** Users that exist in LiteLLM (User Ready). */
  isReady: (user: string) => boolean;
  /** LiteLLM's current members (`members_with_roles`). */
  observed: readonly { user_id?: string | null; role?: string | null }[];
}

export interface MembershipPlan {
  /** Effective members, sorted by user, for status. */
  members: EffectiveMember[];
  /** Effective members whose User is not Ready yet: not in LiteLLM until it is. */
  pending: string[];
  add: { user_id: string; role: LiteLLMTeamRole }[];
  remove: string[];
  changeRole: { user_id: string; role: LiteLLMTeamRole }[];
}

export function planMembership(input: MembershipInput): MembershipPlan {
  const wanted = new Map<string, { role: TeamRole; sources: string[] }>();
  for (const m of input.spec.members ?? []) {
    wanted.set(m.user, { role: m.role ?? 'member', sources: ['spec'] });
  }
  for (const group of [...(input.spec.groups ?? [])].sort()) {
    for (const user of input.usersInGroup(group)) {
      const entry = wanted.get(user);
      if (entry) entry.sources.push(`group:${group}`);
      else wanted.set(user, { role: 'member', sources: [`group:${group}`] });
    }
  }

  const observed = new Map<string, string>();
  for (const m of input.observed) {
    if (m.user_id && !LITELLM_INTERNAL_MEMBERS.has(m.user_id))
      observed.set(m.user_id, m.role ?? 'user');
  }

  const members: EffectiveMember[] = [];
  const pending: string[] = [];
  const add: MembershipPlan['add'] = [];
  const changeRole: MembershipPlan['changeRole'] = [];
  for (const [user, { role, sources }] of wanted) {
    members.push({ user, role, source: sources.join(', ') });
    const current = observed.get(user);
    if (current === undefined) {
      if (input.isReady(user)) add.push({ user_id: user, role: toLiteLLMRole(role) });
      else pending.push(user);
    } else if (current !== toLiteLLMRole(role)) {
      changeRole.push({ user_id: user, role: toLiteLLMRole(role) });
    }
  }

  const remove: string[] = [];
  for (const [user, role] of observed) {
    if (wanted.has(user)) continue;
    if (input.spec.membershipMode === 'Additive') {
      members.push({ user, role: role === 'admin' ? 'admin' : 'member', source: 'litellm' });
    } else {
      remove.push(user);
    }
  }

  const byUser = (a: { user_id?: string; user?: string }, b: { user_id?: string; user?: string }) =>
    (a.user ?? a.user_id ?? '').localeCompare(b.user ?? b.user_id ?? '');
  return {
    members: members.sort(byUser),
    pending: pending.sort(),
    add: add.sort(byUser),
    remove: remove.sort(),
    changeRole: changeRole.sort(byUser),
  };
}
