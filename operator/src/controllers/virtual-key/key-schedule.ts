// When a key expires and when it is rotated, from the spec and status's record of when the
// current key was minted, and when the reconciler must come back. Pure: the reconciler
// passes the clock's time in.
import type { VirtualKey } from '../../../../crds/api/index.ts';
import type { PreviousKey } from './key-material.ts';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Milliseconds of an API duration ("90d", "12h"; crds/api/meta.ts › DURATION). */
export function apiDurationMs(text: string): number {
  const match = /^([1-9][0-9]*)(s|m|h|d|w)$/.exec(text);
  if (!match) throw new RangeError(`not a duration: ${text}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** spec.expiresAt, or creation + spec.duration; undefined: never expires. */
export function keyExpiresAt(key: Pick<VirtualKey, 'metadata' | 'spec'>): Date | undefined {
  if (key.spec.expiresAt) return new Date(key.spec.expiresAt);
  if (key.spec.duration) {
    const created = new Date(key.metadata.creationTimestamp ?? 0).getTime();
    return new Date(created + apiDurationMs(key.spec.duration));
  }
  return undefined;
}

/**
 * When the key minted at `mintedAt` is due for rotation: the schedule (spec.rotation.every),
 * or sooner when a rotation was asked for (spec.rotation.requestedAt) after that key was
 * minted. A rotation mints a new key at or after the request, so each request rotates once.
 * Undefined when neither applies.
 */
export function nextRotationAt(
  key: Pick<VirtualKey, 'spec'>,
  mintedAt: Date | undefined,
): Date | undefined {
  if (!mintedAt) return undefined;
  const every = key.spec.rotation?.every;
  const scheduled = every ? new Date(mintedAt.getTime() + apiDurationMs(every)) : undefined;
  const requested = requestedRotation(key.spec.rotation?.requestedAt, mintedAt);
  if (!scheduled || !requested) return scheduled ?? requested;
  return requested < scheduled ? requested : scheduled;
}

/**
 * spec.rotation.requestedAt when the key minted at `mintedAt` predates it. Compared in whole
 * seconds, as status records lastRotatedAt: a key minted at 10:00:00.755 for a request of
 * 10:00:00.500 reads back as 10:00:00, and must still count as minted after it.
 */
function requestedRotation(asked: string | undefined, mintedAt: Date): Date | undefined {
  const ms = asked ? Date.parse(asked) : NaN;
  if (!Number.isFinite(ms)) return undefined;
  const requested = new Date(Math.floor(ms / 1000) * 1000);
  return requested > mintedAt ? requested : undefined;
}

/**
 * A rotation is due and can act: never while a previous key is still in its grace period
 * (at most two keys work at once; its end comes first), and never for a key that must not
 * work now (suspended, denied, waiting, expired): the new key could not be used either, and
 * a deadline that cannot act would bring the reconcile back at once, forever.
 */
export function rotationDue(
  key: Pick<VirtualKey, 'spec'>,
  state: { mintedAt: Date; previous?: PreviousKey },
  canWork: boolean,
  now: Date,
): boolean {
  const due = nextRotationAt(key, state.mintedAt);
  return canWork && !state.previous && due !== undefined && now >= due;
}

/**
 * The deadlines a later reconcile acts on: the key's expiry (until it expired), the end of
 * the previous key's grace period, and the next rotation when rotationDue would act on it.
 */
export function keyDeadlines(
  key: Pick<VirtualKey, 'spec'>,
  state: { mintedAt: Date; previous?: PreviousKey },
  options: { canWork: boolean; expiresAt?: Date; expired: boolean },
): Date[] {
  const deadlines: Date[] = [];
  if (options.expiresAt && !options.expired) deadlines.push(options.expiresAt);
  if (state.previous) deadlines.push(state.previous.validUntil);
  const rotation = nextRotationAt(key, state.mintedAt);
  if (rotation && options.canWork && !state.previous) deadlines.push(rotation);
  return deadlines;
}

/** Come back a little after a deadline, never before (a timer may fire a moment early). */
export const DEADLINE_MARGIN_MS = 50;

/** The requeue delay: the resync delay, or sooner for the first deadline. */
export function requeueAfterMs(deadlines: readonly Date[], now: Date, resyncMs: number): number {
  const untilDeadlines = deadlines.map((d) => d.getTime() - now.getTime() + DEADLINE_MARGIN_MS);
  return Math.max(1, Math.min(resyncMs, ...untilDeadlines));
}

/** How long the previous key keeps working after a rotation. */
export function rotationGraceMs(key: Pick<VirtualKey, 'spec'>): number {
  return apiDurationMs(key.spec.rotation?.gracePeriod ?? '1h');
}

/**
 * LiteLLM takes no expiry time, only a `duration` counted from the request: the seconds from
 * now until `expiresAt`, rounded up (at least 1).
 */
export function litellmDuration(expiresAt: Date, now: Date): string {
  return `${Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000))}s`;
}

/** LiteLLM's expiry may sit a request's latency away from ours; closer than this is equal. */
export const EXPIRY_TOLERANCE_MS = 60_000;

export function sameExpiry(
  observed: string | null | undefined,
  desired: Date | undefined,
): boolean {
  if (!desired) return !observed;
  if (!observed) return false;
  return Math.abs(parseLiteLLMTime(observed) - desired.getTime()) <= EXPIRY_TOLERANCE_MS;
}

/** LiteLLM's timestamps are UTC, with or without an offset ("2026-11-23T10:00:00"). */
export function parseLiteLLMTime(text: string): number {
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  return new Date(zoned).getTime();
}
