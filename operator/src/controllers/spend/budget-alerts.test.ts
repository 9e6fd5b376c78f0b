import { describe, expect, it } from 'vitest';
import { budgetAlerts, hasReached, thresholdEvent } from './budget-alerts.ts';

const T = [50, 75, 90, 100];
const budget = { maxBudget: '100', periodStart: '2026-12-01T00:00:00Z' };

describe('budgetAlerts', () => {
  it('reaches nothing below the first threshold', () => {
    expect(budgetAlerts('49.999999', budget, undefined, T)).toEqual({
      alertsSent: undefined,
      reached: [],
    });
  });

  it('reaches every threshold passed at once, and remembers them for the period', () => {
    expect(budgetAlerts('90', budget, undefined, T)).toEqual({
      alertsSent: { periodStart: budget.periodStart, thresholds: [50, 75, 90] },
      reached: [50, 75, 90],
    });
  });

  it('does not reach again what was sent this period, even when spend drops and rises', () => {
    const sent = { periodStart: budget.periodStart, thresholds: [50, 75] };
    expect(budgetAlerts('80', budget, sent, T)).toEqual({ alertsSent: sent, reached: [] });
    expect(budgetAlerts('10', budget, sent, T)).toEqual({ alertsSent: sent, reached: [] });
    expect(budgetAlerts('100', budget, sent, T).reached).toEqual([90, 100]);
  });

  it('starts afresh in a new period', () => {
    const sent = { periodStart: '2026-11-01T00:00:00Z', thresholds: [50, 75, 90, 100] };
    expect(budgetAlerts('0', budget, sent, T)).toEqual({ alertsSent: undefined, reached: [] });
    expect(budgetAlerts('60', budget, sent, T)).toEqual({
      alertsSent: { periodStart: budget.periodStart, thresholds: [50] },
      reached: [50],
    });
  });

  it('keys a budget without a period by its absence', () => {
    const total = { maxBudget: '10' };
    const first = budgetAlerts('5', total, undefined, T);
    expect(first).toEqual({ alertsSent: { thresholds: [50] }, reached: [50] });
    expect(budgetAlerts('5', total, first.alertsSent, T).reached).toEqual([]);
  });

  it('takes the object’s own thresholds, deduplicated and sorted', () => {
    expect(budgetAlerts('30', budget, undefined, [25, 10, 25]).reached).toEqual([10, 25]);
  });
});

describe('hasReached', () => {
  it('compares the exact amounts', () => {
    expect(hasReached('89.999999', '100', 90)).toBe(false); // its fraction rounds to 0.9000
    expect(hasReached('90', '100', 90)).toBe(true);
    expect(hasReached('0.000001', '0', 50)).toBe(true);
    expect(hasReached('150', '100', 150)).toBe(true);
  });
});

describe('thresholdEvent', () => {
  it('is Normal below 90 %, a Warning from 90 %, with percentage, spend and budget', () => {
    expect(thresholdEvent(75, '75.5', { maxBudget: '100' })).toEqual({
      type: 'Normal',
      reason: 'BudgetThresholdReached',
      action: 'SyncSpend',
      note: 'Spend reached 75% of the budget: $75.5 of $100',
    });
    const warning = thresholdEvent(90, '90', { ...budget, resetsAt: '2026-12-31T00:00:00Z' });
    expect(warning.type).toBe('Warning');
    expect(warning.note).toBe(
      'Spend reached 90% of the budget: $90 of $100; the budget resets at 2026-12-31T00:00:00Z',
    );
  });
});

describe('budgetAlerts: projected exhaustion and the soft budget', () => {
  const period = { ...budget, resetsAt: '2026-12-31T00:00:00Z' };
  const tenDays = Date.parse('2026-12-11T00:00:00Z');

  it('projects once per period, remembered beside the thresholds', () => {
    const first = budgetAlerts('40', period, undefined, T, { now: tenDays });
    expect(first.projection?.projectedSpend).toBe('120');
    expect(first.alertsSent).toEqual({
      periodStart: period.periodStart,
      thresholds: [],
      exhaustionProjected: true,
    });
    const again = budgetAlerts('45', period, first.alertsSent, T, { now: tenDays });
    expect(again.projection).toBeUndefined();
    expect(again.alertsSent).toEqual(first.alertsSent);
    const next = {
      ...period,
      periodStart: '2026-12-31T00:00:00Z',
      resetsAt: '2027-01-30T00:00:00Z',
    };
    expect(
      budgetAlerts('40', next, first.alertsSent, T, { now: Date.parse('2027-01-10T00:00:00Z') })
        .projection,
    ).toBeDefined();
  });

  it('reaches the soft budget once per period', () => {
    expect(budgetAlerts('24.99', period, undefined, T, { softBudget: '25' })).toEqual({
      alertsSent: undefined,
      reached: [],
    });
    const reached = budgetAlerts('25', period, undefined, T, { softBudget: '25' });
    expect(reached.softBudgetReached).toBe(true);
    expect(reached.alertsSent).toEqual({
      periodStart: period.periodStart,
      thresholds: [],
      softBudget: true,
    });
    expect(
      budgetAlerts('30', period, reached.alertsSent, T, { softBudget: '25' }).softBudgetReached,
    ).toBeUndefined();
  });
});
