// What makes a VirtualKey reconcile besides its own spec: every change that can change the
// models it reaches or whether it may work at all (controller-runtime's
// EnqueueRequestsFromMapFunc), with predicates that drop updates which cannot.
//
//   Team              → keys in its namespaces (old and new): LiteLLM id, members, models,
//                       limits, budget spent or not (not every spend), budget period
//                       (status.budget.resetsAt, by the spend sync), Synced, deletion
//   User              → keys naming it: Ready, LiteLLM id, role, deletion
//   admission policy  → every personal key (admission-policy.ts)
//   ModelSubscription → keys in its namespace: phase, team, limits
//   Secret (ours)     → its owning key: created, changed or deleted, by anyone but the
//                       reconcile that wrote it (own-secret-writes.ts)
//   VirtualKey itself → spec, deletion, annotations, finalizers, and the budget period
//                       the spend sync writes to status (keyChanged): not the status it
//                       writes, nor every spend, nor the finalizer it adds before it goes on
//
// The Secret informer holds metadata only (targets.ts › KEY_SECRET_TARGET): the reconciler
// reads each Secret live from the API server, so a cache of Secret data would be memory any
// tenant could fill (a label is all it takes to be selected). Without data in the cache no
// predicate can tell a write by content; the resourceVersion each of our writes returned
// is what tells our own writes from a tenant's edit.
import { isDeepStrictEqual } from 'node:util';
import type { V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import type { ModelSubscription, Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import { getCondition } from '../../runtime/conditions.ts';
import { generationChanged, type UpdatePredicate } from '../../runtime/event-handlers.ts';
import { isDeleting, type KubeObject } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';
import type { AdmissionPolicyCache } from './admission-policy.ts';
import { teamBudgetExceeded } from './key-budget.ts';
import { KEYS_BY_USER } from '../shared/indexes.ts';

export interface VirtualKeyStores {
  keys: ObjectStore<VirtualKey>;
  teams: ObjectStore<Team>;
  users: ObjectStore<User>;
  subscriptions: ObjectStore<ModelSubscription>;
  /** Whether the API server checks spec.user; absent: it does not (personal keys refused). */
  admission?: AdmissionPolicyCache;
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

/**
 * A new budget period (the spend sync's status.budget.resetsAt) names new spend counters in
 * the key's record (key-policy.ts › budgetPeriods); spend alone within a period does not.
 */
const budgetPeriodChanged = (
  before: { status?: { budget?: { resetsAt?: string } } },
  after: { status?: { budget?: { resetsAt?: string } } },
) => before.status?.budget?.resetsAt !== after.status?.budget?.resetsAt;

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
  budgetPeriodChanged(before, after) ||
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

/**
 * A VirtualKey's own update matters as generationChanged says, except for the finalizer the
 * reconciler itself adds (runtime/finalizers.ts): it adds it and goes on in the same
 * reconcile, so that update has been accounted for. Its removal by anyone still matters.
 */
export function keyChanged(finalizer: string): UpdatePredicate<VirtualKey> {
  return (before, after) => {
    if (budgetPeriodChanged(before, after)) return true;
    const had = before.metadata?.finalizers ?? [];
    const has = after.metadata?.finalizers ?? [];
    if (had.includes(finalizer) || !has.includes(finalizer))
      return generationChanged(before, after);
    const others = has.filter((f) => f !== finalizer);
    // As the list was before (absent stays absent), when ours is all that was added.
    const finalizers = others.length > 0 || before.metadata?.finalizers ? others : undefined;
    return generationChanged(before, { ...after, metadata: { ...after.metadata, finalizers } });
  };
}

/** Every write (a new resourceVersion) may be an edit of the key: the cache cannot tell. */
export const secretTampered: UpdatePredicate<V1Secret & KubeObject> = (before, after) =>
  before.metadata?.resourceVersion !== after.metadata?.resourceVersion;

/**
 * What the Secret cache keeps of each Secret: its identity and the one owner reference
 * keyForSecret reads. Labels, annotations and further owner references are a tenant's to
 * fill (a Secret's metadata may hold up to 1.5 MiB); dropped, a tenant's labelled Secret
 * costs a few hundred bytes of cache, whatever it holds.
 */
export function keySecretMetadata(object: KubeObject): KubeObject {
  const m: V1ObjectMeta = (object as V1Secret).metadata ?? {};
  const owner = m.ownerReferences?.find((r) => r.controller === true && r.kind === 'VirtualKey');
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: owner.apiVersion,
                kind: owner.kind,
                name: owner.name,
                uid: owner.uid,
                controller: true,
              },
            ],
          }
        : {}),
    },
  };
}
