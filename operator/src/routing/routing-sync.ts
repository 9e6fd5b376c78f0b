// Keeps Redis's routing config there, a singleton loop (runtime/singleton-loop.ts):
//
//   manager.add(new SingletonLoop(manager, routingSync({ informers, publisher, … })), { leaderOnly: true })
//
// Each pass checks that Redis still holds the config (ensurePublished: refills a Redis that
// restarted empty), puts the model routes (model-routes.ts) and, less often, prunes records
// whose VirtualKey is gone; the next pass runs a few seconds later. It is leader-only, so only
// one replica writes. A failed pass (Redis down) is retried with a backoff capped low enough
// to notice Redis's return soon; Redis's `ready` after a reconnect, a change of the model
// routes and the key inventory turning complete also run a pass at once.
//
// The models are put on every pass, not only when they change: the publisher sends nothing
// when they equal its last write, and a put that failed (Redis down) or a refill that could
// only restore the models written before is thereby repaired by the next pass.
import type { Redis } from 'ioredis';
import type { VirtualKey } from '../../../crds/api/index.ts';
import type { KeyPolicy } from '../../../contracts/routing/schema.ts';
import { jittered } from '../runtime/backoff.ts';
import type { ObjectStore } from '../runtime/cache.ts';
import { systemClock, type Clock } from '../runtime/clock.ts';
import type { InformerFactory } from '../runtime/informer-factory.ts';
import { ExponentialFailureRateLimiter } from '../runtime/rate-limiter.ts';
import type { LoopTrigger, SingletonLoopOptions } from '../runtime/singleton-loop.ts';
import type { KeyInventory } from './key-inventory.ts';
import type { ModelRoutesSource } from './model-routes.ts';
import type { RoutingPublisher } from './routing-publisher.ts';

export const ROUTING_SYNC = 'routing-sync';

export interface RoutingSyncDeps {
  /** The manager's informers: prunes wait until every cache has synced. */
  informers: Pick<InformerFactory, 'hasSynced'>;
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

export function routingSync(deps: RoutingSyncDeps): SingletonLoopOptions {
  const { publisher, redis } = deps;
  const checkIntervalMs = deps.checkIntervalMs ?? 5_000;
  const pruneIntervalMs = deps.pruneIntervalMs ?? 60_000;
  const clock = deps.clock ?? systemClock;
  const isLive = ownerIsLive(deps.virtualKeys);
  // The first pass after the caches synced prunes; then at most once per interval.
  let nextPruneAt = 0;

  const triggers: LoopTrigger[] = [
    (runNow) => {
      redis.on('ready', runNow);
      return () => redis.off('ready', runNow);
    },
  ];
  const { models, inventory } = deps;
  if (models) triggers.push((runNow) => models.onChange(runNow));
  if (inventory) triggers.push((runNow) => inventory.onComplete(runNow));

  return {
    name: ROUTING_SYNC,
    // ROUTING_CHECK_INTERVAL may be set below the runtime's 1 s requeue floor on purpose.
    minRequeueAfterMs: Math.min(checkIntervalMs, 1_000),
    rateLimiter: new ExponentialFailureRateLimiter({
      baseDelayMs: 100,
      maxDelayMs: deps.maxBackoffMs ?? 30_000,
      jitter: 0.1,
    }),
    triggers,
    // Between steps: a lost lease aborts the signal, and a former leader writes no more.
    pass: async ({ log, signal }) => {
      signal.throwIfAborted();
      await publisher.ensurePublished();
      signal.throwIfAborted();
      const routes = models?.current();
      if (routes) await publisher.putModels(routes);
      signal.throwIfAborted();
      if (clock.now() >= nextPruneAt && deps.informers.hasSynced()) {
        const pruned = await publisher.prune(isLive);
        nextPruneAt = clock.now() + pruneIntervalMs;
        log.debug({ pruned }, 'pruned routing records');
      }
      return jittered(checkIntervalMs, 0.1);
    },
  };
}

/** A record's owner is live while a VirtualKey with its namespace, name and uid exists. */
export function ownerIsLive(virtualKeys: ObjectStore<VirtualKey>): (policy: KeyPolicy) => boolean {
  return ({ owner }) =>
    virtualKeys.getByName(owner.name, owner.namespace)?.metadata?.uid === owner.uid;
}
