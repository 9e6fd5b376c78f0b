// The Team reconciler: makes the LiteLLM team `team_id = <Team name>` what the Team says.
//
// The managed reconciler (../shared/managed/managed-reconciler.ts) does the part every kind
// shares: finalizer, ownership and adoption, deletionPolicy, failures as conditions and
// Events, the jittered resync. What is a Team's own is here and in team-client.ts:
//
//   client     /team/info, /team/new, /team/update and the members, /team/delete
//   conflict   the team id is held by another object or was made outside llm-tenancy
//              (without the adopt annotation) → LiteLLMTeamConflict
//   status     /status (field manager llm-tenancy-team): members, models, conditions and
//              LiteLLM's spend; Events for every LiteLLM change
//   deleting   finalizer llmtenancy.dev/cleanup: deletionPolicy Delete removes the LiteLLM
//              team if it is ours (or a previous incarnation's); Orphan leaves it, marked
//              released so the orphan collector spares it, for a recreated Team to adopt
//
// A converged Team costs one read and nothing else: no LiteLLM write, no status write, no
// Event. Success requeues after the resync interval (sooner when a held group's grace
// period ends), because LiteLLM drifts without telling anyone.
import type { Team } from '../../../../crds/api/index.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { TeamRow } from '../../litellm/schemas.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import { Finalizers } from '../../runtime/finalizers.ts';
import type { Request } from '../../runtime/request.ts';
import type { Result } from '../../runtime/result.ts';
import { StatusWriter } from '../../runtime/status.ts';
import { TEAM_RESOURCE } from '../shared/kinds.ts';
import { ManagedReconciler, type ManagedKind } from '../shared/managed/managed-reconciler.ts';
import { ADOPT_ANNOTATION } from '../shared/ownership.ts';
import { AdminRefusals } from './admin-refusals.ts';
import { TeamClient } from './team-client.ts';
import { failureConditions, litellmTeamConflictMessage } from './team-conditions.ts';
import { conditionsOnlyStatus } from './team-status.ts';
import type { TeamStores } from './watches.ts';

export const TEAM_FINALIZER = 'llmtenancy.dev/cleanup';
export const TEAM_FIELD_MANAGER = 'llm-tenancy-team';

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

export class TeamReconciler implements Reconciler {
  readonly #managed: ManagedReconciler<Team, TeamRow>;

  constructor(options: TeamReconcilerOptions) {
    const clock = options.clock ?? systemClock;
    this.#managed = new ManagedReconciler({
      kind: teamKind(options),
      lookup: (request) => options.stores.teams.getByName(request.name),
      finalizers: new Finalizers(options.kube, {
        fieldManager: TEAM_FIELD_MANAGER,
        recorder: options.recorder,
      }),
      status: new StatusWriter(options.kube, { fieldManager: TEAM_FIELD_MANAGER }),
      recorder: options.recorder,
      installationId: options.installationId,
      resyncIntervalMs: options.resyncIntervalMs,
      now: () => new Date(clock.now()),
      random: options.random,
    });
  }

  reconcile(request: Request, context: ReconcileContext): Promise<Result> {
    return this.#managed.reconcile(request, context);
  }
}

/** What makes a Team's reconcile a Team's. */
export function teamKind(
  options: Pick<TeamReconcilerOptions, 'litellm' | 'stores' | 'groupGracePeriodMs'>,
): ManagedKind<Team, TeamRow> {
  const refusals = new AdminRefusals();
  return {
    kind: 'Team',
    resource: TEAM_RESOURCE,
    finalizer: TEAM_FINALIZER,
    connect: (team, context) =>
      new TeamClient(team, context, {
        litellm: options.litellm,
        stores: options.stores,
        refusals,
        groupGracePeriodMs: options.groupGracePeriodMs,
      }),
    notReadyStatus: (current, { reason, message, generation }, now) =>
      conditionsOnlyStatus(current, failureConditions(reason, message, generation), now),
    conflictReason: 'LiteLLMTeamConflict',
    conflictMessage: (teamId, ownership, holder) =>
      litellmTeamConflictMessage(teamId, ownership, holder),
    cleansUp: new Set(['ours', 'previous-incarnation']),
    adopted: (teamId, ownership) => ({
      reason: 'Adopted',
      action: 'AdoptTeam',
      note:
        ownership === 'previous-incarnation'
          ? `adopted LiteLLM team ${teamId}, left by an earlier Team of this name`
          : `adopted LiteLLM team ${teamId}, which llm-tenancy did not create (annotation ${ADOPT_ANNOTATION})`,
    }),
    orphaned: (teamId) => ({
      reason: 'Orphaned',
      action: 'DeleteTeam',
      note: `left LiteLLM team ${teamId} in place (deletionPolicy: Orphan)`,
    }),
    deleted: (teamId) => ({
      reason: 'Deleted',
      action: 'DeleteTeam',
      note: `deleted LiteLLM team ${teamId} and its keys`,
    }),
    forget: (team) => refusals.forget(team.metadata.uid!),
  };
}
