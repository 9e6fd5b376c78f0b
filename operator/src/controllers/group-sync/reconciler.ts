// Group sync's optional mode: one Team per OpenShift Group matching a label selector.
//
// A request is a Group name. While the Group matches, its Team exists with spec.groups:
// [group] (server-side apply, only when something is missing, so a converged Group costs no
// request at all); the Team controller then keeps its members equal to the Group's users.
// When the Group is gone, its Team is kept through the grace period (removal.ts) and
// deleted after it; the Team's finalizer then removes the LiteLLM team.
import type { Team } from '../../../../crds/api/index.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import { isConflict, isNotFound, type KubeClient } from '../../runtime/kube-client.ts';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import { isDeleting } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';
import type { Result } from '../../runtime/result.ts';
import { TEAM_RESOURCE } from '../shared/kinds.ts';
import type { GroupObject } from '../team/watches.ts';
import {
  GROUP_SYNC_FIELD_MANAGER,
  groupTeamManifest,
  hasGroupSyncFields,
  syncedGroupOf,
} from './group-team.ts';
import { removalDecision } from './removal.ts';
import { teamNameForGroup } from '../../../../contracts/identity/team-object-name.ts';

export interface GroupSyncReconcilerOptions {
  kube: KubeClient;
  /** Groups matching the selector. */
  selectedGroups: ObjectStore<GroupObject>;
  /** Every Group: a Group that stopped matching still exists, and keeps its Team. */
  allGroups: ObjectStore<GroupObject>;
  teams: ObjectStore<Team>;
  recorder: Pick<EventRecorder, 'record'>;
  groupGracePeriodMs: number;
  clock?: Clock;
}

export class GroupSyncReconciler implements Reconciler {
  readonly #kube: KubeClient;
  readonly #selected: ObjectStore<GroupObject>;
  readonly #all: ObjectStore<GroupObject>;
  readonly #teams: ObjectStore<Team>;
  readonly #recorder: Pick<EventRecorder, 'record'>;
  readonly #graceMs: number;
  readonly #clock: Clock;
  /** Name clashes already reported, so a resync does not repeat the warning. */
  readonly #reportedClashes = new Set<string>();

  constructor(options: GroupSyncReconcilerOptions) {
    this.#kube = options.kube;
    this.#selected = options.selectedGroups;
    this.#all = options.allGroups;
    this.#teams = options.teams;
    this.#recorder = options.recorder;
    this.#graceMs = options.groupGracePeriodMs;
    this.#clock = options.clock ?? systemClock;
  }

  async reconcile(request: Request, context: ReconcileContext): Promise<Result> {
    const group = request.name;
    const teamName = teamNameForGroup(group);
    const team = this.#teams.getByName(teamName);
    if (this.#selected.getByName(group)) return this.#ensureTeam(group, teamName, team, context);
    if (!team || syncedGroupOf(team) !== group || isDeleting(team)) return {};

    const decision = removalDecision({
      team,
      group,
      groupExists: this.#all.getByName(group) !== undefined,
      now: new Date(this.#clock.now()),
      graceMs: this.#graceMs,
    });
    switch (decision.action) {
      case 'keep':
        return {};
      case 'wait':
        context.log.debug({ team: teamName, reason: decision.reason }, 'keeping the Team for now');
        return { requeueAfter: Math.max(1, decision.ms) };
      case 'delete':
        await this.#deleteTeam(team);
        context.log.info(
          { team: teamName, reason: decision.reason },
          'deleted the Team of a vanished group',
        );
        void this.#recorder.record(team, {
          type: 'Normal',
          reason: 'GroupGone',
          action: 'DeleteTeam',
          note: `deleted by group sync: ${decision.reason}`,
        });
        return {};
    }
  }

  async #ensureTeam(
    group: string,
    teamName: string,
    team: Team | undefined,
    context: ReconcileContext,
  ): Promise<Result> {
    if (team && syncedGroupOf(team) !== group) {
      // A Team of this name that group sync did not create (or created for another group).
      const clash = `${group}→${team.metadata.uid}`;
      if (!this.#reportedClashes.has(clash)) {
        this.#reportedClashes.add(clash);
        const note = `group sync would keep Team ${teamName} for OpenShift Group ${group}, but this Team was not created by group sync; it is left alone`;
        context.log.warn({ team: teamName, group }, note);
        void this.#recorder.record(team, { type: 'Warning', reason: 'GroupSyncNameTaken', note });
      }
      return {};
    }
    // Being deleted: its delete event brings us back to create it anew.
    if (team && (isDeleting(team) || hasGroupSyncFields(team, group))) return {};
    const applied = await this.#kube.apply<Team>(TEAM_RESOURCE, groupTeamManifest(group), {
      fieldManager: GROUP_SYNC_FIELD_MANAGER,
      force: true,
    });
    if (!team) {
      context.log.info({ team: teamName, group }, 'created a Team for an OpenShift Group');
      void this.#recorder.record(applied, {
        type: 'Normal',
        reason: 'CreatedForGroup',
        action: 'GroupSync',
        note: `created by group sync for OpenShift Group ${group}`,
      });
    }
    return {};
  }

  async #deleteTeam(team: Team): Promise<void> {
    try {
      // Only this very Team: a Team recreated under the name meanwhile is not ours to delete.
      await this.#kube.delete(
        TEAM_RESOURCE,
        { name: team.metadata.name! },
        { preconditions: { uid: team.metadata.uid } },
      );
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}
