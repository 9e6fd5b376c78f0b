import { describe, expect, it } from 'vitest';
import { spendFieldsOf, spendPatch, usedFraction } from './spend-status.ts';

describe('usedFraction', () => {
  it('divides exactly and rounds half up to four places', () => {
    expect(usedFraction('43.12', '100')).toBe('0.4312');
    expect(usedFraction('1', '3')).toBe('0.3333');
    expect(usedFraction('2', '3')).toBe('0.6667');
    expect(usedFraction('0.00005', '1')).toBe('0.0001');
    expect(usedFraction('0.000049', '1')).toBe('0.0000');
    expect(usedFraction('0', '10')).toBe('0.0000');
  });

  it('goes past 1 when overspent, and calls a budget of 0 used up', () => {
    expect(usedFraction('105', '100')).toBe('1.0500');
    expect(usedFraction('999999999999.999999', '0.000001')).toBe('999999999999999999.0000');
    expect(usedFraction('0', '0')).toBe('1.0000');
  });
});

describe('spendFieldsOf', () => {
  it('gives spend alone without a budget', () => {
    expect(spendFieldsOf({ spend: 1.5, max_budget: null })).toEqual({ spend: '1.5' });
    expect(spendFieldsOf({})).toEqual({ spend: '0' });
  });

  it('gives the budget, the fraction used and the period', () => {
    expect(
      spendFieldsOf({
        spend: 12.5,
        max_budget: 50,
        budget_duration: '30d',
        budget_reset_at: '2026-12-31T00:00:00Z',
      }),
    ).toEqual({
      spend: '12.5',
      budget: {
        maxBudget: '50',
        usedFraction: '0.2500',
        periodStart: '2026-12-01T00:00:00Z',
        resetsAt: '2026-12-31T00:00:00Z',
      },
    });
  });
});

describe('spendPatch', () => {
  const budget = {
    maxBudget: '50',
    usedFraction: '0.2500',
    periodStart: '2026-12-01T00:00:00Z',
    resetsAt: '2026-12-31T00:00:00Z',
  };

  it('is nothing when status already says it', () => {
    expect(spendPatch({ spend: '12.5', budget }, { spend: '12.5', budget: { ...budget } })).toBe(
      undefined,
    );
  });

  it('names only what changed', () => {
    expect(spendPatch({ spend: '1', budget }, { spend: '2', budget })).toEqual({ spend: '2' });
    expect(spendPatch(undefined, { spend: '2', budget })).toEqual({ spend: '2', budget });
  });

  it('removes a budget LiteLLM no longer has, and period fields that went away', () => {
    expect(spendPatch({ spend: '1', budget }, { spend: '1' })).toEqual({ budget: null });
    const total = { maxBudget: '50', usedFraction: '0.0200' };
    expect(spendPatch({ spend: '1', budget }, { spend: '1', budget: total })).toEqual({
      budget: { ...total, periodStart: null, resetsAt: null },
    });
  });
});
