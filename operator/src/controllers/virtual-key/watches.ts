// What makes a VirtualKey reconcile besides its own spec: every change that can change the
// models it reaches or whether it may work at all (controller-runtime's
// EnqueueRequestsFromMapFunc), with predicates that drop updates which cannot.
//
//   Team              → keys in its namespaces (old and new): LiteLLM id, members, models,
//                       limits, budget spent or not (not every spend), Synced, deletion
//   User              → keys naming it: Ready, LiteLLM id, role, deletion
//   admission policy  → every personal key (admission-policy.ts)
//   ModelSubscription → keys in its namespace: phase, team, limits
//   Secret (ours)     → its owning key: deleted or changed by someone
import { isDeepStrictEqual } from 'node:util';
import type { V1Secret } from '@kubernetes/client-node';
import type { ModelSubscription, Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import { getCondition } from '../../runtime/conditions.ts';
import type { UpdatePredicate } from '../../runtime/event-handlers.ts';
import { isDeleting, type KubeObject } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';
import type { AdmissionPolicyCache } from './admission-policy.ts';
import { teamBudgetExceeded } from './key-budget.ts';
import { SUBSCRIPTIONS_BY_NAMESPACE, TEAMS_BY_NAMESPACE } from '../team/watches.ts';

export const KEYS_BY_USER = 'llm-tenancy/key-user';

export interface VirtualKeyStores {
  keys: ObjectStore<VirtualKey>;
  teams: ObjectStore<Team>;
  users: ObjectStore<User>;
  subscriptions: ObjectStore<ModelSubscription>;
  /** Whether the API server checks spec.user; absent: it does not (personal keys refused). */
  admission?: AdmissionPolicyCache;
}

export function addVirtualKeyIndexes(stores: VirtualKeyStores): void {
  stores.teams.ensureIndex(TEAMS_BY_NAMESPACE, (t) => t.spec?.namespaces ?? []);
  stores.subscriptions.ensureIndex(SUBSCRIPTIONS_BY_NAMESPACE, (s) =>
    s.metadata?.namespace ? [s.metadata.namespace] : [],
  );
  stores.keys.ensureIndex(KEYS_BY_USER, (k) => (k.spec?.user ? [k.spec.user] : []));
}

const requests = (keys: readonly VirtualKey[]): Request[] =>
  keys.map((k) => ({ namespace: k.metadata.namespace!, name: k.metadata.name! }));

export function keysForTeam(stores: VirtualKeyStores): (team: Team) => Request[] {
  return (team) => (team.spec?.namespaces ?? []).flatMap((ns) => requests(stores.keys.list(ns)));
}

export function keysForUser(stores: VirtualKeyStores): (user: User) => Request[] {
  return (user) =>
    user.metadata?.name ? requests(stores.keys.byIndex(KEYS_BY_USER, user.metadata.name)) : [];
}

export function keysForSubscription(
  stores: VirtualKeyStores,
): (subscription: ModelSubscription) => Request[] {
  return (subscription) =>
    subscription.metadata?.namespace
      ? requests(stores.keys.list(subscription.metadata.namespace))
      : [];
}

export function keyForSecret(secret: V1Secret & KubeObject): Request[] {
  const owner = secret.metadata?.ownerReferences?.find(
    (r) => r.controller === true && r.kind === 'VirtualKey',
  );
  const namespace = secret.metadata?.namespace;
  return owner && namespace ? [{ namespace, name: owner.name }] : [];
}

const sameJson = (a: unknown, b: unknown) => isDeepStrictEqual(a ?? null, b ?? null);
const conditionStatus = (
  object: { status?: { conditions?: readonly { type: string; status: string }[] } },
  type: string,
) => getCondition(object.status?.conditions as never, type)?.status;

export const teamAccessChanged: UpdatePredicate<Team> = (before, after) =>
  !sameJson(before.spec?.namespaces, after.spec?.namespaces) ||
  !sameJson(before.spec?.limits, after.spec?.limits) ||
  !sameJson(before.spec?.gateway, after.spec?.gateway) ||
  before.status?.teamId !== after.status?.teamId ||
  !sameJson(before.status?.models, after.status?.models) ||
  !sameJson(
    (before.status?.members ?? []).map((m) => m.user),
    (after.status?.members ?? []).map((m) => m.user),
  ) ||
  conditionStatus(before, 'Synced') !== conditionStatus(after, 'Synced') ||
  !teamBudgetExceeded(before) !== !teamBudgetExceeded(after) ||
  isDeleting(before) !== isDeleting(after);

export const userAccessChanged: UpdatePredicate<User> = (before, after) =>
  conditionStatus(before, 'Ready') !== conditionStatus(after, 'Ready') ||
  before.status?.userId !== after.status?.userId ||
  before.spec?.role !== after.spec?.role ||
  isDeleting(before) !== isDeleting(after);

export const subscriptionAccessChanged: UpdatePredicate<ModelSubscription> = (before, after) =>
  before.status?.phase !== after.status?.phase ||
  before.status?.team !== after.status?.team ||
  !sameJson(before.spec?.limits, after.spec?.limits);

/** Our own writes change data and annotations too; only a Secret that lost our data matters. */
export const secretTampered: UpdatePredicate<V1Secret & KubeObject> = (before, after) =>
  !sameJson(Object.keys(before.data ?? {}).sort(), Object.keys(after.data ?? {}).sort()) ||
  !sameJson(before.metadata?.ownerReferences, after.metadata?.ownerReferences);
