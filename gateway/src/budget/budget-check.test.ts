import { describe, expect, it } from 'vitest';
import type { KeyPolicy } from '../../../contracts/routing/schema.ts';
import { budgetChecks } from './budget-check.ts';

const HASH = 'a'.repeat(64);

function policy(limits: KeyPolicy['limits'], spendPeriods?: KeyPolicy['spendPeriods']): KeyPolicy {
  return {
    schemaVersion: 1,
    keyHash: HASH,
    owner: { namespace: 'ns', name: 'k', uid: 'u' },
    team: 'team-a',
    models: ['m'],
    limits,
    suspended: false,
    ...(spendPeriods ? { spendPeriods } : {}),
  };
}

describe('budgetChecks', () => {
  it('checks nothing for a key and team without budgets', () => {
    expect(budgetChecks(policy({ key: { rpm: 5 }, subscriptions: {} }))).toEqual([]);
  });

  it("checks the key (spend ≥ max) and the team (spend > max) under 'total' without a duration", () => {
    const checks = budgetChecks(
      policy({
        key: { maxBudget: '0.0010005' },
        team: { maxBudget: '0.0010005' },
        subscriptions: {},
      }),
    );
    expect(checks).toEqual([
      {
        scope: 'key',
        id: HASH,
        periodId: 'total',
        rule: 'reached',
        maxMicros: 1001,
        maxBudget: '0.0010005',
      },
      {
        scope: 'team',
        id: 'team-a',
        periodId: 'total',
        rule: 'passed',
        maxMicros: 1000,
        maxBudget: '0.0010005',
      },
    ]);
  });

  it("uses the operator's period, expiring its counter an hour after it ends", () => {
    const [check] = budgetChecks(
      policy(
        { key: { maxBudget: '5', budgetDuration: '30d', softBudget: '4' }, subscriptions: {} },
        { key: { periodId: '2030-02-01T00:00:00Z' } },
      ),
    );
    expect(check).toMatchObject({
      periodId: '2030-02-01T00:00:00Z',
      softMicros: 4_000_000,
      softBudget: '4',
      expireAtSeconds: Date.UTC(2030, 1, 1, 1) / 1000,
    });
    const [withReset] = budgetChecks(
      policy(
        { key: { maxBudget: '5', budgetDuration: '30d' }, subscriptions: {} },
        { key: { periodId: 'p7', resetsAt: '2030-03-01T00:00:00Z' } },
      ),
    );
    expect(withReset).toMatchObject({
      periodId: 'p7',
      expireAtSeconds: Date.UTC(2030, 2, 1, 1) / 1000,
    });
  });

  it('does not count a budget with a duration whose period the operator has not named', () => {
    const checks = budgetChecks(
      policy({
        key: { maxBudget: '5', budgetDuration: '30d' },
        team: { maxBudget: '50' },
        subscriptions: {},
      }),
    );
    expect(checks.map((c) => c.scope)).toEqual(['team']);
  });

  it('computes a record’s checks once', () => {
    const p = policy({ key: { maxBudget: '1' }, subscriptions: {} });
    expect(budgetChecks(p)).toBe(budgetChecks(p));
  });
});
