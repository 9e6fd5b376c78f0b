import { describe, expect, it } from 'vitest';
import type { VirtualKey } from '../../../../crds/api/index.ts';
import { VirtualKeyStatus } from '../../../../crds/api/index.ts';
import { aVirtualKey } from '../../../../test/fixtures/builders.ts';
import { getCondition } from '../../runtime/conditions.ts';
import { sameJson } from '../../runtime/status.ts';
import {
  BUDGET_EXCEEDED,
  EXPIRED,
  keyStatus,
  MODELS_AVAILABLE,
  notReadyStatus,
  READY,
  recordedKeys,
  recordKeys,
  type KeyOutcome,
} from './key-status.ts';

const T1 = new Date('2026-11-23T10:00:00.000Z');
const T2 = new Date('2026-11-23T11:30:00.000Z');
const EXPIRES = new Date('2027-01-01T00:00:00.000Z');

const key = (status?: VirtualKey['status'], generation = 3): VirtualKey => {
  const b = aVirtualKey('chatbot')
    .inNamespace('ml-research')
    .with('metadata.generation', generation)
    .with('spec', { requireAllModels: true, suspended: false });
  return (status ? b.with('status', status) : b).build<VirtualKey>();
};

const outcome = (overrides: Partial<KeyOutcome> = {}): KeyOutcome => ({
  team: 'ml',
  keyId: 'a'.repeat(64),
  keyAlias: 'ml-research/chatbot',
  models: ['granite', 'llama'],
  missing: [],
  secretName: 'chatbot',
  mintedAt: T1,
  expired: false,
  ...overrides,
});

