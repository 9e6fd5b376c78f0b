// The model catalog's refresh as the Manager takes it:
//
//   manager.addController(modelCatalogRefresher({ catalog }))
//
// A controller with a single request, like the orphan collector, that loads GET /model/info
// and asks to run again after the catalog's refresh interval. Controllers run only on the
// leader, so one replica polls LiteLLM, and the manager stops it with everything else. A
// failed load is retried with a backoff capped at the refresh interval, so LiteLLM coming
// back is noticed no later than the next refresh would notice it.
//
// The catalog tells its own listeners what changed (the ModelSubscription controller
// re-checks every subscription), so nothing here knows who reads it.
import type { ModelCatalog } from '../../litellm/model-catalog.ts';
import { jittered } from '../../runtime/backoff.ts';
import type { ManagedControllerOptions } from '../../runtime/manager.ts';
import { ExponentialFailureRateLimiter } from '../../runtime/rate-limiter.ts';

export const MODEL_CATALOG_CONTROLLER = 'model-catalog';
const FIRST_RETRY_MS = 200;

export interface ModelCatalogRefresherDeps {
  catalog: Pick<ModelCatalog, 'refresh' | 'refreshIntervalMs'>;
  random?: () => number;
}

export function modelCatalogRefresher(deps: ModelCatalogRefresherDeps): ManagedControllerOptions {
  const intervalMs = deps.catalog.refreshIntervalMs;
  return {
    name: MODEL_CATALOG_CONTROLLER,
    reconciler: async (_request, { signal }) => {
      await deps.catalog.refresh({ signal });
      return { requeueAfter: jittered(intervalMs, 0.1, deps.random) };
    },
    rateLimiter: new ExponentialFailureRateLimiter({
      baseDelayMs: Math.min(FIRST_RETRY_MS, intervalMs),
      maxDelayMs: intervalMs,
      jitter: 0.1,
      random: deps.random,
    }),
    // The one request, queued at once: the first load runs as soon as the controller starts.
    sources: [(enqueue) => enqueue({ name: 'litellm' })],
  };
}
