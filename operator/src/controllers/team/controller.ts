// The Team controller as the Manager takes it:
//
//   manager.addController(teamController({ kube, informers: manager.informers, litellm, … }))
//
// It reads Teams, Users, ModelSubscriptions and (when the cluster serves them) OpenShift
// Groups from the manager's shared informers, and is enqueued by each of them (watches.ts).
import type { ModelSubscription, Team, User } from '../../../../crds/api/index.ts';
import { litellmErrorPolicy } from '../../litellm/errors.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { Clock } from '../../runtime/clock.ts';
import { generationChanged } from '../../runtime/event-handlers.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { InformerFactory } from '../../runtime/informer-factory.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import type { Logger } from '../../runtime/logger.ts';
import {
  watchMapped,
  type ManagedControllerOptions,
  type WatchMapped,
} from '../../runtime/manager.ts';
import {
  MODEL_SUBSCRIPTION_TARGET,
  OPENSHIFT_GROUP_TARGET,
  TEAM_TARGET,
  USER_TARGET,
} from '../shared/kinds.ts';
import { TeamReconciler } from './reconciler.ts';
import {
  conflictingTeams,
  groupUsersChanged,
  subscriptionPhaseChanged,
  teamsForGroup,
  teamsForSubscription,
  teamsForUser,
  userMembershipChanged,
  type GroupObject,
  type TeamStores,
} from './watches.ts';

export const TEAM_CONTROLLER = 'team';

export interface TeamControllerDeps {
  /** The manager's client (manager.kube): cached reads, fenced writes. */
  kube: KubeClient;
  /** The manager's informers (manager.informers): caches shared with the other controllers. */
  informers: InformerFactory;
  litellm: LiteLLMClient;
  logger: Logger;
  recorder: Pick<EventRecorder, 'record'>;
  clock?: Clock;
  /** How often a converged Team is compared with LiteLLM again (jittered by +10 %). */
  resyncIntervalMs: number;
  /** This installation's id (operator/src/installation.ts), stamped into LiteLLM objects. */
  installationId: string;
  /** How long the former users of an emptied or vanished group stay members. */
  groupGracePeriodMs: number;
  /** Whether user.openshift.io/v1 Groups are served (see group-sync/group-api.ts). */
  openShiftGroupsAvailable: boolean;
  /**
   * Only Teams matching this label selector (several operator installations sharing a
   * cluster, or tests sharing an API server). Default: every Team.
   */
  teamLabelSelector?: string;
  /** Teams reconciled at once. Default 4. */
  workers?: number;
  /** How long stopping waits for in-flight reconciles before aborting them. Default 30 s. */
  stopGracePeriodMs?: number;
}

export function teamController(deps: TeamControllerDeps): ManagedControllerOptions {
  const teamTarget = deps.teamLabelSelector
    ? { ...TEAM_TARGET, labelSelector: deps.teamLabelSelector }
    : TEAM_TARGET;
  const stores: TeamStores = {
    teams: deps.informers.informerFor<Team>(teamTarget).store,
    users: deps.informers.informerFor<User>(USER_TARGET).store,
    subscriptions: deps.informers.informerFor<ModelSubscription>(MODEL_SUBSCRIPTION_TARGET).store,
    groups: deps.openShiftGroupsAvailable
      ? deps.informers.informerFor<GroupObject>(OPENSHIFT_GROUP_TARGET).store
      : undefined,
  };
  deps.logger.info(
    {
      resyncIntervalMs: deps.resyncIntervalMs,
      groupGracePeriodMs: deps.groupGracePeriodMs,
      openShiftGroups: deps.openShiftGroupsAvailable,
    },
    deps.openShiftGroupsAvailable
      ? 'team controller: spec.groups follow OpenShift Groups and User groups claims'
      : 'team controller: spec.groups follow User groups claims only (no OpenShift Group API)',
  );

  const reconciler = new TeamReconciler({
    kube: deps.kube,
    litellm: deps.litellm,
    stores,
    recorder: deps.recorder,
    resyncIntervalMs: deps.resyncIntervalMs,
    groupGracePeriodMs: deps.groupGracePeriodMs,
    installationId: deps.installationId,
    clock: deps.clock,
  });

  const watches: WatchMapped[] = [
    watchMapped(USER_TARGET, teamsForUser(stores), userMembershipChanged),
    watchMapped(MODEL_SUBSCRIPTION_TARGET, teamsForSubscription(stores), subscriptionPhaseChanged),
    watchMapped(teamTarget, conflictingTeams(stores), generationChanged),
  ];
  if (stores.groups)
    watches.push(watchMapped(OPENSHIFT_GROUP_TARGET, teamsForGroup(stores), groupUsersChanged));

  return {
    name: TEAM_CONTROLLER,
    reconciler,
    workers: deps.workers ?? 4,
    errorPolicy: litellmErrorPolicy,
    clock: deps.clock,
    stopGracePeriodMs: deps.stopGracePeriodMs,
    for: { target: teamTarget, updatePredicate: generationChanged },
    watches,
  };
}
