// The ModelSubscription controller as the Manager takes it, with the model catalog it reads:
//
//   const catalog = new ModelCatalog({ litellm, refreshIntervalMs });
//   manager.add(new SingletonLoop(manager, modelCatalogRefresher({ catalog })));
//   manager.addController(modelSubscriptionController({ kube, informers, catalog, … }));
//
// It reads ModelSubscriptions and Teams from the manager's shared informers (the Team cache
// is the Team controller's own when both use the same teamLabelSelector), and is enqueued by
// its own subscriptions, by Teams (watches.ts) and by every change of the catalog.
import type { ModelSubscription, Team } from '../../../../crds/api/index.ts';
import type { ModelCatalog } from '../../litellm/model-catalog.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { UpdatePredicate } from '../../runtime/event-handlers.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { InformerFactory } from '../../runtime/informer-factory.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import type { ManagedControllerOptions } from '../../runtime/manager.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';
import { MODEL_SUBSCRIPTION_TARGET, TEAM_TARGET } from '../shared/kinds.ts';
import { ModelSubscriptionReconciler } from './reconciler.ts';
import {
  allSubscriptions,
  subscriptionChanged,
  subscriptionsForTeam,
  teamApprovalChanged,
  type SubscriptionStores,
} from './watches.ts';

export const MODEL_SUBSCRIPTION_CONTROLLER = 'model-subscription';

export interface ModelSubscriptionControllerDeps {
  /** The manager's client (manager.kube): cached reads, fenced writes. */
  kube: KubeClient;
  /** The manager's informers (manager.informers): caches shared with the other controllers. */
  informers: InformerFactory;
  /** The models LiteLLM serves; refreshed by the model-catalog controller (catalog-refresh.ts). */
  catalog: Pick<ModelCatalog, 'state' | 'get' | 'lastError' | 'onChange'>;
  recorder: Pick<EventRecorder, 'record'>;
  clock?: Clock;
  /**
   * Only ModelSubscriptions matching this label selector (several operator installations
   * sharing a cluster, or tests sharing an API server). Default: every one.
   */
  labelSelector?: string;
  /** The Teams to read: the Team controller's teamLabelSelector. Default: every Team. */
  teamLabelSelector?: string;
  /** Subscriptions reconciled at once. Default 4. */
  workers?: number;
  /** How long stopping waits for in-flight reconciles before aborting them. Default 30 s. */
  stopGracePeriodMs?: number;
}

export function modelSubscriptionController(
  deps: ModelSubscriptionControllerDeps,
): ManagedControllerOptions {
  const subscriptionTarget = { ...MODEL_SUBSCRIPTION_TARGET, labelSelector: deps.labelSelector };
  const teamTarget = { ...TEAM_TARGET, labelSelector: deps.teamLabelSelector };
  const stores: SubscriptionStores = {
    subscriptions: deps.informers.informerFor<ModelSubscription>(subscriptionTarget).store,
    teams: deps.informers.informerFor<Team>(teamTarget).store,
  };
  return {
    name: MODEL_SUBSCRIPTION_CONTROLLER,
    reconciler: new ModelSubscriptionReconciler({
      kube: deps.kube,
      stores,
      catalog: deps.catalog,
      recorder: deps.recorder,
      clock: deps.clock,
    }),
    workers: deps.workers ?? 4,
    clock: deps.clock,
    stopGracePeriodMs: deps.stopGracePeriodMs,
    for: { target: subscriptionTarget, updatePredicate: widen(subscriptionChanged) },
    watches: [
      {
        target: teamTarget,
        map: widenMap(subscriptionsForTeam(stores)),
        updatePredicate: widen(teamApprovalChanged),
      },
    ],
    // LiteLLM's models changed (or the catalog loaded, or cannot): re-check every subscription.
    sources: [
      (enqueue) =>
        deps.catalog.onChange(() => {
          for (const request of allSubscriptions(stores)) enqueue(request);
        }),
    ],
  };
}

// Typed maps and predicates, widened to what the manager's watches take.
const widen = <T extends KubeObject>(predicate: UpdatePredicate<T>) =>
  predicate as UpdatePredicate<KubeObject>;
const widenMap = <T extends KubeObject>(map: (object: T) => readonly Request[]) =>
  map as (object: KubeObject) => readonly Request[];
