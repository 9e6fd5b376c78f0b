// Charges an answer's cost to its request's budgets as soon as the answer's head arrives:
// LiteLLM reports each call's cost in x-litellm-response-cost (USD, a float as text), on
// streams too, with the response head. Sent at once (not awaited: the answer is not held up
// by it), in one script call for the key's and the team's counters. A request on the same
// connection after this one is admitted only after Redis took the charge (Redis runs one
// connection's commands in order); one through another gateway instance only reaches its
// admission after the caller read this answer, by which time the charge has long arrived.
import type { IncomingHttpHeaders } from 'node:http';
import { costMicroDollars } from '../../../contracts/routing/micro-dollars.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { GatewayMetrics } from '../observability/gateway-metrics.ts';
import type { RequestState } from '../request-state.ts';

export const RESPONSE_COST_HEADER = 'x-litellm-response-cost';

export function chargeResponseCost(
  state: RequestState,
  headers: IncomingHttpHeaders,
  limiter: RateLimiter,
  metrics: GatewayMetrics,
): void {
  const admission = state.admission;
  const value = headers[RESPONSE_COST_HEADER];
  if (value === undefined || admission?.budgets === undefined || admission.budgets.length === 0) {
    return;
  }
  // Twice over is not one cost: ignored as malformed.
  const micros = typeof value === 'string' ? costMicroDollars(value) : undefined;
  if (micros === undefined) {
    metrics.countSpendCharge('invalid');
    return;
  }
  if (micros === 0 || limiter.chargeSpend === undefined) return;
  void limiter.chargeSpend(admission, micros).then((charged) => {
    metrics.countSpendCharge(charged ? 'charged' : 'failed');
  });
}
