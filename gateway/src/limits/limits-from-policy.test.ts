import { describe, expect, it } from 'vitest';
import type { KeyPolicy } from '../../../contracts/routing/schema.ts';
import { limitScopes } from './limits-from-policy.ts';

const KEY_HASH = 'b'.repeat(64);

function policy(limits: KeyPolicy['limits']): KeyPolicy {
  return {
    schemaVersion: 1,
    keyHash: KEY_HASH,
    owner: { namespace: 'ml', name: 'chatbot', uid: 'u1' },
    team: 'ml-research',
    models: ['granite-3-8b', 'llama-3-8b'],
    limits,
    suspended: false,
  };
}

describe('limitScopes', () => {
  it('lists key, subscription and team, in that order, with only their limits', () => {
    const scopes = limitScopes(
      policy({
        team: { rpm: 600, tpm: 200_000, maxBudget: '500' },
        key: { maxParallelRequests: 2 },
        subscriptions: {
          'granite-3-8b': { tpm: 100_000, rpm: 300, maxParallelRequests: 8 },
          'llama-3-8b': { rpm: 1 },
        },
      }),
      'granite-3-8b',
    );
    expect(scopes).toEqual([
      { kind: 'key', id: KEY_HASH, maxParallelRequests: 2 },
      { kind: 'subscription', id: 'granite-3-8b', rpm: 300, tpm: 100_000, maxParallelRequests: 8 },
      { kind: 'team', id: 'ml-research', rpm: 600, tpm: 200_000 },
    ]);
  });

  it("names a subscription's counters by the ModelSubscription's uid", () => {
    const scopes = limitScopes(
      policy({ subscriptions: { 'granite-3-8b': { rpm: 3, uid: 'sub-uid-1' } } }),
      'granite-3-8b',
    );
    expect(scopes).toEqual([{ kind: 'subscription', id: 'sub-uid-1', rpm: 3 }]);
  });

  it('counts a record without a uid (an older operator wrote it) per team and model, as before', () => {
    const scopes = limitScopes(
      policy({ subscriptions: { 'granite-3-8b': { rpm: 3 } } }),
      'granite-3-8b',
    );
    expect(scopes).toEqual([{ kind: 'subscription', id: 'granite-3-8b', rpm: 3 }]);
  });

  it('leaves out scopes without rate limits, and other models’ subscriptions', () => {
    const scopes = limitScopes(
      policy({
        key: { maxBudget: '10' },
        team: {},
        subscriptions: { 'llama-3-8b': { rpm: 1 } },
      }),
      'granite-3-8b',
    );
    expect(scopes).toEqual([]);
  });

  it('keeps a limit of 0 (none allowed)', () => {
    expect(limitScopes(policy({ key: { rpm: 0 }, subscriptions: {} }), 'x')).toEqual([
      { kind: 'key', id: KEY_HASH, rpm: 0 },
    ]);
  });

  it('finds no subscription for a model named like an object property', () => {
    expect(limitScopes(policy({ subscriptions: {} }), 'constructor')).toEqual([]);
    expect(limitScopes(policy({ subscriptions: {} }), '__proto__')).toEqual([]);
  });
});
