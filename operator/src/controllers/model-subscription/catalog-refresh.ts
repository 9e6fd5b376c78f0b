// The model catalog's refresh, a singleton loop (runtime/singleton-loop.ts):
//
//   manager.add(new SingletonLoop(manager, modelCatalogRefresher({ catalog })), { leaderOnly: true })
//
// Each pass loads GET /model/info; the next runs after the catalog's refresh interval. It is
// leader-only, so one replica polls LiteLLM, and the manager stops it with everything else. A
// failed load is retried with a backoff capped at the refresh interval, so LiteLLM coming
// back is noticed no later than the next refresh would notice it.
//
// The catalog tells its own listeners what changed (the ModelSubscription controller
// re-checks every subscription), so nothing here knows who reads it.
import type { ModelCatalog } from '../../litellm/model-catalog.ts';
import { jittered } from '../../runtime/backoff.ts';
import { ExponentialFailureRateLimiter } from '../../runtime/rate-limiter.ts';
import type { SingletonLoopOptions } from '../../runtime/singleton-loop.ts';

export const MODEL_CATALOG_CONTROLLER = 'model-catalog';
const FIRST_RETRY_MS = 200;

export interface ModelCatalogRefresherDeps {
  catalog: Pick<ModelCatalog, 'refresh' | 'refreshIntervalMs'>;
  random?: () => number;
}

export function modelCatalogRefresher(deps: ModelCatalogRefresherDeps): SingletonLoopOptions {
  const intervalMs = deps.catalog.refreshIntervalMs;
  return {
    name: MODEL_CATALOG_CONTROLLER,
    pass: async ({ signal }) => {
      await deps.catalog.refresh({ signal });
      return jittered(intervalMs, 0.1, deps.random);
    },
    rateLimiter: new ExponentialFailureRateLimiter({
      baseDelayMs: Math.min(FIRST_RETRY_MS, intervalMs),
      maxDelayMs: intervalMs,
      jitter: 0.1,
      random: deps.random,
    }),
  };
}
