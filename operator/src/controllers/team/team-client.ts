// The LiteLLM team `team_id = <Team name>` as the managed reconciler drives it
// (../shared/managed/external-client.ts). Built once per reconcile: the desired state
// comes from the shared caches (the Team, Users, OpenShift Groups, ModelSubscriptions), so
// observe makes one /team/info and the diff is pure.
//
//   observe  /team/info (404: none); up to date when no field differs and the membership
//            plan needs no call
//   create   /team/new with fields, the Ready members and our metadata
//   update   /team/update with only the changed fields (and metadata when the managed
//            reconciler gives some), then member_add / member_delete / member_update
//   delete   /team/delete (LiteLLM deletes the team's keys with it)
//   status   members, models, groups, conditions and LiteLLM's spend
import type { Team, TeamStatus } from '../../../../crds/api/index.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { TeamRow } from '../../litellm/schemas.ts';
import { getCondition, isConditionTrue, type Condition } from '../../runtime/conditions.ts';
import { isDeleting } from '../../runtime/object.ts';
import type {
  Change,
  ExternalClient,
  ExternalContext,
  ExternalObservation,
  Observed,
} from '../shared/managed/external-client.ts';
import { unlessNotFound } from '../shared/managed/unless-not-found.ts';
import { moneyFromNumber } from '../shared/money.ts';
import { activeModels } from './active-models.ts';
import type { AdminRefusals } from './admin-refusals.ts';
import { resolveGroup, type GroupResolution } from './group-grace.ts';
import { groupMembersIndex } from './group-members.ts';
import { desiredTeamFields, teamFieldChanges, type TeamFields } from './litellm-team.ts';
import { knownRefusedAdmins, listMembers, membersInSync, syncMembers } from './member-sync.ts';
import { planMembership, type MembershipPlan } from './membership.ts';
import { namespaceConflicts, type NamespaceConflict } from './namespace-conflicts.ts';
import { ROLES_SYNCED } from './team-conditions.ts';
import { syncedStatus } from './team-status.ts';
import { SUBSCRIPTIONS_BY_NAMESPACE, TEAMS_BY_NAMESPACE } from '../shared/indexes.ts';
import type { TeamStores } from './watches.ts';

/** Come back a little after a held group's grace period ends, never before. */
const HOLD_MARGIN_MS = 50;

export interface TeamClientDeps {
  litellm: LiteLLMClient;
  stores: TeamStores;
  refusals: AdminRefusals;
  groupGracePeriodMs: number;
}

export class TeamClient implements ExternalClient<Team, TeamRow> {
  readonly id: string;
  readonly #deps: TeamClientDeps;
  readonly #team: Team;
  readonly #context: ExternalContext;
  readonly #desired: TeamFields;
  readonly #models: string[];
  readonly #conflicts: NamespaceConflict[];
  readonly #groups: GroupResolution[];
  /** The plan against the team as last observed or created. */
  #membership: MembershipPlan | undefined;
  #refusedAdmins: string[] = [];

