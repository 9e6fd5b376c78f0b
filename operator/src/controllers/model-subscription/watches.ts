// What makes a ModelSubscription reconcile besides its own spec, and the cache lookups the
// reconciler makes:
//
//   Team           → every subscription in its namespaces, before and after the change, when
//                    its namespaces or models change or its deletion starts (approving a model
//                    is a Team edit, and activates the subscription within one reconcile)
//   model catalog  → every subscription (controller.ts), when LiteLLM's models change
import { isDeepStrictEqual } from 'node:util';
import type { ModelSubscription, Team } from '../../../../crds/api/index.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import { generationChanged, type UpdatePredicate } from '../../runtime/event-handlers.ts';
import { isDeleting } from '../../runtime/object.ts';
import { requestFor, type Request } from '../../runtime/request.ts';
import { SUBSCRIPTIONS_BY_NAMESPACE, TEAMS_BY_NAMESPACE } from '../shared/indexes.ts';

export interface SubscriptionStores {
  subscriptions: ObjectStore<ModelSubscription>;
  /** The Team controller's Team cache (same target and selector, so the same store). */
  teams: ObjectStore<Team>;
}

/** The Teams claiming `namespace`, by name, without those being deleted. */
export function claimingTeams(stores: SubscriptionStores, namespace: string): Team[] {
  return stores.teams
    .byIndex(TEAMS_BY_NAMESPACE, namespace)
    .filter((team) => !isDeleting(team))
    .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
}

export function subscriptionsForTeam(stores: SubscriptionStores): (team: Team) => Request[] {
  return (team) =>
    (team.spec?.namespaces ?? []).flatMap((namespace) =>
      stores.subscriptions.byIndex(SUBSCRIPTIONS_BY_NAMESPACE, namespace).map(requestFor),
    );
}

/** Every subscription in the cache: what a change of LiteLLM's models may affect. */
export function allSubscriptions(stores: SubscriptionStores): Request[] {
  return stores.subscriptions.list().map(requestFor);
}

const sameSet = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  isDeepStrictEqual([...(a ?? [])].sort(), [...(b ?? [])].sort());

/** A Team matters to subscriptions when what it claims or approves changes, or it goes. */
export const teamApprovalChanged: UpdatePredicate<Team> = (before, after) =>
  !sameSet(before.spec?.namespaces, after.spec?.namespaces) ||
  !sameSet(before.spec?.models, after.spec?.models) ||
  isDeleting(before) !== isDeleting(after);

/**
 * A subscription's own update matters when its spec changed (generationChanged), or when its
 * phase or team did: that is our own write (re-checked once, writing nothing) or someone
 * else's, which is undone — these two fields are what grants a Team the model.
 */
export const subscriptionChanged: UpdatePredicate<ModelSubscription> = (before, after) =>
  generationChanged(before, after) ||
  before.status?.phase !== after.status?.phase ||
  before.status?.team !== after.status?.team;
