import { describe, expect, it } from 'vitest';
import { teamNameForGroup } from './team-object-name.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('teamNameForGroup', () => {
  it('uses a group name that already is a DNS label as it is', () => {
    expect(teamNameForGroup('ml-research')).toBe('ml-research');
  });

  it('turns any other name into a DNS label with a hash of the original', () => {
    const name = teamNameForGroup('ML_Research');
    expect(name).toMatch(/^ml-research-[0-9a-f]{8}$/);
    expect(name).not.toBe(teamNameForGroup('ml_research'));
    expect(teamNameForGroup('ML_Research')).toBe(name);
  });

  it('always yields a DNS label of at most 63 characters', () => {
    for (const group of [
      'a'.repeat(64),
      'cn=ML Team,ou=Groups,dc=example,dc=com',
      '___',
      '/org/ml',
      'x.y',
      'Platform.Team.Alpha',
      'ÉQUIPE-données',
      '-x-',
      'Z'.repeat(300),
    ]) {
      const name = teamNameForGroup(group);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(DNS_LABEL);
      expect(teamNameForGroup(group)).toBe(name);
    }
    expect(teamNameForGroup('___')).toMatch(/^group-[0-9a-f]{8}$/);
  });
});
