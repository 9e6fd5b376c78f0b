// The Team reconciler: makes the LiteLLM team `team_id = <Team name>` what the Team says.
//
// A request is a Team name. Everything desired comes from the shared caches (the Team, Users,
// OpenShift Groups, ModelSubscriptions); LiteLLM is observed once (/team/info) and only the
// difference is written, so a converged Team costs one read and nothing else: no LiteLLM
// write, no status write, no Event. Success requeues after a jittered resync interval,
// because LiteLLM drifts without telling anyone (a member removed, a budget edited).
//
//   observe  /team/info                  404 → create
//   create   /team/new                   fields, admins and members, owner metadata
//   own      ownership of the metadata   other owner / unmanaged → LiteLLMTeamConflict
//   update   /team/update                only changed fields; metadata only when ours is off
//   members  member_add / member_delete / member_update, per planMembership
//   status   /status (field manager llm-tenancy-team): members, models, conditions and
//            LiteLLM's spend; Events for every LiteLLM change
//
// Deleting (finalizer llmtenancy.dev/cleanup): deletionPolicy Delete removes the LiteLLM team
// if it is ours (or a previous incarnation's); Orphan leaves it, marked released so the orphan
// collector spares it, for a recreated Team of the same name to adopt.
import type { Team, TeamStatus } from '../../../../crds/api/index.ts';
import { findLiteLLMError } from '../../litellm/errors.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { TeamRow } from '../../litellm/schemas.ts';
import { jittered } from '../../runtime/backoff.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import {
  getCondition,
  isConditionTrue,
  type Condition,
  type ConditionUpdate,
} from '../../runtime/conditions.ts';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import type { EventRecorder, EventSpec } from '../../runtime/events.ts';
import { Finalizers } from '../../runtime/finalizers.ts';
import type { Request } from '../../runtime/request.ts';
import type { Result } from '../../runtime/result.ts';
import { StatusWriter } from '../../runtime/status.ts';
import { TEAM_RESOURCE } from '../shared/kinds.ts';
import {
  hasOwnerMetadata,
  holderOf,
  mergeOwnerMetadata,
  ownerMetadata,
  ownershipOf,
  type OwnerRef,
} from '../shared/ownership.ts';
import { isReleased, withoutReleasedMark, withReleasedMark } from '../shared/released.ts';
import { litellmFailure, reconcileErrorFor } from '../shared/litellm-failure.ts';
import { moneyFromNumber } from '../shared/money.ts';
import { activeModels } from './active-models.ts';
import { AdminRefusals } from './admin-refusals.ts';
import { resolveGroup, type GroupResolution } from './group-grace.ts';
import { groupMembersIndex } from './group-members.ts';
import { desiredTeamFields, teamFieldChanges, type TeamFields } from './litellm-team.ts';
import { planMembership, type LiteLLMTeamRole, type MembershipPlan } from './membership.ts';
import { namespaceConflicts } from './namespace-conflicts.ts';
import {
  ADOPT_ANNOTATION,
  failureConditions,
  litellmTeamConflictConditions,
  ROLES_SYNCED,
} from './team-conditions.ts';
import { conditionsOnlyStatus, syncedStatus } from './team-status.ts';
import { SUBSCRIPTIONS_BY_NAMESPACE, TEAMS_BY_NAMESPACE, type TeamStores } from './watches.ts';

export const TEAM_FINALIZER = 'llmtenancy.dev/cleanup';
export const TEAM_FIELD_MANAGER = 'llm-tenancy-team';
/** Spread periodic resyncs of many Teams over 10 % of the interval. */
const RESYNC_JITTER = 0.1;
const HOLD_MARGIN_MS = 50;

export interface TeamReconcilerOptions {
  kube: KubeClient;
  litellm: LiteLLMClient;
  stores: TeamStores;
  recorder: Pick<EventRecorder, 'record'>;
  resyncIntervalMs: number;
  groupGracePeriodMs: number;
  /** Stamped into every LiteLLM team this installation makes; others' are never touched. */
  installationId: string;
  clock?: Clock;
  random?: () => number;
}

/** One change made in LiteLLM, told as an Event. */
type Change = Omit<EventSpec, 'type'> & { type?: EventSpec['type'] };

export class TeamReconciler implements Reconciler {
  readonly #litellm: LiteLLMClient;
  readonly #stores: TeamStores;
  readonly #recorder: Pick<EventRecorder, 'record'>;
  readonly #status: StatusWriter;
  readonly #finalizers: Finalizers;
  readonly #resyncMs: number;
  readonly #graceMs: number;
  readonly #installation: string;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #refusals = new AdminRefusals();

