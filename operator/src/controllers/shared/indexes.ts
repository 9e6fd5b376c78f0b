// The cache indexes the controllers share, each defined once. The kind descriptors
// (kinds.ts) name the indexes of their kind, and the informer factory adds them to every
// store of that kind when it creates it: a store is indexed in one place, whichever
// controller asks for it first, and the same name can never mean two functions.
import type { ModelSubscription, Team, VirtualKey } from '../../../../crds/api/index.ts';
import type { StoreIndex } from '../../runtime/cache.ts';
import type { GroupObject } from '../team/watches.ts';

/** Teams by the namespaces they claim (spec.namespaces). */
export const TEAMS_BY_NAMESPACE: StoreIndex<Team> = {
  name: 'llm-tenancy/team-namespaces',
  values: (t) => t.spec?.namespaces ?? [],
};

/** Teams by the groups they name (spec.groups). */
export const TEAMS_BY_GROUP: StoreIndex<Team> = {
  name: 'llm-tenancy/team-groups',
  values: (t) => t.spec?.groups ?? [],
};

/** Teams by member: spec members and the members status last recorded. */
export const TEAMS_BY_MEMBER: StoreIndex<Team> = {
  name: 'llm-tenancy/team-members',
  values: (t) => [
    ...new Set([
      ...(t.spec?.members ?? []).map((m) => m.user),
      ...(t.status?.members ?? []).map((m) => m.user),
    ]),
  ],
};

/** OpenShift Groups by their users. */
export const GROUPS_BY_USER: StoreIndex<GroupObject> = {
  name: 'llm-tenancy/group-users',
  values: (g) => g.users ?? [],
};

/** ModelSubscriptions by namespace. */
export const SUBSCRIPTIONS_BY_NAMESPACE: StoreIndex<ModelSubscription> = {
  name: 'llm-tenancy/subscription-namespace',
  values: (s) => (s.metadata?.namespace ? [s.metadata.namespace] : []),
};

/** VirtualKeys by the user of a personal key (spec.user). */
export const KEYS_BY_USER: StoreIndex<VirtualKey> = {
  name: 'llm-tenancy/key-user',
  values: (k) => (k.spec?.user ? [k.spec.user] : []),
};

// Every store of a kind carries its kind's indexes (kinds.ts names them on the target).
export const TEAM_INDEXES: readonly StoreIndex<Team>[] = [
  TEAMS_BY_NAMESPACE,
  TEAMS_BY_GROUP,
  TEAMS_BY_MEMBER,
];
export const GROUP_INDEXES: readonly StoreIndex<GroupObject>[] = [GROUPS_BY_USER];
export const SUBSCRIPTION_INDEXES: readonly StoreIndex<ModelSubscription>[] = [
  SUBSCRIPTIONS_BY_NAMESPACE,
];
export const KEY_INDEXES: readonly StoreIndex<VirtualKey>[] = [KEYS_BY_USER];
