// Metrics of the spend sync, on the operator's registry:
//
//   llmtenancy_spend_sync_errors_total{stage}             failed passes or writes: stage
//                                                         litellm (a list read failed: no
//                                                         status written), kubernetes (a
//                                                         status write failed), counters
//                                                         (the gateway's counters)
//   llmtenancy_spend_sync_last_success_timestamp_seconds  end of the last pass that read
//                                                         LiteLLM and wrote every change
//   llmtenancy_spend_sync_writes_total{kind}              status patches written
//   llmtenancy_budget_used_ratio{kind,namespace,name}     spend / maxBudget of each object
//                                                         with a budget (namespace "" for
//                                                         Teams and Users)
import { Counter, Gauge, type Registry } from 'prom-client';

export type SpendSyncStage = 'litellm' | 'kubernetes' | 'counters';

export interface SpendSyncMetrics {
  errors: Counter<'stage'>;
  lastSuccess: Gauge;
  writes: Counter<'kind'>;
  /** Passes that read LiteLLM (what a pass costs it: one listing per kind). */
  reads: Counter;
  usedRatio: Gauge<'kind' | 'namespace' | 'name'>;
}

const byRegistry = new WeakMap<Registry, SpendSyncMetrics>();

export function spendSyncMetrics(registry: Registry): SpendSyncMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    metrics = {
      errors: new Counter({
        name: 'llmtenancy_spend_sync_errors_total',
        help: 'Spend sync failures, by stage: litellm (reading spend failed; status kept), kubernetes (a status write failed), counters (reconciling the gateway spend counters failed)',
        labelNames: ['stage'],
        registers: [registry],
      }),
      lastSuccess: new Gauge({
        name: 'llmtenancy_spend_sync_last_success_timestamp_seconds',
        help: 'When the spend sync last read every spend from LiteLLM and wrote every change to status (Unix seconds)',
        registers: [registry],
      }),
      reads: new Counter({
        name: 'llmtenancy_spend_sync_reads_total',
        help: 'Spend sync passes that read every key, team and user from LiteLLM',
        registers: [registry],
      }),
      writes: new Counter({
        name: 'llmtenancy_spend_sync_writes_total',
        help: 'Status patches the spend sync wrote (spend or budget changed), by kind',
        labelNames: ['kind'],
        registers: [registry],
      }),
      usedRatio: new Gauge({
        name: 'llmtenancy_budget_used_ratio',
        help: 'Spend / maxBudget of each Team, User and VirtualKey with a budget, as of the last spend sync (1 or more: spent)',
        labelNames: ['kind', 'namespace', 'name'],
        registers: [registry],
      }),
    };
    for (const stage of ['litellm', 'kubernetes', 'counters'] as const)
      metrics.errors.inc({ stage }, 0);
    byRegistry.set(registry, metrics);
  }
  return metrics;
}
