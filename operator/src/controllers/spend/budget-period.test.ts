import { describe, expect, it } from 'vitest';
import { budgetPeriod } from './budget-period.ts';

describe('budgetPeriod', () => {
  it('starts one duration before the reset', () => {
    expect(budgetPeriod('2026-12-03T00:00:00Z', '1d')).toEqual({
      periodStart: '2026-12-02T00:00:00Z',
      resetsAt: '2026-12-03T00:00:00Z',
    });
    expect(budgetPeriod('2026-12-03T12:00:00.250Z', '90m')?.periodStart).toBe(
      '2026-12-03T10:30:00.250Z',
    );
    expect(budgetPeriod('2026-12-15T00:00:00Z', '2w')?.periodStart).toBe('2026-12-01T00:00:00Z');
  });

  it('goes back calendar months for mo, keeping the day or taking the shorter month’s last', () => {
    expect(budgetPeriod('2027-01-01T00:00:00Z', '1mo')?.periodStart).toBe('2026-12-01T00:00:00Z');
    expect(budgetPeriod('2026-03-31T08:00:00Z', '1mo')?.periodStart).toBe('2026-02-28T08:00:00Z');
    expect(budgetPeriod('2028-03-31T00:00:00Z', '1mo')?.periodStart).toBe('2028-02-29T00:00:00Z');
    expect(budgetPeriod('2027-02-15T00:00:00Z', '3mo')?.periodStart).toBe('2026-11-15T00:00:00Z');
  });

  it('reads a timestamp without an offset as UTC, and one with an offset as given', () => {
    expect(budgetPeriod('2026-12-03T00:00:00', '1d')?.resetsAt).toBe('2026-12-03T00:00:00Z');
    expect(budgetPeriod('2026-12-03T01:00:00+01:00', '1h')).toEqual({
      periodStart: '2026-12-02T23:00:00Z',
      resetsAt: '2026-12-03T00:00:00Z',
    });
  });

  it('has no period without a reset time or a duration, or with unreadable ones', () => {
    expect(budgetPeriod(null, '1d')).toBeUndefined();
    expect(budgetPeriod('2026-12-03T00:00:00Z', null)).toBeUndefined();
    expect(budgetPeriod('not a date', '1d')).toBeUndefined();
    expect(budgetPeriod('2026-12-03T00:00:00Z', '1y')).toBeUndefined();
  });
});
