// Metrics of the routing publisher, on the operator's registry:
//
//   llmtenancy_routing_writes_total{op}          changes written to Redis
//   llmtenancy_routing_write_errors_total{op}    changes Redis did not take (unreachable, …)
//   llmtenancy_routing_skipped_total{op}         puts left out: identical to the last write
//   llmtenancy_routing_records                   key records this publisher holds (memory)
//   llmtenancy_routing_republish_total{reason}   full republishes (missing, invalid,
//                                                revision_regressed) and re-asserted records
//                                                after another publisher's full publish
//                                                (epoch_changed)
//   llmtenancy_routing_last_revision             the revision of the last change seen
//   llmtenancy_routing_keys_known                1 once the publisher has heard of every
//                                                VirtualKey since its start; 0 before (a
//                                                refill then is marked incomplete, and
//                                                gateways answer 503 for keys it lacks)
//
// Labels are operation names and reasons only, never key hashes.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RoutingOperation } from './routing-errors.ts';

export interface RoutingMetrics {
  writes: Counter<'op'>;
  writeErrors: Counter<'op'>;
  skipped: Counter<'op'>;
  records: Gauge;
  republishes: Counter<'reason'>;
  lastRevision: Gauge;
  keysKnown: Gauge;
}

const operations: readonly RoutingOperation[] = [
  'put_key',
  'remove_key',
  'put_models',
  'republish',
  'prune',
  'complete',
];

const byRegistry = new WeakMap<Registry, RoutingMetrics>();

export function routingMetrics(registry: Registry): RoutingMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    const registers = [registry];
    metrics = {
      writes: new Counter({
        name: 'llmtenancy_routing_writes_total',
        help: 'Routing config changes written to Redis, by operation',
        labelNames: ['op'],
        registers,
      }),
      writeErrors: new Counter({
        name: 'llmtenancy_routing_write_errors_total',
        help: 'Routing config changes Redis did not take (unreachable, timed out, refused), by operation',
        labelNames: ['op'],
        registers,
      }),
      skipped: new Counter({
        name: 'llmtenancy_routing_skipped_total',
        help: 'Routing config puts not sent to Redis because they equal the last write',
        labelNames: ['op'],
        registers,
      }),
      records: new Gauge({
        name: 'llmtenancy_routing_records',
        help: 'Key records the routing publisher last wrote and still holds in memory',
        registers,
      }),
      republishes: new Counter({
        name: 'llmtenancy_routing_republish_total',
        help: 'Times the routing config was restored in Redis, by reason',
        labelNames: ['reason'],
        registers,
      }),
      lastRevision: new Gauge({
        name: 'llmtenancy_routing_last_revision',
        help: 'Revision of the last routing config change written or seen in Redis',
        registers,
      }),
      keysKnown: new Gauge({
        name: 'llmtenancy_routing_keys_known',
        help: 'Whether the routing publisher has heard of every VirtualKey since its start (1), or would refill Redis with an incomplete config (0)',
        registers,
      }),
    };
    for (const op of operations) {
      metrics.writes.inc({ op }, 0);
      metrics.writeErrors.inc({ op }, 0);
    }
    byRegistry.set(registry, metrics);
  }
  return metrics;
}
