// The VirtualKey controller as the Manager takes it:
//
//   manager.addController(virtualKeyController({ kube, informers: manager.informers, … }))
//
// It reads VirtualKeys, Teams, Users and ModelSubscriptions from the manager's shared
// informers and is enqueued by each of them and by the Secrets it writes (watches.ts), and
// by the admission policy on spec.user and its bindings (admission-policy.ts). With the key
// snapshot (key-snapshot.ts), a no-change resync reads LiteLLM in pages, not once per key.
import type { V1Secret } from '@kubernetes/client-node';
import type { ModelSubscription, Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import { litellmErrorPolicy } from '../../litellm/errors.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { Clock } from '../../runtime/clock.ts';
import { generationChanged, type UpdatePredicate } from '../../runtime/event-handlers.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { InformerFactory } from '../../runtime/informer-factory.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { watchMapped, type ManagedControllerOptions } from '../../runtime/manager.ts';
import {
  MODEL_SUBSCRIPTION_TARGET,
  selecting,
  TEAM_TARGET,
  USER_TARGET,
  VIRTUAL_KEY_TARGET,
} from '../shared/kinds.ts';
import type { KeyRouting } from './key-routing.ts';
import { VIRTUAL_KEY_FINALIZER, VirtualKeyReconciler } from './reconciler.ts';
import { KeySnapshot } from './key-snapshot.ts';
import { OwnSecretWrites } from './own-secret-writes.ts';
import {
  ADMISSION_BINDING_TARGET,
  ADMISSION_POLICY_TARGET,
  AdmissionPolicyCache,
  personalKeys,
  type Binding,
  type Policy,
} from './admission-policy.ts';
import { KEY_SECRET_TARGET } from './targets.ts';
import {
  keyChanged,
  keysForSubscription,
  keysForTeam,
  keysForUser,
  subscriptionAccessChanged,
  teamAccessChanged,
  userAccessChanged,
  type VirtualKeyStores,
} from './watches.ts';
import type { KeyInventory } from '../../routing/key-inventory.ts';

export const VIRTUAL_KEY_CONTROLLER = 'virtualkey';
export const DEFAULT_KEY_WORKERS = 32;

export interface VirtualKeyControllerDeps {
  /** The manager's client (manager.kube): cached reads, fenced writes. */
  kube: KubeClient;
  informers: InformerFactory;
  litellm: LiteLLMClient;
  routing: KeyRouting;
  logger: Logger;
  recorder: Pick<EventRecorder, 'record'>;
  /** The gateway's OpenAI base URL, written into every key's Secret. */
  gatewayUrl: string;
  clock?: Clock;
  /** How often a converged key is compared with LiteLLM again (jittered by +10 %). */
  resyncIntervalMs: number;
  /** This installation's id (operator/src/installation.ts), stamped into LiteLLM keys. */
  installationId: string;
  /** Only VirtualKeys (and ModelSubscriptions) matching this label selector. Default: all. */
  labelSelector?: string;
  /** The Teams this installation reconciles (the Team controller's selector). Default: all. */
  teamLabelSelector?: string;
  /**
   * Told of every key reconciled, so the routing publisher knows when it has heard of every
   * key (operator/src/routing/key-inventory.ts). Built on this controller's key store.
   */
  inventory?: KeyInventory;
  /**
   * Observe converged keys from a snapshot of this installation's keys (GET /key/list in
   * pages, at most once per resync interval) instead of one /key/info each: true, or the
   * snapshot itself when another loop feeds it too (keyResyncSnapshot). Default false.
   */
  keySnapshot?: boolean | KeySnapshot;
  /**
   * Keys reconciled at once. Default 32: a new key's reconcile is four API-server writes and
   * two LiteLLM calls in a row, each mostly waiting (on etcd's commit, which batches
   * concurrent writes); with 8, a burst of keys was held to 8 ÷ that chain's latency.
   */
  workers?: number;
  stopGracePeriodMs?: number;
}

/** The snapshot a VirtualKey controller built from `deps` observes converged keys from. */
export function keyResyncSnapshot(
  deps: Pick<VirtualKeyControllerDeps, 'litellm' | 'installationId' | 'resyncIntervalMs' | 'clock'>,
): KeySnapshot {
  return new KeySnapshot({
    litellm: deps.litellm,
    installationId: deps.installationId,
    maxAgeMs: deps.resyncIntervalMs,
    clock: deps.clock,
  });
}

export function virtualKeyController(deps: VirtualKeyControllerDeps): ManagedControllerOptions {
  const keyTarget = selecting(VIRTUAL_KEY_TARGET, deps.labelSelector);
  const teamTarget = selecting(TEAM_TARGET, deps.teamLabelSelector);
  const subscriptionTarget = selecting(MODEL_SUBSCRIPTION_TARGET, deps.labelSelector);
  const stores: VirtualKeyStores = {
    keys: deps.informers.informerFor<VirtualKey>(keyTarget).store,
    teams: deps.informers.informerFor<Team>(teamTarget).store,
    users: deps.informers.informerFor<User>(USER_TARGET).store,
    subscriptions: deps.informers.informerFor<ModelSubscription>(subscriptionTarget).store,
    admission: new AdmissionPolicyCache(
      deps.informers.informerFor<Policy>(ADMISSION_POLICY_TARGET).store,
      deps.informers.informerFor<Binding>(ADMISSION_BINDING_TARGET).store,
    ),
  };
  const secretWrites = new OwnSecretWrites();
  const secretInformer = deps.informers.informerFor<V1Secret & KubeObject>(KEY_SECRET_TARGET);

  const reconciler = new VirtualKeyReconciler({
    kube: deps.kube,
    litellm: deps.litellm,
    stores,
    routing: deps.routing,
    recorder: deps.recorder,
    gatewayUrl: deps.gatewayUrl,
    resyncIntervalMs: deps.resyncIntervalMs,
    installationId: deps.installationId,
    snapshot:
      deps.keySnapshot instanceof KeySnapshot
        ? deps.keySnapshot
        : deps.keySnapshot
          ? keyResyncSnapshot(deps)
          : undefined,
    secretWrites,
    clock: deps.clock,
  });

  return {
    name: VIRTUAL_KEY_CONTROLLER,
    reconciler: deps.inventory ? deps.inventory.observe(reconciler) : reconciler,
    workers: deps.workers ?? DEFAULT_KEY_WORKERS,
    errorPolicy: litellmErrorPolicy,
    clock: deps.clock,
    stopGracePeriodMs: deps.stopGracePeriodMs,
    for: {
      target: keyTarget,
      updatePredicate: keyChanged(VIRTUAL_KEY_FINALIZER) as UpdatePredicate<KubeObject>,
    },
    watches: [
      watchMapped(teamTarget, keysForTeam(stores), teamAccessChanged),
      watchMapped(USER_TARGET, keysForUser(stores), userAccessChanged),
      watchMapped(subscriptionTarget, keysForSubscription(stores), subscriptionAccessChanged),
      watchMapped(ADMISSION_POLICY_TARGET, personalKeys(stores.keys), generationChanged),
      watchMapped(ADMISSION_BINDING_TARGET, personalKeys(stores.keys), generationChanged),
    ],
    // The key Secrets: every change but the echo of our own writes (own-secret-writes.ts).
    sources: [(enqueue) => secretInformer.addEventHandler(secretWrites.handler(enqueue))],
  };
}
