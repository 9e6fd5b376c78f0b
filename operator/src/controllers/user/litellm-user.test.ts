import { describe, expect, it } from 'vitest';
import { desiredUserFields, newUserFields, userFieldChanges } from './litellm-user.ts';

describe('desiredUserFields', () => {
  it.each([
    ['admin', 'proxy_admin'],
    ['manager', 'internal_user'],
    ['user', 'internal_user'],
    ['viewer', 'internal_user_viewer'],
  ] as const)('maps role %s onto LiteLLM %s', (role, litellm) => {
    expect(desiredUserFields({ role }).user_role).toBe(litellm);
  });

  it('never leaves models empty (empty would allow personal keys for every model)', () => {
    expect(desiredUserFields({ role: 'user' }).models).toEqual(['no-default-models']);
  });

  it('maps limits and clears the unset ones', () => {
    expect(
      desiredUserFields({
        role: 'user',
        email: 'a@b.c',
        limits: { maxBudget: '100', budgetDuration: '30d' },
      }),
    ).toMatchObject({
      user_email: 'a@b.c',
      max_budget: 100,
      budget_duration: '30d',
      tpm_limit: null,
      rpm_limit: null,
    });
  });
});

describe('userFieldChanges', () => {
  const desired = desiredUserFields({ role: 'manager', email: 'a@b.c', limits: { rpm: 5 } });

  it('is undefined when LiteLLM agrees', () => {
    expect(
      userFieldChanges(desired, {
        user_email: 'a@b.c',
        user_role: 'internal_user',
        models: ['no-default-models'],
        rpm_limit: 5,
      }),
    ).toBeUndefined();
  });

  it('undoes a role and budget edited behind our back', () => {
    expect(
      userFieldChanges(desired, {
        user_email: 'a@b.c',
        user_role: 'proxy_admin',
        models: ['no-default-models'],
        rpm_limit: 5,
        max_budget: 1000,
      }),
    ).toEqual({ user_role: 'internal_user', max_budget: null });
  });

  it('does not ask to clear an e-mail or alias, which /user/update cannot clear', () => {
    const withoutEmail = desiredUserFields({ role: 'user' });
    expect(
      userFieldChanges(withoutEmail, {
        user_email: 'old@b.c',
        user_alias: 'Old Name',
        user_role: 'internal_user',
        models: ['no-default-models'],
      }),
    ).toBeUndefined();
  });
});

describe('newUserFields', () => {
  it('leaves out what is unset instead of sending null', () => {
    expect(newUserFields(desiredUserFields({ role: 'viewer', limits: { tpm: 10 } }))).toEqual({
      user_role: 'internal_user_viewer',
      models: ['no-default-models'],
      tpm_limit: 10,
    });
  });
});
