import { describe, expect, it } from 'vitest';
import type { VirtualKey } from '../../../../crds/api/index.ts';
import { FakeClock } from '../../runtime/fake-clock.ts';
import type { PreviousKey } from './key-material.ts';
import {
  apiDurationMs,
  DEADLINE_MARGIN_MS,
  EXPIRY_TOLERANCE_MS,
  keyDeadlines,
  keyExpiresAt,
  litellmDuration,
  nextRotationAt,
  parseLiteLLMTime,
  requeueAfterMs,
  rotationDue,
  rotationGraceMs,
  sameExpiry,
} from './key-schedule.ts';

const CREATED = '2026-11-01T08:00:00Z';

const key = (
  spec: Partial<VirtualKey['spec']> = {},
  creationTimestamp: string | undefined = CREATED,
): Pick<VirtualKey, 'metadata' | 'spec'> => ({
  metadata: {
    name: 'chatbot',
    namespace: 'ml',
    // as the informer caches it: a string, not a Date
    ...(creationTimestamp ? { creationTimestamp: creationTimestamp as unknown as Date } : {}),
  },
  spec: { requireAllModels: true, suspended: false, ...spec },
});

describe('apiDurationMs', () => {
  it('knows seconds, minutes, hours, days and weeks', () => {
    expect(apiDurationMs('1s')).toBe(1000);
    expect(apiDurationMs('90s')).toBe(90_000);
    expect(apiDurationMs('5m')).toBe(300_000);
    expect(apiDurationMs('12h')).toBe(43_200_000);
    expect(apiDurationMs('90d')).toBe(90 * 86_400_000);
    expect(apiDurationMs('2w')).toBe(14 * 86_400_000);
  });

  it.each(['', '0d', '01d', '1', 'd', '1mo', '1y', '1.5h', '-1h', ' 1h', '1h ', '1H'])(
    'rejects %j',
    (text) => {
      expect(() => apiDurationMs(text)).toThrow(RangeError);
    },
  );
});

describe('keyExpiresAt', () => {
  it('is spec.expiresAt when set', () => {
    expect(keyExpiresAt(key({ expiresAt: '2027-01-01T00:00:00+02:00' }))).toEqual(
      new Date('2026-12-31T22:00:00Z'),
    );
  });

  it('is creationTimestamp + spec.duration', () => {
    expect(keyExpiresAt(key({ duration: '30d' }))).toEqual(new Date('2026-12-01T08:00:00Z'));
    expect(
      keyExpiresAt({
        metadata: { creationTimestamp: new Date(CREATED) },
        spec: key({ duration: '1h' }).spec,
      }),
    ).toEqual(new Date('2026-11-01T09:00:00Z'));
  });

  it('is undefined without expiresAt or duration (never expires)', () => {
    expect(keyExpiresAt(key())).toBeUndefined();
  });
});

