import { describe, expect, it } from 'vitest';
import { boundNote, EventCorrelator, MAX_NOTE_BYTES, type EventSpec } from './events.ts';
import { FakeClock } from './fake-clock.ts';

const team = {
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'Team',
  metadata: { name: 'a', uid: 'u1' },
};
const failed: EventSpec = {
  type: 'Warning',
  reason: 'LiteLLMUnavailable',
  action: 'Reconcile',
  note: 'connection refused',
};

describe('EventCorrelator', () => {
  it('folds identical events within the window into one, counting them', () => {
    const clock = new FakeClock();
    const c = new EventCorrelator({ windowMs: 60_000, clock });
    const key = EventCorrelator.key(team, failed);
    expect(c.repeatOf(key)).toBeUndefined();
    c.remember(key, { namespace: 'default', name: 'a.1' });
    clock.advance(59_000);
    expect(c.repeatOf(key)).toMatchObject({ name: 'a.1', count: 2 });
    clock.advance(59_000); // the window runs from the last occurrence
    expect(c.repeatOf(key)).toMatchObject({ name: 'a.1', count: 3 });
  });

  it('starts a new event after the window', () => {
    const clock = new FakeClock();
    const c = new EventCorrelator({ windowMs: 60_000, clock });
    const key = EventCorrelator.key(team, failed);
    c.remember(key, { namespace: 'default', name: 'a.1' });
    clock.advance(60_001);
    expect(c.repeatOf(key)).toBeUndefined();
  });

  it('tells apart events differing in object, reason or note', () => {
    const keys = new Set([
      EventCorrelator.key(team, failed),
      EventCorrelator.key({ ...team, metadata: { name: 'b', uid: 'u2' } }, failed),
      EventCorrelator.key(team, { ...failed, reason: 'Created' }),
      EventCorrelator.key(team, { ...failed, note: 'timeout' }),
      EventCorrelator.key(team, { ...failed, type: 'Normal' }),
    ]);
    expect(keys.size).toBe(5);
  });

  it('forgets the least recently seen events beyond its size', () => {
    const c = new EventCorrelator({ maxEntries: 2, clock: new FakeClock() });
    c.remember('a', { namespace: 'n', name: 'a' });
    c.remember('b', { namespace: 'n', name: 'b' });
    c.repeatOf('a'); // a is now the most recent
    c.remember('c', { namespace: 'n', name: 'c' });
    expect(c.repeatOf('b')).toBeUndefined();
    expect(c.repeatOf('a')).toBeDefined();
  });
});

describe('boundNote', () => {
  it('cuts notes to 1 kB of UTF-8 without splitting a character', () => {
    expect(boundNote('short')).toBe('short');
    const cut = boundNote('é'.repeat(1000));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_NOTE_BYTES);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut.includes('\uFFFD')).toBe(false);
  });
});
