import { describe, expect, it } from 'vitest';
import { rotationRequestTime } from './key-rotate.ts';

describe('rotationRequestTime', () => {
  const now = Date.parse('2026-12-02T10:00:00Z');

  it('is now, for a key minted before it', () => {
    expect(rotationRequestTime('2026-12-01T00:00:00Z', now + 300)).toBe('2026-12-02T10:00:00Z');
    expect(rotationRequestTime(undefined, now)).toBe('2026-12-02T10:00:00Z');
  });

  it("is after the current key's mint when this clock is behind the operator's", () => {
    // A request at or before lastRotatedAt would be taken as already honoured.
    expect(rotationRequestTime('2026-12-02T10:00:05Z', now)).toBe('2026-12-02T10:00:06Z');
    // Minted this very second: the request is the next one.
    expect(rotationRequestTime('2026-12-02T10:00:00Z', now + 300)).toBe('2026-12-02T10:00:01Z');
  });
});
