// What else makes a Team reconcile, besides its own spec: the informer events of other kinds
// mapped onto Team names (controller-runtime's EnqueueRequestsFromMapFunc), with predicates
// that drop the updates that cannot change a Team (a User's status write about its spend).
//
//   User              → Teams naming it (spec or status members) or one of its groups
//   OpenShift Group   → Teams naming the group
//   ModelSubscription → the Team owning its namespace
//   Team              → the Teams it shares a namespace with (both report the conflict)
import { isDeepStrictEqual } from 'node:util';
import type { ModelSubscription, Team, User } from '../../../../crds/api/index.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import { isConditionTrue } from '../../runtime/conditions.ts';
import type { UpdatePredicate } from '../../runtime/event-handlers.ts';
import { isDeleting, type KubeObject } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';
import {
  GROUPS_BY_USER,
  TEAMS_BY_GROUP,
  TEAMS_BY_MEMBER,
  TEAMS_BY_NAMESPACE,
} from '../shared/indexes.ts';
import type { OpenShiftGroup } from './group-members.ts';

export type GroupObject = KubeObject & OpenShiftGroup;

export interface TeamStores {
  teams: ObjectStore<Team>;
  users: ObjectStore<User>;
  subscriptions: ObjectStore<ModelSubscription>;
  /** Absent when the cluster does not serve user.openshift.io/v1 Groups. */
  groups?: ObjectStore<GroupObject>;
}

const teamRequests = (teams: Iterable<Team>, except?: string): Request[] => {
  const names = new Set<string>();
  for (const team of teams) {
    const name = team.metadata?.name;
    if (name && name !== except) names.add(name);
  }
  return [...names].sort().map((name) => ({ name }));
};

export function teamsForUser(stores: TeamStores): (user: User) => Request[] {
  return (user) => {
    const name = user.metadata?.name;
    if (!name) return [];
    const teams: Team[] = [...stores.teams.byIndex(TEAMS_BY_MEMBER, name)];
    for (const group of user.spec?.groups ?? [])
      teams.push(...stores.teams.byIndex(TEAMS_BY_GROUP, group));
    if (stores.groups) {
      // The OpenShift login is the User's name, or the subject it logs in with.
      const logins = new Set([name, ...(user.spec?.identity ? [user.spec.identity.subject] : [])]);
      for (const login of logins) {
        for (const group of stores.groups.byIndex(GROUPS_BY_USER, login)) {
          if (group.metadata?.name)
            teams.push(...stores.teams.byIndex(TEAMS_BY_GROUP, group.metadata.name));
        }
      }
    }
    return teamRequests(teams);
  };
}

export function teamsForGroup(stores: TeamStores): (group: GroupObject) => Request[] {
  return (group) =>
    group.metadata?.name
      ? teamRequests(stores.teams.byIndex(TEAMS_BY_GROUP, group.metadata.name))
      : [];
}

export function teamsForSubscription(
  stores: TeamStores,
): (subscription: ModelSubscription) => Request[] {
  return (subscription) => {
    const namespace = subscription.metadata?.namespace;
    return namespace ? teamRequests(stores.teams.byIndex(TEAMS_BY_NAMESPACE, namespace)) : [];
  };
}

/** The other Teams claiming one of this Team's namespaces. */
export function conflictingTeams(stores: TeamStores): (team: Team) => Request[] {
  return (team) =>
    teamRequests(
      (team.spec?.namespaces ?? []).flatMap((ns) => stores.teams.byIndex(TEAMS_BY_NAMESPACE, ns)),
      team.metadata?.name,
    );
}

const sameSet = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  isDeepStrictEqual([...(a ?? [])].sort(), [...(b ?? [])].sort());

/** A User matters to Teams when it becomes (not) Ready, or its groups or login change. */
export const userMembershipChanged: UpdatePredicate<User> = (before, after) =>
  isConditionTrue(before.status?.conditions, 'Ready') !==
    isConditionTrue(after.status?.conditions, 'Ready') ||
  !sameSet(before.spec?.groups, after.spec?.groups) ||
  before.spec?.identity?.subject !== after.spec?.identity?.subject ||
  isDeleting(before) !== isDeleting(after);

/** A ModelSubscription matters to its Team when it (stops being) Active. */
export const subscriptionPhaseChanged: UpdatePredicate<ModelSubscription> = (before, after) =>
  before.status?.phase !== after.status?.phase ||
  before.status?.team !== after.status?.team ||
  before.spec?.model !== after.spec?.model;

/** A Group matters to Teams when its users change. */
export const groupUsersChanged: UpdatePredicate<GroupObject> = (before, after) =>
  !sameSet(before.users ?? [], after.users ?? []);
