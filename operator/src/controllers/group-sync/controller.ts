// Group sync's optional mode as the Manager takes it. Add it only when the cluster serves
// OpenShift Groups (group-api.ts) and a selector is configured:
//
//   if (groupsServed && selector !== undefined)
//     manager.addController(groupSyncController({ kube, informers: manager.informers, … }))
//
// Part (a) of group sync, Teams naming a group following its users, is the Team controller's
// Group watch; this controller only creates and retires the Teams of selected Groups.
import type { Team } from '../../../../crds/api/index.ts';
import type { StoreIndex } from '../../runtime/cache.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { InformerFactory } from '../../runtime/informer-factory.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { ManagedControllerOptions } from '../../runtime/manager.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';
import { OPENSHIFT_GROUP_TARGET, TEAM_TARGET } from '../shared/kinds.ts';
import type { GroupObject } from '../team/watches.ts';
import { syncedGroupOf } from './group-team.ts';
import { GroupSyncReconciler } from './reconciler.ts';
import { teamNameForGroup } from '../../../../contracts/identity/team-object-name.ts';

export const GROUP_SYNC_CONTROLLER = 'group-sync';
/** Selected Groups by the name of the Team they get: this controller's own index. */
const GROUPS_BY_TEAM_NAME: StoreIndex<GroupObject> = {
  name: 'llm-tenancy/group-team-name',
  values: (g) => (g.metadata?.name ? [teamNameForGroup(g.metadata.name)] : []),
};

export interface GroupSyncDeps {
  /** The manager's client (manager.kube): cached reads, fenced writes. */
  kube: KubeClient;
  /** The manager's informers (manager.informers). */
  informers: InformerFactory;
  logger: Logger;
  recorder: Pick<EventRecorder, 'record'>;
  /** Groups to keep a Team for, as a Kubernetes label selector ("" selects every Group). */
  labelSelector: string;
  /** The same grace period the Team controller holds a vanished group's users for. */
  groupGracePeriodMs: number;
  clock?: Clock;
  workers?: number;
}

export function groupSyncController(deps: GroupSyncDeps): ManagedControllerOptions {
  const selectedTarget = {
    ...OPENSHIFT_GROUP_TARGET,
    labelSelector: deps.labelSelector || undefined,
    indexes: [...(OPENSHIFT_GROUP_TARGET.indexes ?? []), GROUPS_BY_TEAM_NAME],
  };
  const selected = deps.informers.informerFor<GroupObject>(selectedTarget).store;
  const all = deps.informers.informerFor<GroupObject>(OPENSHIFT_GROUP_TARGET).store;
  const teams = deps.informers.informerFor<Team>(TEAM_TARGET).store;
  deps.logger.info(
    { labelSelector: deps.labelSelector, groupGracePeriodMs: deps.groupGracePeriodMs },
    'group sync: one Team per OpenShift Group matching the selector',
  );

  // A Team event concerns the group it was created for, and any selected group whose Team
  // name it holds (a clashing Team deleted frees the name).
  const groupsOfTeam = (team: Team): Request[] => {
    const names = new Set<string>();
    const synced = syncedGroupOf(team);
    if (synced) names.add(synced);
    if (team.metadata?.name) {
      for (const group of selected.byIndex(GROUPS_BY_TEAM_NAME, team.metadata.name))
        if (group.metadata?.name) names.add(group.metadata.name);
    }
    return [...names].map((name) => ({ name }));
  };

  return {
    name: GROUP_SYNC_CONTROLLER,
    reconciler: new GroupSyncReconciler({
      kube: deps.kube,
      selectedGroups: selected,
      allGroups: all,
      teams,
      recorder: deps.recorder,
      groupGracePeriodMs: deps.groupGracePeriodMs,
      clock: deps.clock,
    }),
    workers: deps.workers ?? 2,
    clock: deps.clock,
    for: { target: selectedTarget },
    watches: [
      {
        target: TEAM_TARGET,
        map: groupsOfTeam as unknown as (object: KubeObject) => readonly Request[],
      },
    ],
  };
}
