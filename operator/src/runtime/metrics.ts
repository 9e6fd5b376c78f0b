// Prometheus metrics of the runtime, under the names dashboards for controller-runtime and
// client-go already graph (workqueue_* with a `name` label; controller_runtime_* with a
// `controller` label), so existing Grafana panels and alerts work unchanged. One set per
// prom-client Registry: prom-client refuses to register a name twice, and tests make a
// fresh Registry each.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InFlightWork, WorkQueueMetrics, WorkQueueMetricsProvider } from './work-queue.ts';

/** client-go's workqueue buckets: 10 ns … 1000 s, ×10 each. */
const workQueueBuckets = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

/** controller-runtime's reconcile_time_seconds buckets. */
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
  1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';

export interface ControllerMetrics {
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileErrors: Counter<'controller'>;
  terminalReconcileErrors: Counter<'controller'>;
  reconcileTime: Histogram<'controller'>;
  activeWorkers: Gauge<'controller'>;
  maxConcurrentReconciles: Gauge<'controller'>;
}

export interface RuntimeMetrics {
  registry: Registry;
  workQueues: WorkQueueMetricsProvider;
  controllers: ControllerMetrics;
}

const byRegistry = new WeakMap<Registry, RuntimeMetrics>();

/** The runtime's metrics registered in `registry` (created on first use). */
export function runtimeMetrics(registry: Registry): RuntimeMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    metrics = {
      registry,
      workQueues: workQueueMetrics(registry),
      controllers: controllerMetrics(registry),
    };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}

function workQueueMetrics(registry: Registry): WorkQueueMetricsProvider {
  const registers = [registry];
  const depth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name'],
    registers,
  });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name'],
    registers,
  });
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name'],
    buckets: workQueueBuckets,
    registers,
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name'],
    buckets: workQueueBuckets,
    registers,
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name'],
    registers,
  });

  // The two in-flight gauges are computed when scraped, from each queue's processing set,
  // instead of by a periodic timer as client-go does: same values, no background work.
  const inFlight = new Map<string, () => InFlightWork>();
  new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help: 'How many seconds of work has been done that is in progress and has not been observed by work_duration. Large values indicate stuck threads.',
    labelNames: ['name'],
    registers,
    collect() {
      this.reset();
      for (const [name, read] of inFlight) this.set({ name }, read().unfinishedWorkSeconds);
    },
  });
  new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running.',
    labelNames: ['name'],
    registers,
    collect() {
      this.reset();
      for (const [name, read] of inFlight)
        this.set({ name }, read().longestRunningProcessorSeconds);
    },
  });

  return {
    forQueue(name, read): WorkQueueMetrics {
      inFlight.set(name, read);
      depth.set({ name }, 0);
      adds.inc({ name }, 0);
      retries.inc({ name }, 0);
      return {
        added() {
          adds.inc({ name });
          depth.inc({ name });
        },
        handedOut(queuedSeconds) {
          depth.dec({ name });
          queueDuration.observe({ name }, queuedSeconds);
        },
        done(workSeconds) {
          workDuration.observe({ name }, workSeconds);
        },
        retried() {
          retries.inc({ name });
        },
      };
    },
  };
}

function controllerMetrics(registry: Registry): ControllerMetrics {
  const registers = [registry];
  return {
    reconcileTotal: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    }),
    terminalReconcileErrors: new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: reconcileBuckets,
      registers,
    }),
    activeWorkers: new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    }),
    maxConcurrentReconciles: new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    }),
  };
}

/** Initialises a controller's series at zero, so dashboards show it before its first event. */
export function registerController(
  metrics: ControllerMetrics,
  controller: string,
  workers: number,
): void {
  for (const result of ['success', 'error', 'requeue', 'requeue_after'] as const) {
    metrics.reconcileTotal.inc({ controller, result }, 0);
  }
  metrics.reconcileErrors.inc({ controller }, 0);
  metrics.terminalReconcileErrors.inc({ controller }, 0);
  metrics.activeWorkers.set({ controller }, 0);
  metrics.maxConcurrentReconciles.set({ controller }, workers);
}
