import { describe, expect, it } from 'vitest';
import { removalDecision } from './removal.ts';

const hour = 3_600_000;
const since = '2026-11-23T10:00:00.000Z';
const t0 = new Date(since);
const at = (ms: number) => new Date(t0.getTime() + ms);
const missing = { status: { groups: [{ name: 'ml', state: 'Missing' as const, since }] } };

describe('removalDecision', () => {
  it('keeps the Team of a group that exists, even empty or unlabelled', () => {
    expect(
      removalDecision({
        team: missing,
        group: 'ml',
        groupExists: true,
        now: at(5 * hour),
        graceMs: hour,
      }),
    ).toMatchObject({ action: 'keep' });
  });

  it('waits for the Team controller to record that the group is missing', () => {
    const found = { status: { groups: [{ name: 'ml', state: 'Found' as const, users: 2 }] } };
    expect(
      removalDecision({ team: found, group: 'ml', groupExists: false, now: t0, graceMs: hour }),
    ).toMatchObject({ action: 'wait', ms: hour });
    expect(
      removalDecision({ team: {}, group: 'ml', groupExists: false, now: t0, graceMs: hour }),
    ).toMatchObject({ action: 'wait' });
  });

  it('waits until the grace period since the group went missing is over', () => {
    expect(
      removalDecision({
        team: missing,
        group: 'ml',
        groupExists: false,
        now: at(hour - 1000),
        graceMs: hour,
      }),
    ).toMatchObject({ action: 'wait', ms: 1000 });
  });

  it('deletes once the group has been missing longer than the grace period', () => {
    expect(
      removalDecision({
        team: missing,
        group: 'ml',
        groupExists: false,
        now: at(hour),
        graceMs: hour,
      }),
    ).toMatchObject({ action: 'delete' });
  });
});
