// Metrics of the orphan collector, on the operator's registry:
//
//   llm_tenancy_orphans{kind}                orphans found by the last pass (also in dry-run)
//   llm_tenancy_orphans_deleted_total{kind}  orphans deleted (only with ORPHAN_COLLECTION=on)
//   llm_tenancy_orphans_unclaimed{kind}      objects without an installation id (made before
//                                            ids existed) whose owner is gone: never deleted
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LiteLLMKind } from './orphan-selection.ts';

export interface OrphanMetrics {
  found: Gauge<'kind'>;
  deleted: Counter<'kind'>;
  unclaimed: Gauge<'kind'>;
}

const byRegistry = new WeakMap<Registry, OrphanMetrics>();

export function orphanMetrics(registry: Registry, kinds: readonly LiteLLMKind[]): OrphanMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    metrics = {
      found: new Gauge({
        name: 'llm_tenancy_orphans',
        help: 'LiteLLM objects created by llm-tenancy whose owning object no longer exists, at the last collection',
        labelNames: ['kind'],
        registers: [registry],
      }),
      deleted: new Counter({
        name: 'llm_tenancy_orphans_deleted_total',
        help: 'Orphaned LiteLLM objects deleted by the orphan collector',
        labelNames: ['kind'],
        registers: [registry],
      }),
      unclaimed: new Gauge({
        name: 'llm_tenancy_orphans_unclaimed',
        help: 'LiteLLM objects llm-tenancy made before installation ids existed whose owner no longer exists: kept, since they may be another installation’s',
        labelNames: ['kind'],
        registers: [registry],
      }),
    };
    byRegistry.set(registry, metrics);
  }
  for (const kind of kinds) metrics.deleted.inc({ kind }, 0);
  return metrics;
}
