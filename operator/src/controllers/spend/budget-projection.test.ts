import { describe, expect, it } from 'vitest';
import { projectedExhaustion } from './budget-projection.ts';

// A 30-day period from 1 December.
const budget = {
  maxBudget: '100',
  periodStart: '2026-12-01T00:00:00Z',
  resetsAt: '2026-12-31T00:00:00Z',
};
const day = (d: number) => Date.parse('2026-12-01T00:00:00Z') + d * 86_400_000;

describe('projectedExhaustion', () => {
  it('projects when the rate so far reaches the budget before the reset', () => {
    // $40 in 6 of 30 days: $200 by the end; $100 is reached on day 15.
    expect(projectedExhaustion('40', budget, day(6))).toEqual({
      projectedSpend: '200',
      exhaustedAt: '2026-12-16T00:00:00.000Z',
    });
    // Exactly on budget counts: $20 in 6 days is $100 in 30.
    expect(projectedExhaustion('20', budget, day(6))?.projectedSpend).toBe('100');
  });

  it('does not project below the budget', () => {
    expect(projectedExhaustion('19.999999', budget, day(6))).toBeUndefined();
  });

  it('waits for 10 % of the period and at least an hour', () => {
    expect(projectedExhaustion('90', budget, day(2.9))).toBeUndefined();
    expect(projectedExhaustion('90', budget, day(3))).toBeDefined();
    const hourly = { ...budget, resetsAt: '2026-12-01T02:00:00Z' };
    expect(projectedExhaustion('90', hourly, day(0) + 59 * 60_000)).toBeUndefined();
    expect(projectedExhaustion('90', hourly, day(0) + 60 * 60_000)).toBeDefined();
  });

  it('says nothing without a period, or once the budget is spent', () => {
    expect(projectedExhaustion('90', { maxBudget: '100' }, day(10))).toBeUndefined();
    expect(projectedExhaustion('100', budget, day(10))).toBeUndefined();
  });
});