describe('nextRotationAt', () => {
  const minted = new Date('2026-11-23T10:00:00Z');

  it('is mintedAt + rotation.every', () => {
    expect(nextRotationAt(key({ rotation: { every: '30d', gracePeriod: '1h' } }), minted)).toEqual(
      new Date('2026-12-23T10:00:00Z'),
    );
  });

  it('is rotation.requestedAt when asked after the key was minted, and sooner than the schedule', () => {
    const asked = (requestedAt: string, every?: string) =>
      key({ rotation: { gracePeriod: '1h', requestedAt, ...(every ? { every } : {}) } });
    expect(nextRotationAt(asked('2026-11-23T10:05:00Z'), minted)).toEqual(
      new Date('2026-11-23T10:05:00Z'),
    );
    expect(nextRotationAt(asked('2026-11-23T10:05:00Z', '30d'), minted)).toEqual(
      new Date('2026-11-23T10:05:00Z'),
    );
    // Later than the schedule: the schedule comes first (and mints a key after the request).
    expect(nextRotationAt(asked('2027-01-01T00:00:00Z', '30d'), minted)).toEqual(
      new Date('2026-12-23T10:00:00Z'),
    );
    // At or before the current key was minted: already honoured (or older than the key).
    expect(nextRotationAt(asked('2026-11-23T10:00:00Z'), minted)).toBeUndefined();
    // In whole seconds, as status records the mint: 10:00:00.500 is honoured by a key minted
    // at 10:00:00.755, which status reads back as 10:00:00.
    expect(nextRotationAt(asked('2026-11-23T10:00:00.500Z'), minted)).toBeUndefined();
    expect(nextRotationAt(asked('2026-11-23T10:00:01.500Z'), minted)).toEqual(
      new Date('2026-11-23T10:00:01Z'),
    );
    expect(nextRotationAt(asked('2026-11-01T00:00:00Z', '30d'), minted)).toEqual(
      new Date('2026-12-23T10:00:00Z'),
    );
  });

  it('is undefined without spec.rotation or without a minted time', () => {
    expect(nextRotationAt(key(), minted)).toBeUndefined();
    expect(
      nextRotationAt(key({ rotation: { every: '30d', gracePeriod: '1h' } }), undefined),
    ).toBeUndefined();
  });
});

describe('rotationGraceMs', () => {
  it('is rotation.gracePeriod, 1h by default', () => {
    expect(rotationGraceMs(key())).toBe(3_600_000);
    expect(rotationGraceMs({ spec: { ...key().spec, rotation: { every: '7d' } } } as never)).toBe(
      3_600_000,
    );
    expect(rotationGraceMs(key({ rotation: { every: '7d', gracePeriod: '2d' } }))).toBe(
      2 * 86_400_000,
    );
  });
});

describe('litellmDuration', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);

  it('is the seconds from now, rounded up', () => {
    expect(litellmDuration(at(3_600_000), now)).toBe('3600s');
    expect(litellmDuration(at(3_600_001), now)).toBe('3601s');
    expect(litellmDuration(at(1_500), now)).toBe('2s');
  });

  it('is at least 1s, for an expiry now or in the past', () => {
    expect(litellmDuration(at(1), now)).toBe('1s');
    expect(litellmDuration(now, now)).toBe('1s');
    expect(litellmDuration(at(-86_400_000), now)).toBe('1s');
  });
});

describe('sameExpiry', () => {
  const ours = new Date('2027-01-01T00:00:00Z');

  it('no expiry on either side is the same; one side only is not', () => {
    expect(sameExpiry(undefined, undefined)).toBe(true);
    expect(sameExpiry(null, undefined)).toBe(true);
    expect(sameExpiry('2027-01-01T00:00:00Z', undefined)).toBe(false);
    expect(sameExpiry(null, ours)).toBe(false);
    expect(sameExpiry(undefined, ours)).toBe(false);
  });

  it('equal within the tolerance, on either side', () => {
    expect(EXPIRY_TOLERANCE_MS).toBe(60_000);
    expect(sameExpiry('2027-01-01T00:00:00Z', ours)).toBe(true);
    expect(sameExpiry('2027-01-01T00:01:00Z', ours)).toBe(true);
    expect(sameExpiry('2026-12-31T23:59:00Z', ours)).toBe(true);
    expect(sameExpiry('2027-01-01T00:01:00.001Z', ours)).toBe(false);
    expect(sameExpiry('2026-12-31T23:58:59.999Z', ours)).toBe(false);
  });

  it('reads LiteLLM timestamps without an offset as UTC', () => {
    expect(sameExpiry('2027-01-01T00:00:30.123456', ours)).toBe(true);
    expect(sameExpiry('2027-01-01T01:00:00', ours)).toBe(false);
    expect(sameExpiry('2027-01-01T01:00:00+01:00', ours)).toBe(true);
  });
});

