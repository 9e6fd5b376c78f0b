// The smallest update that makes an observed LiteLLM object match the desired fields.
// LiteLLM reports an unset limit as absent or null alike, and returns lists in any order.

/** The desired fields whose value differs from the observed one, or undefined if none. */
export function fieldChanges<T extends object>(
  desired: T,
  observed: { [K in keyof T]?: T[K] | null | undefined },
): Partial<T> | undefined {
  const changes: Partial<T> = {};
  for (const key of Object.keys(desired) as (keyof T)[]) {
    if (!sameValue(desired[key], observed[key])) changes[key] = desired[key];
  }
  return Object.keys(changes).length > 0 ? changes : undefined;
}

function sameValue(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || want.length !== have.length) return false;
    const sorted = [...have].sort();
    return [...want].sort().every((v, i) => v === sorted[i]);
  }
  return (want ?? null) === (have ?? null);
}