  constructor(team: Team, context: ExternalContext, deps: TeamClientDeps) {
    const name = team.metadata.name!;
    // A Team being deleted cleans up the team its status names (the same, unless edited).
    this.id = isDeleting(team) ? (team.status?.teamId ?? name) : name;
    this.#deps = deps;
    this.#team = team;
    this.#context = context;
    const namespaces = team.spec.namespaces ?? [];
    this.#conflicts = namespaceConflicts(name, namespaces, (ns) =>
      deps.stores.teams.byIndex(TEAMS_BY_NAMESPACE, ns).map((t) => t.metadata.name!),
    );
    this.#models = activeModels(name, namespaces, (ns) =>
      deps.stores.subscriptions.byIndex(SUBSCRIPTIONS_BY_NAMESPACE, ns),
    );
    this.#groups = this.#resolveGroups();
    this.#desired = desiredTeamFields({
      name,
      displayName: team.spec.displayName,
      limits: team.spec.limits,
      models: this.#models,
    });
  }

  async observe(): Promise<ExternalObservation<TeamRow>> {
    const info = await unlessNotFound(() =>
      this.#deps.litellm.teamInfo(this.id, this.#context.call),
    );
    return info ? { exists: true, ...this.#observed(info.team_info) } : { exists: false };
  }

  async create(metadata: Record<string, string>): Promise<Observed<TeamRow>> {
    const initial = this.#plan([]);
    const row = await this.#deps.litellm.newTeam(
      {
        team_id: this.id,
        ...definedFields(this.#desired),
        members_with_roles: initial.add,
        metadata,
      },
      this.#context.call,
    );
    const members = initial.add.length > 0 ? ` (${listMembers(initial.add)})` : '';
    this.#context.changes.push({
      reason: 'Created',
      action: 'CreateTeam',
      note: `created LiteLLM team ${this.id} with ${initial.add.length} member(s)${members} and models ${this.#desired.models.join(', ')}`,
    });
    return this.#observed(row);
  }

  async update(
    observed: Observed<TeamRow>,
    metadata: Record<string, unknown> | undefined,
  ): Promise<void> {
    const fieldUpdates = teamFieldChanges(this.#desired, observed.resource);
    if (fieldUpdates || metadata) {
      await this.#deps.litellm.updateTeam(
        { team_id: this.id, ...fieldUpdates, ...(metadata ? { metadata } : {}) },
        this.#context.call,
      );
      if (fieldUpdates) {
        this.#context.changes.push({
          reason: 'Updated',
          action: 'UpdateTeam',
          note: `updated LiteLLM team ${this.id}: ${describeFields(fieldUpdates)}`,
        });
      }
    }
    this.#refusedAdmins = await syncMembers(this.#membership!, {
      litellm: this.#deps.litellm,
      refusals: this.#deps.refusals,
      team: this.#team,
      teamId: this.id,
      call: this.#context.call,
      changes: this.#context.changes,
    });
  }

  async updateMetadata(_observed: Observed<TeamRow>, metadata: Record<string, unknown>) {
    await this.#deps.litellm.updateTeam({ team_id: this.id, metadata }, this.#context.call);
  }

  async delete(): Promise<void> {
    await this.#deps.litellm.deleteTeams([this.id], this.#context.call);
  }

  syncedStatus(current: Team, observed: Observed<TeamRow>, now: Date): TeamStatus {
    const membership = this.#membership!;
    return syncedStatus(
      current,
      {
        outcome: {
          teamId: this.id,
          memberCount: membership.members.length,
          pending: membership.pending,
          models: this.#models,
          namespaceConflicts: this.#conflicts,
          refusedAdmins: this.#refusedAdmins,
          hasGroups: this.#groups.length > 0,
          held: this.#held(),
        },
        members: membership.members,
        groups: this.#groups.map((g) => g.status),
        spend: moneyFromNumber(observed.resource.spend),
      },
      now,
    );
  }

  statusChanges(before: Team, after: Team): Change[] {
    const was = before.status?.conditions;
    const is = after.status?.conditions;
    const changes: Change[] = [];
    if (turned(was, is, 'NamespaceConflict', 'True')) {
      changes.push({
        type: 'Warning',
        reason: 'NamespaceConflict',
        note: getCondition(is, 'NamespaceConflict')!.message,
      });
    }
    if (turned(was, is, ROLES_SYNCED, 'False')) {
      changes.push({
        type: 'Warning',
        reason: 'EnterpriseRequired',
        note: getCondition(is, ROLES_SYNCED)!.message,
      });
    }
    return changes;
  }

  dueInMs(now: Date): number | undefined {
    const ends = this.#held().map((g) => g.holdUntil!.getTime() - now.getTime() + HOLD_MARGIN_MS);
    return ends.length > 0 ? Math.min(...ends) : undefined;
  }

  #observed(row: TeamRow): Observed<TeamRow> {
    const membership = this.#plan(row.members_with_roles);
    this.#membership = membership;
    const inSync = membersInSync(membership, this.#team, this.#deps.refusals);
    this.#refusedAdmins = inSync
      ? knownRefusedAdmins(membership, this.#team, this.#deps.refusals)
      : [];
    const upToDate = !teamFieldChanges(this.#desired, row) && inSync;
    return { resource: row, metadata: row.metadata, upToDate };
  }

  #plan(observed: TeamRow['members_with_roles']): MembershipPlan {
    const { stores } = this.#deps;
    return planMembership({
      spec: this.#team.spec,
      usersInGroup: (group) => this.#groups.find((g) => g.status.name === group)?.users ?? [],
      isReady: (user) => isConditionTrue(stores.users.getByName(user)?.status?.conditions, 'Ready'),
      observed: observed ?? [],
    });
  }

  #resolveGroups(): GroupResolution[] {
    const names = this.#team.spec.groups ?? [];
    if (names.length === 0) return [];
    const { stores, groupGracePeriodMs } = this.#deps;
    const members = groupMembersIndex(stores.groups?.list(), stores.users.list());
    return names.map((group) =>
      resolveGroup(group, members(group), this.#team.status, this.#context.now, groupGracePeriodMs),
    );
  }

  #held(): GroupResolution[] {
    return this.#groups.filter((g) => g.holdUntil !== undefined);
  }
}

/** /team/new takes no nulls: an unset limit is simply not sent. */
function definedFields(fields: TeamFields): {
  [K in keyof TeamFields]?: NonNullable<TeamFields[K]>;
} {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== null) out[key] = value;
  return out;
}

function describeFields(fields: Partial<TeamFields>): string {
  return Object.entries(fields)
    .map(
      ([key, value]) =>
        `${key}=${value === null ? 'unset' : Array.isArray(value) ? value.join(',') : String(value)}`,
    )
    .join(', ');
}

/** True when condition `type` has `status` now and did not before. */
function turned(
  before: readonly Condition[] | undefined,
  after: readonly Condition[] | undefined,
  type: string,
  status: 'True' | 'False',
): boolean {
  return (
    getCondition(after, type)?.status === status && getCondition(before, type)?.status !== status
  );
}
