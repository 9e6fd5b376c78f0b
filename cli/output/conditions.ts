// Reading an object's Ready condition, as the printer columns and `kubectl wait` do. A
// condition computed from an older generation than the object's is not an answer yet.
import type { Condition } from '../../crds/api/index.ts';

interface WithConditions {
  metadata?: { generation?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

export function readyCondition(object: WithConditions): Condition | undefined {
  return object.status?.conditions?.find((c) => c.type === 'Ready');
}

/** True when Ready is True and was computed from the object's current generation. */
export function isReady(object: WithConditions): boolean {
  const ready = readyCondition(object);
  return ready?.status === 'True' && isCurrent(object, ready);
}

/** The condition describes the current spec (no observedGeneration on it counts as current). */
export function isCurrent(object: WithConditions, condition: Condition): boolean {
  const generation = object.metadata?.generation;
  const observed = condition.observedGeneration ?? object.status?.observedGeneration;
  return generation === undefined || observed === undefined || observed >= generation;
}
