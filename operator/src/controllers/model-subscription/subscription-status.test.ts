import { describe, expect, it } from 'vitest';
import type { ModelSubscription } from '../../../../crds/api/index.ts';
import { sameJson } from '../../runtime/status.ts';
import type { SubscriptionDecision } from './subscription-decision.ts';
import { subscriptionStatus } from './subscription-status.ts';

const t0 = new Date('2026-11-23T10:00:00Z');
const t1 = new Date('2026-11-23T10:05:00Z');
const subscription = (status?: ModelSubscription['status'], generation = 1): ModelSubscription => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'ModelSubscription',
  metadata: { name: 'granite', namespace: 'ml-apps', generation },
  spec: { model: 'granite-3-8b', suspended: false },
  status,
});
const active: SubscriptionDecision = {
  phase: 'Active',
  team: 'ml',
  ready: { status: 'True', reason: 'Active', message: 'Team ml may use model granite-3-8b' },
  modelInfo: { provider: 'openai', mode: 'chat', inputCostPerToken: '0.0000001' },
};
const notApproved: SubscriptionDecision = {
  phase: 'Pending',
  team: 'ml',
  ready: { status: 'False', reason: 'NotApproved', message: 'not approved' },
  modelInfo: undefined,
};

describe('subscriptionStatus', () => {
  it('records phase, team, modelInfo and Ready at the current generation', () => {
    expect(subscriptionStatus(subscription(undefined, 3), active, t0)).toEqual({
      observedGeneration: 3,
      phase: 'Active',
      team: 'ml',
      modelInfo: { provider: 'openai', mode: 'chat', inputCostPerToken: '0.0000001' },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Active',
          message: 'Team ml may use model granite-3-8b',
          observedGeneration: 3,
          lastTransitionTime: '2026-11-23T10:00:00Z',
        },
      ],
    });
  });

  it('is the same status when nothing changed, however much later (no write)', () => {
    const first = subscriptionStatus(subscription(), active, t0);
    const again = subscriptionStatus(subscription(first), active, t1);
    expect(sameJson(first, again)).toBe(true);
  });

  it('moves lastTransitionTime only when Ready changes status', () => {
    const first = subscriptionStatus(subscription(), active, t0);
    const pending = subscriptionStatus(subscription(first), notApproved, t1);
    expect(pending.conditions![0]!.lastTransitionTime).toBe('2026-11-23T10:05:00Z');
    const otherReason = subscriptionStatus(
      subscription(pending),
      { ...notApproved, ready: { ...notApproved.ready, reason: 'ModelNotFound' } },
      new Date('2026-11-23T11:00:00Z'),
    );
    expect(otherReason.conditions![0]).toMatchObject({
      reason: 'ModelNotFound',
      lastTransitionTime: '2026-11-23T10:05:00Z',
    });
  });

  it('drops team and modelInfo when the decision has none', () => {
    const first = subscriptionStatus(subscription(), active, t0);
    const denied = subscriptionStatus(
      subscription(first),
      {
        phase: 'Denied',
        ready: { status: 'False', reason: 'NoTeam', message: 'no team' },
        modelInfo: undefined,
      },
      t1,
    );
    expect(JSON.parse(JSON.stringify(denied))).not.toHaveProperty('team');
    expect(JSON.parse(JSON.stringify(denied))).not.toHaveProperty('modelInfo');
  });

  it("keeps modelInfo when the catalog cannot tell, and other controllers' conditions", () => {
    const first = subscriptionStatus(subscription(), active, t0);
    first.conditions!.push({
      type: 'example.com/Audited',
      status: 'True',
      reason: 'Done',
      message: '',
      lastTransitionTime: '2026-11-01T00:00:00Z',
    });
    const unknown = subscriptionStatus(
      subscription(first, 2),
      {
        phase: 'Active',
        team: 'ml',
        ready: { status: 'Unknown', reason: 'ModelCatalogUnavailable', message: 'down' },
        modelInfo: 'keep',
      },
      t1,
    );
    expect(unknown.modelInfo).toEqual(active.modelInfo);
    expect(unknown.observedGeneration).toBe(2);
    expect(unknown.conditions!.map((c) => c.type)).toEqual(['Ready', 'example.com/Audited']);
  });
});