  constructor(options: TeamReconcilerOptions) {
    this.#litellm = options.litellm;
    this.#stores = options.stores;
    this.#recorder = options.recorder;
    this.#status = new StatusWriter(options.kube, { fieldManager: TEAM_FIELD_MANAGER });
    this.#finalizers = new Finalizers(options.kube, {
      fieldManager: TEAM_FIELD_MANAGER,
      recorder: options.recorder,
    });
    this.#resyncMs = options.resyncIntervalMs;
    this.#graceMs = options.groupGracePeriodMs;
    this.#installation = options.installationId;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  async reconcile(request: Request, context: ReconcileContext): Promise<Result> {
    const team = this.#stores.teams.getByName(request.name);
    if (!team) return {};
    return this.#finalizers.reconcile(team, TEAM_FINALIZER, {
      apply: (current) =>
        this.#reportingFailures(current, context, () => this.#apply(current, context)),
      cleanup: (current) =>
        this.#reportingFailures(current, context, () => this.#cleanup(current, context)),
    });
  }

  // ---- apply ---------------------------------------------------------------------------

  async #apply(team: Team, context: ReconcileContext): Promise<Result> {
    const now = new Date(this.#clock.now());
    const name = team.metadata.name!;
    const owner: OwnerRef = {
      kind: 'Team',
      name,
      uid: team.metadata.uid!,
      installation: this.#installation,
    };
    const teamId = name;
    const call = { object: `Team ${name}`, signal: context.signal };
    const changes: Change[] = [];

    // Desired state, from the caches.
    const conflicts = namespaceConflicts(name, team.spec.namespaces ?? [], (ns) =>
      this.#stores.teams.byIndex(TEAMS_BY_NAMESPACE, ns).map((t) => t.metadata.name!),
    );
    const models = activeModels(name, team.spec.namespaces ?? [], (ns) =>
      this.#stores.subscriptions.byIndex(SUBSCRIPTIONS_BY_NAMESPACE, ns),
    );
    const groups = this.#resolveGroups(team, now);
    const desired = desiredTeamFields({
      name,
      displayName: team.spec.displayName,
      limits: team.spec.limits,
      models,
    });
    const plan = (observed: TeamRow['members_with_roles']) =>
      planMembership({
        spec: team.spec,
        usersInGroup: (group) => groups.find((g) => g.status.name === group)?.users ?? [],
        isReady: (user) =>
          isConditionTrue(this.#stores.users.getByName(user)?.status?.conditions, 'Ready'),
        observed: observed ?? [],
      });

    // Observe; create when missing.
    let observed = await this.#observe(teamId, call);
    if (!observed) {
      const initial = plan([]);
      try {
        observed = await this.#litellm.newTeam(
          {
            team_id: teamId,
            ...definedFields(desired),
            members_with_roles: initial.add,
            metadata: ownerMetadata(owner),
          },
          call,
        );
        changes.push({
          reason: 'Created',
          action: 'CreateTeam',
          note: `created LiteLLM team ${teamId} with ${initial.add.length} member(s)${initial.add.length > 0 ? ` (${listMembers(initial.add)})` : ''} and models ${desired.models.join(', ')}`,
        });
      } catch (err) {
        // Created meanwhile (a lost response, another replica): observe it and go on.
        if (findLiteLLMError(err)?.kind !== 'conflict') throw err;
        observed = await this.#observe(teamId, call);
        if (!observed) throw err;
      }
    }

    // Whose is it?
    const ownership = ownershipOf(observed.metadata, owner);
    if (ownership === 'other-owner' || (ownership === 'unmanaged' && !adoptionRequested(team))) {
      const holder =
        ownership === 'other-owner' ? holderOf(observed.metadata, this.#installation) : undefined;
      const updates = litellmTeamConflictConditions(
        teamId,
        ownership,
        holder,
        team.metadata.generation,
      );
      await this.#writeConditions(team, updates, context, {
        reason: 'LiteLLMTeamConflict',
        note: updates[0]!.message!,
      });
      return { requeueAfter: this.#resyncDelay() };
    }
    if (ownership !== 'ours') {
      changes.push({
        reason: 'Adopted',
        action: 'AdoptTeam',
        note:
          ownership === 'previous-incarnation'
            ? `adopted LiteLLM team ${teamId}, left by an earlier Team of this name`
            : `adopted LiteLLM team ${teamId}, which llm-tenancy did not create (annotation ${ADOPT_ANNOTATION})`,
      });
    }

    // Fields and metadata: the smallest /team/update, or none.
    const fieldUpdates = teamFieldChanges(desired, observed);
    const metadata =
      hasOwnerMetadata(observed.metadata, owner) && !isReleased(observed.metadata)
        ? undefined
        : withoutReleasedMark(mergeOwnerMetadata(observed.metadata, owner));
    if (fieldUpdates || metadata) {
      await this.#litellm.updateTeam(
        { team_id: teamId, ...fieldUpdates, ...(metadata ? { metadata } : {}) },
        call,
      );
      if (fieldUpdates) {
        changes.push({
          reason: 'Updated',
          action: 'UpdateTeam',
          note: `updated LiteLLM team ${teamId}: ${describeFields(fieldUpdates)}`,
        });
      }
    }

    // Members.
    const membership = plan(observed.members_with_roles);
    const refusedAdmins = await this.#syncMembers(team, teamId, membership, call, changes);

    // Status, then Events.
    const held = groups.filter((g) => g.holdUntil !== undefined);
    const outcome = {
      teamId,
      memberCount: membership.members.length,
      pending: membership.pending,
      models,
      namespaceConflicts: conflicts,
      refusedAdmins,
      hasGroups: groups.length > 0,
      held,
    };
    const written = await this.#status.update(TEAM_RESOURCE, team, (current) =>
      syncedStatus(
        current,
        {
          outcome,
          members: membership.members,
          groups: groups.map((g) => g.status),
          spend: moneyFromNumber(observed.spend),
        },
        now,
      ),
    );
    if (written.outcome === 'updated') {
      const before = team.status?.conditions;
      const after = written.object.status?.conditions;
      if (becameTrue(before, after, 'NamespaceConflict', 'True')) {
        changes.push({
          type: 'Warning',
          reason: 'NamespaceConflict',
          note: getCondition(after, 'NamespaceConflict')!.message,
        });
      }
      if (becameTrue(before, after, ROLES_SYNCED, 'False')) {
        changes.push({
          type: 'Warning',
          reason: 'EnterpriseRequired',
          note: getCondition(after, ROLES_SYNCED)!.message,
        });
      }
    }
    this.#record(team, changes);

    // Come back when a held group's grace period ends (a little after, never before).
    const holdEnds = held.map((g) => g.holdUntil!.getTime() - now.getTime() + HOLD_MARGIN_MS);
    return { requeueAfter: Math.max(1, Math.min(this.#resyncDelay(), ...holdEnds)) };
  }

  #resolveGroups(team: Team, now: Date): GroupResolution[] {
    const names = team.spec.groups ?? [];
    if (names.length === 0) return [];
    const members = groupMembersIndex(this.#stores.groups?.list(), this.#stores.users.list());
    return names.map((group) =>
      resolveGroup(group, members(group), team.status, now, this.#graceMs),
    );
  }

  /**
   * Applies the membership plan. Returns the members LiteLLM would not make team admin
   * without an Enterprise licence: they are added (or stay) as members, and the Team says so.
   */
  async #syncMembers(
    team: Team,
    teamId: string,
    plan: MembershipPlan,
    call: { object: string; signal: AbortSignal },
    changes: Change[],
  ): Promise<string[]> {
    const uid = team.metadata.uid!;
    const generation = team.metadata.generation;
    const refused: string[] = [];
    const asMember = (users: readonly { user_id: string }[]) =>
      users.map((u) => ({ user_id: u.user_id, role: 'user' as const }));

    const addMembers = async (members: { user_id: string; role: LiteLLMTeamRole }[]) => {
      try {
        await this.#litellm.addTeamMembers({ team_id: teamId, member: members }, call);
      } catch (err) {
        // Already there (someone was faster): what we wanted.
        if (findLiteLLMError(err)?.kind !== 'conflict') throw err;
      }
    };

    const members = plan.add.filter((m) => m.role === 'user');
    let admins = plan.add.filter((m) => m.role === 'admin');
    const knownRefused = admins.filter((m) => this.#refusals.has(uid, generation, m.user_id));
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
        for (const m of admins) this.#refusals.add(uid, generation, m.user_id);
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
        await this.#litellm.deleteTeamMember({ team_id: teamId, user_id: user }, call);
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
      if (change.role === 'admin' && this.#refusals.has(uid, generation, change.user_id)) {
        refused.push(change.user_id);
        continue;
      }
      try {
        await this.#litellm.updateTeamMember(
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
        this.#refusals.add(uid, generation, change.user_id);
        refused.push(change.user_id);
      }
    }
    return [...new Set(refused)].sort();
  }

  // ---- cleanup -------------------------------------------------------------------------

  async #cleanup(team: Team, context: ReconcileContext): Promise<Result> {
    const name = team.metadata.name!;
    this.#refusals.forget(team.metadata.uid!);
    const teamId = team.status?.teamId ?? name;
    const call = { object: `Team ${name}`, signal: context.signal };
    // Tolerates apply never having run: nothing there, or not ours, means nothing to do.
    const observed = await this.#observe(teamId, call);
    if (!observed) return {};
    const ownership = ownershipOf(observed.metadata, {
      kind: 'Team',
      name,
      uid: team.metadata.uid!,
      installation: this.#installation,
    });
    if (ownership !== 'ours' && ownership !== 'previous-incarnation') {
      context.log.info({ teamId, ownership }, 'LiteLLM team is not ours; leaving it');
      return {};
    }
    if (team.spec.deletionPolicy === 'Orphan') {
      // Left on purpose: the mark keeps the orphan collector away; a new Team of this name adopts it.
      if (!isReleased(observed.metadata)) {
        await this.#litellm.updateTeam(
          {
            team_id: teamId,
            metadata: withReleasedMark(observed.metadata, new Date(this.#clock.now())),
          },
          call,
        );
      }
      this.#record(team, [
        {
          reason: 'Orphaned',
          action: 'DeleteTeam',
          note: `left LiteLLM team ${teamId} in place (deletionPolicy: Orphan)`,
        },
      ]);
      return {};
    }
    try {
      await this.#litellm.deleteTeams([teamId], call);
    } catch (err) {
      if (findLiteLLMError(err)?.kind !== 'notFound') throw err;
    }
    this.#record(team, [
      {
        reason: 'Deleted',
        action: 'DeleteTeam',
        note: `deleted LiteLLM team ${teamId} and its keys`,
      },
    ]);
    return {};
  }

  // ---- helpers -------------------------------------------------------------------------

  async #observe(
    teamId: string,
    call: { object: string; signal: AbortSignal },
  ): Promise<TeamRow | undefined> {
    try {
      return (await this.#litellm.teamInfo(teamId, call)).team_info;
    } catch (err) {
      if (findLiteLLMError(err)?.kind === 'notFound') return undefined;
      throw err;
    }
  }

  /**
   * A failed LiteLLM call becomes Ready=False/Synced=False with its reason, then is rethrown
   * for the controller: a retryable one backs off (or waits Retry-After), an invalid one is
   * terminal. Nothing is written when the controller is stopping.
   */
  async #reportingFailures(
    team: Team,
    context: ReconcileContext,
    run: () => Promise<Result>,
  ): Promise<Result> {
    try {
      return await run();
    } catch (err) {
      const failure = litellmFailure(err);
      if (!failure || context.signal.aborted) throw err;
      const { reason, message } = failure;
      await this.#writeConditions(
        team,
        failureConditions(reason, message, team.metadata.generation),
        context,
        { reason, note: message },
      ).catch((statusError: unknown) =>
        context.log.warn({ err: statusError }, 'could not record the failure in status'),
      );
      throw reconcileErrorFor(failure, err);
    }
  }

  /** Writes conditions only; a Warning Event when Ready turns to this reason. */
  async #writeConditions(
    team: Team,
    updates: readonly ConditionUpdate[],
    context: ReconcileContext,
    warning: { reason: string; note: string },
  ): Promise<void> {
    const now = new Date(this.#clock.now());
    const written = await this.#status.update(TEAM_RESOURCE, team, (current): TeamStatus =>
      conditionsOnlyStatus(current, updates, now),
    );
    const before = getCondition(team.status?.conditions, 'Ready');
    if (
      written.outcome === 'updated' &&
      (before?.reason !== warning.reason || before.status !== 'False')
    ) {
      this.#record(team, [{ type: 'Warning', ...warning }]);
    }
    context.log.debug({ outcome: written.outcome }, 'status written');
  }

  #record(team: Team, changes: readonly Change[]): void {
    for (const { type = 'Normal', ...change } of changes) {
      void this.#recorder.record(team, { type, ...change });
    }
  }

  #resyncDelay(): number {
    return Math.round(jittered(this.#resyncMs, RESYNC_JITTER, this.#random));
  }
}

function adoptionRequested(team: Team): boolean {
  return team.metadata.annotations?.[ADOPT_ANNOTATION] === 'true';
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

/** "alice (admin), bob (member)". */
function listMembers(members: readonly { user_id: string; role: LiteLLMTeamRole }[]): string {
  return members.map((m) => `${m.user_id} (${m.role === 'admin' ? 'admin' : 'member'})`).join(', ');
}

/** True when condition `type` has `status` now and did not before. */
function becameTrue(
  before: readonly Condition[] | undefined,
  after: readonly Condition[] | undefined,
  type: string,
  status: 'True' | 'False',
): boolean {
  return (
    getCondition(after, type)?.status === status && getCondition(before, type)?.status !== status
  );
}
