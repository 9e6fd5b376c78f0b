import { describe, expect, it } from 'vitest';
import type { Team } from '../../../../crds/api/index.ts';
import { aTeam } from '../../../../test/fixtures/builders.ts';
import { hashKey } from '../../litellm/hash.ts';
import { budgetExceeded, keyBudgetExceeded, teamBudgetExceeded } from './key-budget.ts';

const HASH = hashKey('sk-abcdefghijklmnopqrstuvwxyz');

const team = (spend?: string, maxBudget?: string | number, teamId?: string): Team => {
  let b = aTeam('ml').with('spec.namespaces', ['ml-research']);
  if (maxBudget !== undefined) b = b.with('spec.limits', { maxBudget });
  if (spend !== undefined || teamId !== undefined)
    b = b.with('status', { ...(spend !== undefined ? { spend } : {}), teamId });
  return b.build<Team>();
};

describe('keyBudgetExceeded', () => {
  it('is spent when spend reaches max_budget, as LiteLLM decides (≥)', () => {
    expect(keyBudgetExceeded(HASH, { spend: 10, maxBudget: 10 })).toEqual({
      scope: 'key',
      id: HASH,
      spend: '10',
      maxBudget: '10',
    });
    // Float noise from LiteLLM's additions is rounded away.
    const spend = 0.000015 + 0.000035;
    expect(spend).not.toBe(0.00005);
    expect(keyBudgetExceeded(HASH, { spend, maxBudget: 0.000001 })).toEqual({
      scope: 'key',
      id: HASH,
      spend: '0.00005',
      maxBudget: '0.000001',
    });
  });

  it('a max budget of 0 allows nothing', () => {
    expect(keyBudgetExceeded(HASH, { spend: 0, maxBudget: 0 })?.maxBudget).toBe('0');
  });

  it('is not spent below the budget, without one, or without a known spend', () => {
    expect(keyBudgetExceeded(HASH, { spend: 9.999, maxBudget: 10 })).toBeUndefined();
    expect(keyBudgetExceeded(HASH, { spend: 50, maxBudget: null })).toBeUndefined();
    expect(keyBudgetExceeded(HASH, { spend: null, maxBudget: 0 })).toBeUndefined();
    expect(keyBudgetExceeded(HASH, { spend: Number.NaN, maxBudget: 1 })).toBeUndefined();
    expect(keyBudgetExceeded(HASH, undefined)).toBeUndefined();
  });

  it('says nothing of amounts money cannot hold: LiteLLM decides those', () => {
    expect(keyBudgetExceeded(HASH, { spend: 2e12, maxBudget: 1e12 })).toBeUndefined();
  });
});

describe('teamBudgetExceeded', () => {
  it("is spent when the team's spend is over its maxBudget, strictly (as LiteLLM's team check)", () => {
    expect(teamBudgetExceeded(team('500.000001', '500', 'ml-id'))).toEqual({
      scope: 'team',
      id: 'ml-id',
      spend: '500.000001',
      maxBudget: '500',
    });
    expect(teamBudgetExceeded(team('500.00', '500'))).toBeUndefined();
    expect(teamBudgetExceeded(team('499.99', '500'))).toBeUndefined();
  });

  it('compares a whole-number maxBudget exactly, as the decimal string it is', () => {
    expect(teamBudgetExceeded(team('100.000001', 100))?.maxBudget).toBe('100');
    expect(teamBudgetExceeded(team('100', 100))).toBeUndefined();
  });

  it('names the team by its LiteLLM id, else its name', () => {
    expect(teamBudgetExceeded(team('2', '1'))?.id).toBe('ml');
  });

  it('is not spent without a budget, a spend in status, or a Team', () => {
    expect(teamBudgetExceeded(team('2'))).toBeUndefined();
    expect(teamBudgetExceeded(team(undefined, '1'))).toBeUndefined();
    expect(teamBudgetExceeded(undefined)).toBeUndefined();
  });
});

describe('budgetExceeded', () => {
  it("names the key's own budget first, as LiteLLM checks it first", () => {
    const both = budgetExceeded(HASH, { spend: 5, maxBudget: 1 }, team('600', '500'));
    expect(both?.scope).toBe('key');
    expect(budgetExceeded(HASH, { spend: 0.5, maxBudget: 1 }, team('600', '500'))?.scope).toBe(
      'team',
    );
    expect(budgetExceeded(HASH, { spend: 0.5, maxBudget: 1 }, team('400', '500'))).toBeUndefined();
  });
});
