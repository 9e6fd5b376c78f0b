// Prometheus metrics of the LiteLLM client, registered on the registry the operator serves
// on /metrics. One set per registry (prom-client refuses a name twice; tests make a fresh
// registry each), shared by every client on it.
//
//   litellm_client_requests_total{endpoint,method,code}     code: the HTTP status, or
//       timeout | network_error | aborted (no response), circuit_open (refused, not sent)
//   litellm_client_request_duration_seconds{endpoint,method} requests actually sent
//   litellm_client_circuit_state                             0 closed, 1 half-open, 2 open
//
// `endpoint` is the route without its query string (`/key/info`), so no key or id ever
// becomes a label value.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CircuitState } from './circuit-breaker.ts';

export interface ClientMetrics {
  requests: Counter<'endpoint' | 'method' | 'code'>;
  duration: Histogram<'endpoint' | 'method'>;
  circuitState: Gauge;
}

const byRegistry = new WeakMap<Registry, ClientMetrics>();

export function clientMetrics(registry: Registry): ClientMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    const registers = [registry];
    metrics = {
      requests: new Counter({
        name: 'litellm_client_requests_total',
        help: 'Requests to the LiteLLM admin API, by endpoint, method and HTTP status (or failure)',
        labelNames: ['endpoint', 'method', 'code'],
        registers,
      }),
      duration: new Histogram({
        name: 'litellm_client_request_duration_seconds',
        help: 'Duration of requests to the LiteLLM admin API, until the whole response was read',
        labelNames: ['endpoint', 'method'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
      circuitState: new Gauge({
        name: 'litellm_client_circuit_state',
        help: 'State of the LiteLLM client circuit breaker: 0 closed, 1 half-open, 2 open',
        registers,
      }),
    };
    metrics.circuitState.set(0);
    byRegistry.set(registry, metrics);
  }
  return metrics;
}

export const circuitStateValue: Record<CircuitState, number> = { closed: 0, halfOpen: 1, open: 2 };
