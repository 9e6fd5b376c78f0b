// ModelSubscription.status as its controller writes it, from the object as stored *now* (the
// status writer calls this again with a fresh copy after a 409). The same decision always
// yields the same status — Ready's lastTransitionTime moves only when its status does — so
// re-checking a converged subscription writes nothing.
import type { ModelSubscription, ModelSubscriptionStatus } from '../../../../crds/api/index.ts';
import { setCondition } from '../../runtime/conditions.ts';
import type { SubscriptionDecision } from './subscription-decision.ts';

export const READY = 'Ready';

export function subscriptionStatus(
  current: ModelSubscription,
  decision: SubscriptionDecision,
  now: Date,
): ModelSubscriptionStatus {
  const previous = current.status ?? {};
  const generation = current.metadata.generation;
  return {
    ...previous,
    observedGeneration: generation,
    phase: decision.phase,
    team: decision.team,
    modelInfo: decision.modelInfo === 'keep' ? previous.modelInfo : decision.modelInfo,
    conditions: setCondition(
      previous.conditions,
      { type: READY, ...decision.ready, observedGeneration: generation },
      now,
    ),
  };
}
