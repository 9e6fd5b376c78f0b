// An owner that goes away under `deletionPolicy: Orphan` leaves its LiteLLM object behind
// on purpose. It marks the object as released, keeping the owner metadata (so a new
// object of the same name can adopt it, see ownership.ts › 'previous-incarnation'), and
// the orphan collector leaves released objects alone. Adopting removes the mark.

export const RELEASED_KEY = 'llmtenancy.dev/released';

export function isReleased(metadata: Record<string, unknown> | null | undefined): boolean {
  return metadata?.[RELEASED_KEY] !== undefined;
}

/** `metadata` with the released mark, saying when. */
export function withReleasedMark(
  metadata: Record<string, unknown> | null | undefined,
  now: Date = new Date(),
): Record<string, unknown> {
  return { ...(metadata ?? {}), [RELEASED_KEY]: now.toISOString() };
}

/** `metadata` without the released mark. */
export function withoutReleasedMark(
  metadata: Record<string, unknown> | null | undefined,
): Record<string, unknown> {
  const { [RELEASED_KEY]: _released, ...rest } = metadata ?? {};
  return rest;
}
