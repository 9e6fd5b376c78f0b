// The limiter here is a stand-in recording what it is asked to charge: what is under test is
// which answers are charged and how their cost is read (the charge itself runs against real
// Redis in test/integration/gateway-budgets.test.ts).
import { describe, expect, it } from 'vitest';
import type { AdmissionRequest, RateLimiter } from '../limits/rate-limiter.ts';
import { createGatewayMetrics } from '../observability/gateway-metrics.ts';
import type { RequestState } from '../request-state.ts';
import type { BudgetCheck } from './budget-check.ts';
import { chargeResponseCost } from './charge-cost.ts';

const budget: BudgetCheck = {
  scope: 'key',
  id: 'k',
  periodId: 'total',
  rule: 'reached',
  maxMicros: 1,
};

function setup(budgets: BudgetCheck[] = [budget]) {
  const charged: number[] = [];
  const limiter = {
    admit: () => Promise.reject(new Error('unused')),
    settle: () => Promise.resolve(),
    chargeSpend: (_request: AdmissionRequest, micros: number) => {
      charged.push(micros);
      return Promise.resolve(true);
    },
  } satisfies RateLimiter;
  const metrics = createGatewayMetrics({ defaultMetrics: false });
  const state: RequestState = {
    startedAt: 0,
    admission: { requestId: 'r', team: 't', scopes: [], budgets },
  };
  const invalid = async () =>
    (await metrics.spendCharges.get()).values.find((v) => v.labels.result === 'invalid')?.value ??
    0;
  return { charged, limiter, metrics, state, invalid };
}

describe('chargeResponseCost', () => {
  it('charges the cost, rounded up to the micro-dollar', () => {
    const { charged, limiter, metrics, state } = setup();
    chargeResponseCost(state, { 'x-litellm-response-cost': '0.0004000001' }, limiter, metrics);
    expect(charged).toEqual([401]);
  });

  it('ignores a malformed or negative cost, and counts it', async () => {
    const { charged, limiter, metrics, state, invalid } = setup();
    for (const value of ['-0.1', 'None', 'nan', '']) {
      chargeResponseCost(state, { 'x-litellm-response-cost': value }, limiter, metrics);
    }
    chargeResponseCost(state, { 'x-litellm-response-cost': ['0.1', '0.1'] }, limiter, metrics);
    expect(charged).toEqual([]);
    expect(await invalid()).toBe(5);
  });

  it('charges nothing for a free call, an answer without the header, or a request without budgets', async () => {
    const { charged, limiter, metrics, state, invalid } = setup();
    chargeResponseCost(state, { 'x-litellm-response-cost': '0.0' }, limiter, metrics);
    chargeResponseCost(state, {}, limiter, metrics);
    const none = setup([]);
    chargeResponseCost(none.state, { 'x-litellm-response-cost': '1' }, none.limiter, none.metrics);
    expect([...charged, ...none.charged]).toEqual([]);
    expect(await invalid()).toBe(0);
  });
});
