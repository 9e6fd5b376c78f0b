import { describe, expect, it } from 'vitest';
import type { ModelSubscription, Team, VirtualKey } from '../../../../crds/api/index.ts';
import { KeyPolicy, ROUTING_SCHEMA_VERSION } from '../../../../contracts/routing/schema.ts';
import { aModelSubscription, aTeam, aVirtualKey } from '../../../../test/fixtures/builders.ts';
import { hashKey } from '../../litellm/hash.ts';
import { budgetPeriods, keyPolicy, routingLimits, type PolicyInputs } from './key-policy.ts';

const HASH = hashKey('sk-abcdefghijklmnopqrstuvwxyz');

const key = (spec: Partial<VirtualKey['spec']> = {}): VirtualKey =>
  aVirtualKey('chatbot')
    .inNamespace('ml-research')
    .with('metadata.uid', 'uid-1')
    .with('spec', { requireAllModels: true, suspended: false, ...spec })
    .build<VirtualKey>();

const team = (status?: Team['status'], limits?: Team['spec']['limits']): Team => {
  let b = aTeam('ml').with('spec.namespaces', ['ml-research']);
  if (limits) b = b.with('spec.limits', limits);
  if (status) b = b.with('status', status);
  return b.build<Team>();
};

const subscription = (model: string, limits?: ModelSubscription['spec']['limits']) => {
  let b = aModelSubscription(model)
    .inNamespace('ml-research')
    .with('spec.model', model)
    .with('status', { phase: 'Active', team: 'ml' });
  if (limits) b = b.with('spec.limits', limits);
  return b.build<ModelSubscription>();
};

const inputs = (overrides: Partial<PolicyInputs> = {}): PolicyInputs => ({
  key: key(),
  keyHash: HASH,
  team: team({ teamId: 'ml-id' }),
  models: ['llama', 'granite'],
  subscriptions: [subscription('granite'), subscription('llama')],
  ...overrides,
});

describe('routingLimits', () => {
  it('keeps only the set fields, and is undefined when none is', () => {
    expect(routingLimits(undefined)).toBeUndefined();
    expect(routingLimits({})).toBeUndefined();
    expect(routingLimits({ rpm: 0, maxBudget: '1.5', budgetDuration: '1mo' })).toEqual({
      rpm: 0,
      maxBudget: '1.5',
      budgetDuration: '1mo',
    });
    // A whole-number budget as written in the spec reaches the gateway as the same exact string.
    expect(routingLimits({ maxBudget: 100 })).toEqual({ maxBudget: '100' });
    expect(routingLimits({ tpm: 10, maxParallelRequests: 2 })).toEqual({
      tpm: 10,
      maxParallelRequests: 2,
    });
  });
});

describe('budgetPeriods', () => {
  const resetsAt = '2026-12-01T00:00:00Z';

  it("names each period by its reset time, the spend sync's counter id (spendPeriodId)", () => {
    expect(budgetPeriods({ resetsAt }, { resetsAt: '2026-12-07T00:00:00Z' })).toEqual({
      key: { periodId: resetsAt, resetsAt },
      team: { periodId: '2026-12-07T00:00:00Z', resetsAt: '2026-12-07T00:00:00Z' },
    });
    expect(budgetPeriods(undefined, { resetsAt })).toEqual({
      team: { periodId: resetsAt, resetsAt },
    });
  });

  it('names no period the sync has not reported: the gateway must not count it under "total"', () => {
    expect(budgetPeriods(undefined, undefined)).toBeUndefined();
    expect(budgetPeriods({}, {})).toBeUndefined();
  });

  it('reaches the record, which validates against the routing schema', () => {
    const spendPeriods = budgetPeriods({ resetsAt }, undefined);
    const policy = keyPolicy(inputs({ spendPeriods }));
    expect(policy.spendPeriods).toEqual({ key: { periodId: resetsAt, resetsAt } });
    expect(KeyPolicy.parse(policy)).toEqual(policy);
    expect(keyPolicy(inputs())).not.toHaveProperty('spendPeriods');
  });
});

