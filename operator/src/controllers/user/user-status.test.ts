import { describe, expect, it } from 'vitest';
import type { UserStatus } from '../../../../crds/api/index.ts';
import { sameJson } from '../../runtime/status.ts';
import { nextUserStatus, notReadyConditions, reconciledConditions } from './user-status.ts';

const t0 = new Date('2025-01-01T00:00:00Z');
const t1 = new Date('2025-01-01T01:00:00Z');

describe('nextUserStatus', () => {
  const observation = {
    generation: 3,
    userId: 'alice',
    teams: ['ml'],
    spend: '1.5',
    conditions: reconciledConditions('alice'),
  };

  it('reports what the reconcile found, keeping the fields the gateway writes', () => {
    const status = nextUserStatus({ lastLoginAt: '2025-01-01T00:00:00Z' }, observation, t0);
    expect(status).toMatchObject({
      observedGeneration: 3,
      userId: 'alice',
      teams: ['ml'],
      spend: '1.5',
      lastLoginAt: '2025-01-01T00:00:00Z',
    });
    expect(status.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'True', observedGeneration: 3 }),
      expect.objectContaining({ type: 'Synced', status: 'True', reason: 'ReconcileSuccess' }),
    ]);
  });

  it('is the same status when nothing changed, even later (no status write)', () => {
    const first = nextUserStatus(undefined, observation, t0);
    expect(sameJson(nextUserStatus(first, observation, t1), first)).toBe(true);
  });

  it('drops teams when there are none, and keeps the last spend when LiteLLM gave none', () => {
    const current: UserStatus = { teams: ['old'], spend: '2' };
    const status = nextUserStatus(
      current,
      { ...observation, teams: [], spend: undefined, userId: undefined },
      t0,
    );
    expect(JSON.parse(JSON.stringify(status))).not.toHaveProperty('teams');
    expect(JSON.parse(JSON.stringify(status))).not.toHaveProperty('userId');
    expect(status.spend).toBe('2');
  });

  it('moves lastTransitionTime only when Ready flips', () => {
    const ready = nextUserStatus(undefined, observation, t0);
    const failing = nextUserStatus(
      ready,
      { ...observation, conditions: notReadyConditions('LiteLLMUnavailable', 'down') },
      t1,
    );
    expect(failing.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'LiteLLMUnavailable',
      lastTransitionTime: '2025-01-01T01:00:00Z',
    });
  });
});
