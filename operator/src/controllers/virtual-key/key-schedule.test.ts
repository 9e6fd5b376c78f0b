import { describe, expect, it } from 'vitest';
import type { VirtualKey } from '../../../../crds/api/index.ts';
import {
  apiDurationMs,
  EXPIRY_TOLERANCE_MS,
  keyExpiresAt,
  litellmDuration,
  nextRotationAt,
  parseLiteLLMTime,
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