describe('keyStatus', () => {
  it('Ready True names the alias, the Secret and the models; fields from the outcome', () => {
    const status = keyStatus(key(), outcome({ nextRotationAt: EXPIRES }), T1);
    expect(getCondition(status.conditions, READY)).toEqual({
      type: READY,
      status: 'True',
      observedGeneration: 3,
      lastTransitionTime: '2026-11-23T10:00:00Z',
      reason: 'KeyReady',
      message: 'key ml-research/chatbot is in Secret chatbot and reaches granite, llama',
    });
    expect(getCondition(status.conditions, MODELS_AVAILABLE)).toMatchObject({
      status: 'True',
      reason: 'AllSubscribed',
    });
    expect(status).toMatchObject({
      observedGeneration: 3,
      team: 'ml',
      keyId: 'a'.repeat(64),
      keyAlias: 'ml-research/chatbot',
      models: ['granite', 'llama'],
      secretName: 'chatbot',
      lastRotatedAt: '2026-11-23T10:00:00Z',
      nextRotationAt: '2027-01-01T00:00:00Z',
    });
    expect(status.missingModels).toBeUndefined();
    expect(VirtualKeyStatus.safeParse(JSON.parse(JSON.stringify(status))).success).toBe(true);
  });

  it('Ready False with the reason and message of notReady', () => {
    const status = keyStatus(
      key(),
      outcome({ notReady: { reason: 'UserNotMember', message: 'alice left ml' } }),
      T1,
    );
    expect(getCondition(status.conditions, READY)).toMatchObject({
      status: 'False',
      reason: 'UserNotMember',
      message: 'alice left ml',
      observedGeneration: 3,
    });
  });

  it('ModelsAvailable False lists the missing models; status.missingModels too', () => {
    const status = keyStatus(key(), outcome({ missing: ['mistral', 'phi'] }), T1);
    expect(getCondition(status.conditions, MODELS_AVAILABLE)).toMatchObject({
      status: 'False',
      reason: 'ModelsNotSubscribed',
      message: 'no Active ModelSubscription for mistral, phi',
    });
    expect(status.missingModels).toEqual(['mistral', 'phi']);
  });

  it('no models: status.models is absent, not an empty list', () => {
    expect(keyStatus(key(), outcome({ models: [] }), T1).models).toBeUndefined();
  });

  it('Expired only for a key with an expiry: False before, True after', () => {
    const live = keyStatus(key(), outcome({ expiresAt: EXPIRES }), T1);
    expect(getCondition(live.conditions, EXPIRED)).toMatchObject({
      status: 'False',
      reason: 'NotExpired',
      message: 'the key expires at 2027-01-01T00:00:00Z',
    });
    expect(live.expiresAt).toBe('2027-01-01T00:00:00Z');

    const over = keyStatus(key(live), outcome({ expiresAt: EXPIRES, expired: true }), T2);
    expect(getCondition(over.conditions, EXPIRED)).toMatchObject({
      status: 'True',
      reason: 'Expired',
      lastTransitionTime: '2026-11-23T11:30:00Z',
    });

    expect(getCondition(keyStatus(key(), outcome(), T1).conditions, EXPIRED)).toBeUndefined();
  });

  it('removes Expired (and status.expiresAt) once the expiry is gone from the spec', () => {
    const before = keyStatus(key(), outcome({ expiresAt: EXPIRES }), T1);
    const after = keyStatus(key(before), outcome(), T2);
    expect(getCondition(after.conditions, EXPIRED)).toBeUndefined();
    expect(after.expiresAt).toBeUndefined();
    expect(after.conditions?.map((c) => c.type)).toEqual([READY, MODELS_AVAILABLE]);
  });

  it('BudgetExceeded only with a budget: False within it, True with whose and how much', () => {
    const within = keyStatus(key(), outcome({ budgeted: true }), T1);
    expect(getCondition(within.conditions, BUDGET_EXCEEDED)).toMatchObject({
      status: 'False',
      reason: 'WithinBudget',
      observedGeneration: 3,
    });

    const team = { scope: 'team', id: 'ml', spend: '500.25', maxBudget: '500' } as const;
    const spent = keyStatus(key(within), outcome({ budgeted: true, budgetExceeded: team }), T2);
    expect(getCondition(spent.conditions, BUDGET_EXCEEDED)).toMatchObject({
      status: 'True',
      reason: 'TeamBudgetExceeded',
      message:
        'team ml spent 500.25 USD of a max budget of 500 USD; requests are refused until the budget resets or is raised',
      lastTransitionTime: '2026-11-23T11:30:00Z',
    });
    // Ready is about what the operator made; the budget says why LiteLLM refuses.
    expect(getCondition(spent.conditions, READY)?.status).toBe('True');

    const own = { scope: 'key', id: 'a'.repeat(64), spend: '1', maxBudget: '1' } as const;
    expect(
      getCondition(
        keyStatus(key(), outcome({ budgeted: true, budgetExceeded: own }), T1).conditions,
        BUDGET_EXCEEDED,
      ),
    ).toMatchObject({ reason: 'KeyBudgetExceeded', message: expect.stringMatching(/^the key /) });

    const unbudgeted = keyStatus(key(spent), outcome(), T2);
    expect(getCondition(unbudgeted.conditions, BUDGET_EXCEEDED)).toBeUndefined();
  });

  it("keeps spend and other controllers' conditions", () => {
    const foreign = {
      type: 'BudgetAlert',
      status: 'True' as const,
      reason: 'SoftBudgetReached',
      message: 'spent 8 of 10',
      lastTransitionTime: '2026-11-01T00:00:00Z',
    };
    const status = keyStatus(key({ spend: '8.25', conditions: [foreign] }), outcome(), T1);
    expect(status.spend).toBe('8.25');
    expect(status.conditions?.[0]).toEqual(foreign);
    expect(status.conditions?.map((c) => c.type)).toEqual(['BudgetAlert', READY, MODELS_AVAILABLE]);
  });

  it('lastTransitionTime moves only when a condition status changes', () => {
    const first = keyStatus(key(), outcome(), T1);
    const notReady = keyStatus(
      key(first),
      outcome({ notReady: { reason: 'Suspended', message: 'suspended' } }),
      T2,
    );
    expect(getCondition(notReady.conditions, READY)?.lastTransitionTime).toBe(
      '2026-11-23T11:30:00Z',
    );
    expect(getCondition(notReady.conditions, MODELS_AVAILABLE)?.lastTransitionTime).toBe(
      '2026-11-23T10:00:00Z',
    );
  });

  it('a converged key: the same status again, so the StatusWriter skips the write', () => {
    const o = outcome({ expiresAt: EXPIRES, missing: ['phi'], nextRotationAt: EXPIRES });
    const first = keyStatus(key(), o, T1);
    // as stored by the API server: JSON, undefined fields dropped
    const stored = key(JSON.parse(JSON.stringify(first)) as VirtualKey['status']);
    const again = keyStatus(stored, o, T2);
    expect(sameJson(stored.status, again)).toBe(true);
    expect(JSON.parse(JSON.stringify(again))).toEqual(stored.status);
  });

  it('a new generation changes observedGeneration but not transition times', () => {
    const first = keyStatus(key(undefined, 3), outcome(), T1);
    const next = keyStatus(key(first, 4), outcome(), T2);
    expect(next.observedGeneration).toBe(4);
    expect(next.conditions?.every((c) => c.observedGeneration === 4)).toBe(true);
    expect(next.conditions?.every((c) => c.lastTransitionTime === '2026-11-23T10:00:00Z')).toBe(
      true,
    );
  });
});

