// metav1.Condition bookkeeping, as apimachinery's meta.SetStatusCondition does it, as pure
// functions over a conditions array (the caller writes the result through status.ts):
//
// - lastTransitionTime moves only when `status` changes, so `kubectl wait` and Argo CD see
//   when something really happened, and re-reconciling changes nothing (no status write);
// - observedGeneration is recorded on every set, telling readers the condition is current;
// - order is stable: existing conditions keep their place, new ones are appended, so the
//   same state always serializes the same way;
// - bounds are the apiserver's: a type or reason it would reject is a programming error
//   (thrown here, caught by unit tests); a message is user-facing text of any length and is
//   truncated to 32768 characters instead.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339, seconds precision, as metav1.Time serializes. */
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
  /** The metadata.generation this condition was computed from. */
  observedGeneration?: number;
}

export const MAX_MESSAGE_LENGTH = 32768;
export const MAX_REASON_LENGTH = 1024;
export const MAX_TYPE_LENGTH = 316;
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const TYPE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const TRUNCATED = '… (truncated)';

/** metav1.Time's wire format: RFC 3339 in UTC without fractional seconds. */
export function metaTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Cuts `message` to at most MAX_MESSAGE_LENGTH characters (code points, never half a pair). */
export function boundMessage(message: string): string {
  if (message.length <= MAX_MESSAGE_LENGTH) return message; // UTF-16 units ≥ code points
  const codePoints = Array.from(message);
  if (codePoints.length <= MAX_MESSAGE_LENGTH) return message;
  return codePoints.slice(0, MAX_MESSAGE_LENGTH - TRUNCATED.length).join('') + TRUNCATED;
}

function validate(update: ConditionUpdate): void {
  if (update.type.length > MAX_TYPE_LENGTH || !TYPE.test(update.type)) {
    throw new RangeError(`invalid condition type ${JSON.stringify(update.type)}`);
  }
  if (update.reason.length > MAX_REASON_LENGTH || !REASON.test(update.reason)) {
    throw new RangeError(
      `invalid condition reason ${JSON.stringify(update.reason)}: CamelCase, [A-Za-z0-9_,:]`,
    );
  }
  if (!['True', 'False', 'Unknown'].includes(update.status)) {
    throw new RangeError(`invalid condition status ${JSON.stringify(update.status)}`);
  }
}

export function getCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(
  conditions: readonly Condition[] | undefined,
  type: string,
): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * A new conditions array with `update` applied. `now` is used only when the status changes
 * (or the condition is new).
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date = new Date(),
): Condition[] {
  validate(update);
  const next = (current: Condition | undefined): Condition => {
    const condition: Condition = {
      type: update.type,
      status: update.status,
      ...(update.observedGeneration !== undefined
        ? { observedGeneration: update.observedGeneration }
        : current?.observedGeneration !== undefined
          ? { observedGeneration: current.observedGeneration }
          : {}),
      lastTransitionTime:
        current && current.status === update.status ? current.lastTransitionTime : metaTime(now),
      reason: update.reason,
      message: boundMessage(update.message ?? ''),
    };
    return condition;
  };
  const list = conditions ?? [];
  const index = list.findIndex((c) => c.type === update.type);
  if (index < 0) return [...list.map((c) => ({ ...c })), next(undefined)];
  return list.map((c, i) => (i === index ? next(c) : { ...c }));
}

/** Applies several updates in order. */
export function setConditions(
  conditions: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  now: Date = new Date(),
): Condition[] {
  return updates.reduce<Condition[]>(
    (acc, u) => setCondition(acc, u, now),
    [...(conditions ?? [])],
  );
}

/** A new conditions array without `type`. */
export function removeCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type).map((c) => ({ ...c }));
}
