import { describe, expect, it } from 'vitest';
import { spendCounterKey } from './redis-layout.ts';

describe('spendCounterKey', () => {
  it('names a scope’s counter for one period, in its team’s hash slot', () => {
    expect(spendCounterKey('llmtenancy:', 'team-a', 'key', 'ab12', 'total')).toBe(
      'llmtenancy:spend:v1:{team-a}:key:ab12:total',
    );
    expect(spendCounterKey('llmtenancy:', 'team-a', 'team', 'team-a', '2030-01-01T00:00:00Z')).toBe(
      'llmtenancy:spend:v1:{team-a}:team:team-a:2030-01-01T00%3A00%3A00Z',
    );
  });

  it('keeps the hash tag and the fields whole whatever the ids hold', () => {
    const name = spendCounterKey('p:', 'a}b{c', 'user', 'u:1', 'x:y');
    expect(name).toBe('p:spend:v1:{a%7Db%7Bc}:user:u%3A1:x%3Ay');
    expect(name.match(/[{}]/g)).toEqual(['{', '}']);
    expect(spendCounterKey('p:', 't', 'key', 'a', 'b:c')).not.toBe(
      spendCounterKey('p:', 't', 'key', 'a:b', 'c'),
    );
  });

  it('refuses a prefix with braces', () => {
    expect(() => spendCounterKey('p{x}:', 't', 'key', 'a', 'total')).toThrow(/prefix/);
  });
});
