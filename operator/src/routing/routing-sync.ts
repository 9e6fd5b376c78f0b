// Keeps Redis's routing config there, in the Manager: a controller with a single request
// that checks every few seconds that Redis still holds it (ensurePublished: refills a Redis
// that restarted empty), puts the model routes (model-routes.ts) and, less often, prunes
// records whose VirtualKey is gone. Controllers run only on the leader, so only one replica
// writes. A failed pass (Redis down) is retried with a backoff capped low enough to notice
// Redis's return soon; Redis's `ready` after a reconnect, and a change of the model routes,
// also run a pass at once.
//
// The models are put on every pass, not only when they change: the publisher sends nothing
// when they equal its last write, and a put that failed (Redis down) or a refill that could
// only restore the models written before is thereby repaired by the next pass.
import type { Redis } from 'ioredis';
import type { VirtualKey } from '../../../crds/api/index.ts';
import type { KeyPolicy } from '../../../crds/routing/schema.ts';
import { jittered } from '../runtime/backoff.ts';
import type { ObjectStore } from '../runtime/cache.ts';
import { systemClock, type Clock } from '../runtime/clock.ts';
import type { Controller } from '../runtime/controller.ts';
import type { Manager } from '../runtime/manager.ts';
import { ExponentialFailureRateLimiter } from '../runtime/rate-limiter.ts';
import type { KeyInventory } from './key-inventory.ts';
import type { ModelRoutesSource } from './model-routes.ts';
import type { RoutingPublisher } from './routing-publisher.ts';

export const ROUTING_SYNC = 'routing-sync';
const REQUEST = { name: 'routing' };

export interface RoutingSyncDeps {
  manager: Manager;
  publisher: RoutingPublisher;
  /** The publisher's client: its `ready` events trigger a pass. */
  redis: Redis;
  /** The VirtualKey informer's store: a record's owner is live while it is here. */
  virtualKeys: ObjectStore<VirtualKey>;
  /** The model routes to publish (catalogModelRoutes). Default: none are published. */
  models?: ModelRoutesSource;
  /**
   * The publisher's KeyInventory: once it is complete, a pass runs at once and clears the
   * config's incomplete mark (without one, the next periodic pass does).
   */
  inventory?: KeyInventory;
  /** Time between ensurePublished checks (+ up to 10 %). Default 5 s. */
  checkIntervalMs?: number;
  /** Least time between prunes. Default 60 s. */
  pruneIntervalMs?: number;
  /** Longest retry delay while Redis fails. Default 30 s. */
  maxBackoffMs?: number;
  clock?: Clock;
}

export interface RoutingSync {
  controller: Controller;
  /** Stops listening to the client and the models (the controller stops with the manager). */
  detach(): void;
}

export function routingSync(deps: RoutingSyncDeps): RoutingSync {
  const { manager, publisher, redis } = deps;
  const checkIntervalMs = deps.checkIntervalMs ?? 5_000;
  const pruneIntervalMs = deps.pruneIntervalMs ?? 60_000;
  const clock = deps.clock ?? systemClock;
  const isLive = ownerIsLive(deps.virtualKeys);
  // The first pass after the caches synced prunes; then at most once per interval.
  let nextPruneAt = 0;

  const controller = manager.addController({
    name: ROUTING_SYNC,
    // ROUTING_CHECK_INTERVAL may be set below the runtime's 1 s requeue floor on purpose.
    minRequeueAfterMs: Math.min(checkIntervalMs, 1_000),
    rateLimiter: new ExponentialFailureRateLimiter({
      baseDelayMs: 100,
      maxDelayMs: deps.maxBackoffMs ?? 30_000,
      jitter: 0.1,
    }),
    // Between steps: a lost lease aborts the signal, and a former leader writes no more.
    reconciler: async (_request, { log, signal }) => {
      signal.throwIfAborted();
      await publisher.ensurePublished();
      signal.throwIfAborted();
      const routes = deps.models?.current();
      if (routes) await publisher.putModels(routes);
      signal.throwIfAborted();
      if (clock.now() >= nextPruneAt && manager.informers.hasSynced()) {
        const pruned = await publisher.prune(isLive);
        nextPruneAt = clock.now() + pruneIntervalMs;
        log.debug({ pruned }, 'pruned routing records');
      }
      return { requeueAfter: jittered(checkIntervalMs, 0.1) };
    },
  });
  const onReady = () => controller.enqueue(REQUEST);
  redis.on('ready', onReady);
  const stopModels = deps.models?.onChange(() => controller.enqueue(REQUEST));
  const stopInventory = deps.inventory?.onComplete(() => controller.enqueue(REQUEST));
  controller.enqueue(REQUEST);
  return {
    controller,
    detach: () => {
      redis.off('ready', onReady);
      stopModels?.();
      stopInventory?.();
    },
  };
}

/** A record's owner is live while a VirtualKey with its namespace, name and uid exists. */
export function ownerIsLive(virtualKeys: ObjectStore<VirtualKey>): (policy: KeyPolicy) => boolean {
  return ({ owner }) =>
    virtualKeys.getByName(owner.name, owner.namespace)?.metadata?.uid === owner.uid;
}