describe('notReadyStatus', () => {
  it('sets Ready False with the reason and keeps everything else', () => {
    const ready = keyStatus(key(), outcome({ expiresAt: EXPIRES }), T1);
    const status = notReadyStatus(key(ready, 4), 'TeamNotReady', 'waiting for Team ml', T2);
    expect(getCondition(status.conditions, READY)).toEqual({
      type: READY,
      status: 'False',
      observedGeneration: 4,
      lastTransitionTime: '2026-11-23T11:30:00Z',
      reason: 'TeamNotReady',
      message: 'waiting for Team ml',
    });
    expect(status.observedGeneration).toBe(4);
    expect(status.keyId).toBe(ready.keyId);
    expect(status.models).toEqual(ready.models);
    expect(getCondition(status.conditions, EXPIRED)).toEqual(
      getCondition(ready.conditions, EXPIRED),
    );
  });

  it('on a key without status: only Ready', () => {
    const status = notReadyStatus(key(), 'NoTeam', 'no Team owns ml-research', T1);
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      [READY, 'False', 'NoTeam'],
    ]);
  });
});

describe('recordedKeys / recordKeys', () => {
  const HASH = 'a'.repeat(64);
  const OLD = 'b'.repeat(64);

  it('reads the current and previous key from status, where tenants cannot write', () => {
    const k = key({
      keyId: HASH,
      lastRotatedAt: '2026-11-23T10:00:00Z',
      previousKey: { keyId: OLD, validUntil: '2026-11-23T11:00:00Z' },
    });
    expect(recordedKeys(k.status)).toEqual({
      current: { hash: HASH, mintedAt: T1 },
      previous: { hash: OLD, validUntil: new Date('2026-11-23T11:00:00Z') },
    });
    expect(recordedKeys(undefined)).toEqual({});
    expect(recordedKeys({ keyId: HASH }).current?.mintedAt.getTime()).toBe(0);
  });

  it('records new values, keeping the rest of status, and reads back what it wrote', () => {
    const before = key({ team: 'ml', keyId: OLD, lastRotatedAt: '2026-01-01T00:00:00Z' });
    const recorded = {
      current: { hash: HASH, mintedAt: T2 },
      previous: { hash: OLD, validUntil: EXPIRES },
    };
    const status = recordKeys(before, recorded);
    expect(status.team).toBe('ml');
    expect(VirtualKeyStatus.parse(status)).toEqual(status);
    expect(recordedKeys(status)).toEqual(recorded);
    // No current key: keyId and lastRotatedAt go, the previous stays.
    const cleared = recordKeys(before, { previous: recorded.previous });
    expect(cleared.keyId).toBeUndefined();
    expect(cleared.lastRotatedAt).toBeUndefined();
    expect(recordedKeys(cleared)).toEqual({ previous: recorded.previous });
  });

  it('keyStatus writes the previous key of the outcome, and drops it when there is none', () => {
    const previous = { hash: OLD, validUntil: EXPIRES };
    const withPrevious = keyStatus(key(), outcome({ previous }), T2);
    expect(withPrevious.previousKey).toEqual({ keyId: OLD, validUntil: '2027-01-01T00:00:00Z' });
    expect(keyStatus(key(withPrevious), outcome(), T2).previousKey).toBeUndefined();
  });
});