describe('keyPolicy', () => {
  it('a minimal policy: owner, team id, sorted models, not suspended; valid KeyPolicy', () => {
    const policy = keyPolicy(inputs());
    expect(policy).toEqual({
      schemaVersion: ROUTING_SCHEMA_VERSION,
      keyHash: HASH,
      owner: { namespace: 'ml-research', name: 'chatbot', uid: 'uid-1' },
      team: 'ml-id',
      models: ['granite', 'llama'],
      limits: { subscriptions: {} },
      suspended: false,
    });
    expect(KeyPolicy.parse(policy)).toEqual(policy);
  });

  it('a full policy validates against the routing schema', () => {
    const policy = keyPolicy(
      inputs({
        key: key({ limits: { maxBudget: '10', softBudget: '8', budgetDuration: '30d', rpm: 5 } }),
        team: team({ teamId: 'ml-id' }, { tpm: 100000, maxBudget: '1000' }),
        userId: 'u-1',
        subscriptions: [subscription('granite', { rpm: 60, maxBudget: '0.25' })],
        expiresAt: new Date('2027-01-01T00:00:00Z'),
        blockedReason: 'UserNotMember',
      }),
    );
    expect(KeyPolicy.safeParse(policy).success).toBe(true);
    expect(policy.user).toBe('u-1');
    expect(policy.limits).toEqual({
      key: { maxBudget: '10', softBudget: '8', budgetDuration: '30d', rpm: 5 },
      team: { tpm: 100000, maxBudget: '1000' },
      subscriptions: { granite: { rpm: 60, maxBudget: '0.25' } },
    });
  });

  it('subscription limits only for models the key reaches, and only when set', () => {
    const policy = keyPolicy(
      inputs({
        models: ['granite', 'llama'],
        subscriptions: [
          subscription('granite', { tpm: 1000 }),
          subscription('llama'),
          subscription('llama-empty', {}),
          subscription('mistral', { rpm: 1 }),
        ],
      }),
    );
    expect(policy.limits.subscriptions).toEqual({ granite: { tpm: 1000 } });
  });

  it("carries each subscription's uid: the gateway counts per subscription, not per team and model", () => {
    const withUid = (model: string, uid: string) => {
      const s = subscription(model, { rpm: 5 });
      return { ...s, metadata: { ...s.metadata, uid } };
    };
    const policy = keyPolicy(inputs({ subscriptions: [withUid('granite', 'sub-uid-1')] }));
    expect(policy.limits.subscriptions).toEqual({ granite: { rpm: 5, uid: 'sub-uid-1' } });
    expect(KeyPolicy.parse(policy)).toEqual(policy);
  });

  it('team: status.teamId, else the Team name, else empty', () => {
    expect(keyPolicy(inputs({ team: team({ teamId: 'lite-123' }) })).team).toBe('lite-123');
    expect(keyPolicy(inputs({ team: team() })).team).toBe('ml');
    expect(keyPolicy(inputs({ team: undefined })).team).toBe('');
  });

  it('no user for a service key', () => {
    expect(keyPolicy(inputs())).not.toHaveProperty('user');
  });

  it('suspended with its reason when blocked', () => {
    const policy = keyPolicy(inputs({ blockedReason: 'Suspended' }));
    expect(policy.suspended).toBe(true);
    expect(policy.suspendedReason).toBe('Suspended');
    const open = keyPolicy(inputs());
    expect(open.suspended).toBe(false);
    expect(open).not.toHaveProperty('suspendedReason');
  });

  it('expiresAt as an ISO timestamp, absent without one', () => {
    const policy = keyPolicy(inputs({ expiresAt: new Date('2027-01-01T00:00:00Z') }));
    expect(policy.expiresAt).toBe('2027-01-01T00:00:00.000Z');
    expect(KeyPolicy.safeParse(policy).success).toBe(true);
    expect(keyPolicy(inputs())).not.toHaveProperty('expiresAt');
  });

  it('says which budget is spent, and nothing when none is', () => {
    const spent = { scope: 'team', id: 'ml-id', spend: '1000.25', maxBudget: '1000' } as const;
    const policy = keyPolicy(inputs({ budgetExceeded: spent }));
    expect(policy.budgetExceeded).toEqual(spent);
    expect(KeyPolicy.parse(policy)).toEqual(policy);
    expect(keyPolicy(inputs())).not.toHaveProperty('budgetExceeded');
  });

  it("carries the Team's enabled gateway routes, sorted; none when the Team enables none", () => {
    const enabling = team({ teamId: 'ml-id' });
    enabling.spec.gateway = { enabledRoutes: ['mcp', 'files'] };
    const policy = keyPolicy(inputs({ team: enabling }));
    expect(policy.enabledRoutes).toEqual(['files', 'mcp']);
    expect(KeyPolicy.parse(policy)).toEqual(policy);
    expect(keyPolicy(inputs())).not.toHaveProperty('enabledRoutes');
    expect(keyPolicy(inputs({ team: undefined }))).not.toHaveProperty('enabledRoutes');
  });

  it('a key reaching nothing has an empty model list (never "all")', () => {
    const policy = keyPolicy(inputs({ models: [] }));
    expect(policy.models).toEqual([]);
    expect(policy.limits.subscriptions).toEqual({});
    expect(KeyPolicy.safeParse(policy).success).toBe(true);
  });

  it('does not reorder the models it was given', () => {
    const models = ['llama', 'granite'];
    keyPolicy(inputs({ models }));
    expect(models).toEqual(['llama', 'granite']);
  });
});
