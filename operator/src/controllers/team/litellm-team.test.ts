import { describe, expect, it } from 'vitest';
import { desiredTeamFields, NO_MODELS, teamFieldChanges } from './litellm-team.ts';

describe('desiredTeamFields', () => {
  it('maps limits onto LiteLLM fields, money as a number', () => {
    expect(
      desiredTeamFields({
        name: 'ml',
        displayName: 'ML Research',
        limits: { maxBudget: '12.50', budgetDuration: '1mo', tpm: 1000, rpm: 10 },
        models: ['llama', 'granite'],
      }),
    ).toEqual({
      team_alias: 'ML Research',
      models: ['granite', 'llama'],
      max_budget: 12.5,
      budget_duration: '1mo',
      tpm_limit: 1000,
      rpm_limit: 10,
    });
  });

  it('a team without Active subscriptions reaches no model (an empty list would mean all)', () => {
    expect(desiredTeamFields({ name: 'ml', models: [] }).models).toEqual([NO_MODELS]);
  });

  it('unset limits are null, so removing one from the spec clears it; 0 stays 0', () => {
    const fields = desiredTeamFields({ name: 'ml', limits: { rpm: 0 }, models: ['m'] });
    expect(fields).toMatchObject({
      max_budget: null,
      budget_duration: null,
      tpm_limit: null,
      rpm_limit: 0,
    });
  });
});

describe('teamFieldChanges', () => {
  const desired = desiredTeamFields({
    name: 'ml',
    limits: { maxBudget: '5', tpm: 100 },
    models: ['a', 'b'],
  });

  it('is undefined when LiteLLM agrees, whatever the order of models or null vs absent', () => {
    expect(
      teamFieldChanges(desired, {
        team_alias: 'ml',
        models: ['b', 'a'],
        max_budget: 5,
        tpm_limit: 100,
        rpm_limit: null,
      }),
    ).toBeUndefined();
  });

  it('sends only what differs, with null to clear a limit edited in behind our back', () => {
    expect(
      teamFieldChanges(desired, {
        team_alias: 'ml',
        models: ['a', 'b'],
        max_budget: 50,
        tpm_limit: 100,
        rpm_limit: 7,
      }),
    ).toEqual({ max_budget: 5, rpm_limit: null });
  });
});