describe('parseLiteLLMTime', () => {
  const t = Date.UTC(2026, 10, 23, 10, 0, 0);

  it('without an offset is UTC', () => {
    expect(parseLiteLLMTime('2026-11-23T10:00:00')).toBe(t);
    expect(parseLiteLLMTime('2026-11-23T10:00:00.250000')).toBe(t + 250);
  });

  it('honours Z and numeric offsets, with or without a colon', () => {
    expect(parseLiteLLMTime('2026-11-23T10:00:00Z')).toBe(t);
    expect(parseLiteLLMTime('2026-11-23T12:00:00+02:00')).toBe(t);
    expect(parseLiteLLMTime('2026-11-23T05:00:00-0500')).toBe(t);
  });
});

describe('rotationDue / keyDeadlines / requeueAfterMs', () => {
  const NOW = new Date('2026-11-23T10:00:00.000Z');
  const HOUR = 3_600_000;
  const rotating = key({ rotation: { every: '2h', gracePeriod: '1h' } });
  const mintedLongAgo = { mintedAt: new Date(NOW.getTime() - 3 * HOUR) };
  const inGrace: PreviousKey = { hash: 'p', validUntil: new Date(NOW.getTime() + HOUR / 2) };

  it('a due rotation acts only for a key that can work and has no previous key in its grace period', () => {
    expect(rotationDue(rotating, mintedLongAgo, true, NOW)).toBe(true);
    expect(rotationDue(rotating, mintedLongAgo, false, NOW)).toBe(false);
    expect(rotationDue(rotating, { ...mintedLongAgo, previous: inGrace }, true, NOW)).toBe(false);
    expect(rotationDue(rotating, { mintedAt: NOW }, true, NOW)).toBe(false);
    expect(rotationDue(key(), mintedLongAgo, true, NOW)).toBe(false);
  });

  it('a requested rotation acts once it has passed, once: the new key is minted after it', () => {
    const asked = (at: Date) =>
      key({ rotation: { gracePeriod: '1h', requestedAt: at.toISOString() } });
    const oneMinuteAgo = new Date(NOW.getTime() - 60_000);
    expect(rotationDue(asked(oneMinuteAgo), mintedLongAgo, true, NOW)).toBe(true);
    expect(rotationDue(asked(oneMinuteAgo), { mintedAt: NOW }, true, NOW)).toBe(false);
    // Not before its time (it is a deadline), nor while a previous key is in its grace period.
    const inAMinute = new Date(NOW.getTime() + 60_000);
    expect(rotationDue(asked(inAMinute), mintedLongAgo, true, NOW)).toBe(false);
    expect(
      keyDeadlines(asked(inAMinute), mintedLongAgo, { canWork: true, expired: false }),
    ).toEqual([inAMinute]);
    expect(
      rotationDue(asked(oneMinuteAgo), { ...mintedLongAgo, previous: inGrace }, true, NOW),
    ).toBe(false);
  });

  it('counts only deadlines a reconcile can act on', () => {
    const expiresAt = new Date(NOW.getTime() + 5 * HOUR);
    const working = { canWork: true, expiresAt, expired: false };
    expect(keyDeadlines(rotating, { mintedAt: NOW }, working)).toEqual([
      expiresAt,
      new Date(NOW.getTime() + 2 * HOUR),
    ]);
    // A past rotation time of a key that cannot work is no deadline; nor is a past expiry.
    expect(
      keyDeadlines(rotating, mintedLongAgo, { canWork: false, expiresAt: NOW, expired: true }),
    ).toEqual([]);
    // While a previous key is in its grace period, its end is the deadline, not the rotation.
    expect(keyDeadlines(rotating, { ...mintedLongAgo, previous: inGrace }, working)).toEqual([
      expiresAt,
      inGrace.validUntil,
    ]);
  });

  it('comes back just after the first deadline, else at the resync', () => {
    const soon = new Date(NOW.getTime() + 1_000);
    expect(requeueAfterMs([soon], NOW, 60_000)).toBe(1_000 + DEADLINE_MARGIN_MS);
    expect(requeueAfterMs([], NOW, 60_000)).toBe(60_000);
    expect(requeueAfterMs([new Date(NOW.getTime() + HOUR)], NOW, 60_000)).toBe(60_000);
  });

  // A day of reconciles on the fake clock, deciding as the reconciler does: the previous key
  // ends at its deadline, a due rotation acts, and the next reconcile comes at requeueAfterMs.
  // A deadline that cannot act would requeue after 1 ms, 86.4 million times a day; the
  // simulation stops counting at CAP.
  describe('over a simulated day, the number of reconciles stays bounded', () => {
    const DAY = 86_400_000;
    const RESYNC_MS = 10 * 60_000;
    const CAP = 10_000;
    const RESYNCS_A_DAY = DAY / RESYNC_MS;

    function reconcilesInADay(
      spec: Partial<VirtualKey['spec']>,
      options: { canWork: boolean; mintedAgoMs: number; expiresAt?: Date },
    ): number {
      const clock = new FakeClock(Date.parse('2027-02-01T00:00:00Z'));
      const k = key(spec);
      let state: { mintedAt: Date; previous?: PreviousKey } = {
        mintedAt: new Date(clock.now() - options.mintedAgoMs),
      };
      let reconciles = 0;
      const reconcile = () => {
        if (++reconciles >= CAP) return;
        const now = new Date(clock.now());
        const expired = options.expiresAt !== undefined && now >= options.expiresAt;
        const canWork = options.canWork && !expired;
        if (state.previous && now >= state.previous.validUntil)
          state = { ...state, previous: undefined };
        if (rotationDue(k, state, canWork, now)) {
          state = {
            mintedAt: now,
            previous: { hash: 'p', validUntil: new Date(now.getTime() + rotationGraceMs(k)) },
          };
        }
        const deadlines = keyDeadlines(k, state, {
          canWork,
          expiresAt: options.expiresAt,
          expired,
        });
        clock.setTimer(reconcile, requeueAfterMs(deadlines, now, RESYNC_MS));
      };
      clock.setTimer(reconcile, 0);
      clock.advance(DAY);
      return reconciles;
    }

    // examples/gitops/tenant/base/virtual-key.yaml: rotation every 30d, on day 90 and later.
    const monthly = { rotation: { every: '30d', gracePeriod: '1h' } };
    const longAgo = 91 * DAY;

    it.each([
      ['expired', { canWork: true, expiresAt: new Date('2027-01-01T00:00:00Z') }],
      ['suspended', { canWork: false }],
      ['denied (a user who left the team)', { canWork: false }],
      ['waiting (a model not subscribed yet)', { canWork: false }],
    ])('%s, with a rotation long past due', (_case, options) => {
      expect(reconcilesInADay(monthly, { ...options, mintedAgoMs: longAgo })).toBeLessThanOrEqual(
        RESYNCS_A_DAY + 1,
      );
    });

    it('expiring during the day, with a rotation long past due', () => {
      const expiresAt = new Date(Date.parse('2027-02-01T12:00:00Z'));
      const count = reconcilesInADay(monthly, { canWork: true, mintedAgoMs: longAgo, expiresAt });
      // The rotation once at the start, its grace end, the expiry, and the resyncs.
      expect(count).toBeLessThanOrEqual(RESYNCS_A_DAY + 4);
    });

    it('rotating normally every hour: a rotation and a grace end an hour, besides the resyncs', () => {
      const hourly = { rotation: { every: '1h', gracePeriod: '30m' } };
      const count = reconcilesInADay(hourly, { canWork: true, mintedAgoMs: 0 });
      expect(count).toBeGreaterThan(RESYNCS_A_DAY); // the deadlines do bring it back sooner
      expect(count).toBeLessThanOrEqual(RESYNCS_A_DAY + 2 * 24 + 1);
    });
  });
});
