// Metrics of budget alert delivery, on the operator's registry:
//
//   llmtenancy_budget_alert_deliveries_total{sink,result}   one per attempt's outcome:
//       delivered, skipped (nowhere to send), retried (failed, tried again later),
//       failed (given up: not retryable or out of attempts), dropped (the outbox was full)
//   llmtenancy_budget_alert_delivery_duration_seconds{sink} one attempt, sent to answered
import { Counter, Histogram, type Registry } from 'prom-client';

export type DeliveryResult = 'delivered' | 'skipped' | 'retried' | 'failed' | 'dropped';
const RESULTS: readonly DeliveryResult[] = ['delivered', 'skipped', 'retried', 'failed', 'dropped'];

export interface AlertMetrics {
  deliveries: Counter<'sink' | 'result'>;
  duration: Histogram<'sink'>;
}

const byRegistry = new WeakMap<Registry, AlertMetrics>();

export function alertMetrics(registry: Registry, sinks: readonly string[]): AlertMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    metrics = {
      deliveries: new Counter({
        name: 'llmtenancy_budget_alert_deliveries_total',
        help: 'Budget alert delivery attempts by sink and result: delivered, skipped (no recipient), retried, failed (given up), dropped (outbox full)',
        labelNames: ['sink', 'result'],
        registers: [registry],
      }),
      duration: new Histogram({
        name: 'llmtenancy_budget_alert_delivery_duration_seconds',
        help: 'Duration of one budget alert delivery attempt, by sink',
        labelNames: ['sink'],
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    };
    byRegistry.set(registry, metrics);
  }
  for (const sink of sinks)
    for (const result of RESULTS) metrics.deliveries.inc({ sink, result }, 0);
  return metrics;
}
