import { describe, expect, it } from 'vitest';
import { scopeBaseKey, windowEndMs, windowOf } from './limit-keys.ts';

/** The hash tag Redis Cluster routes by: between the first { and the next }. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return key.slice(open + 1, close);
}

describe('scopeBaseKey', () => {
  it('is readable for the usual ids', () => {
    expect(scopeBaseKey('llmtenancy:', 'ml-research', 'subscription', 'granite-3-8b')).toBe(
      'llmtenancy:limits:v1:{ml-research}:subscription:granite-3-8b',
    );
  });

  it('keeps every scope of a team under the team hash tag, whatever the ids hold', () => {
    for (const id of ['a}b', '{x}', 'openai/gpt-4o:latest', 'key:subscription']) {
      expect(hashTag(scopeBaseKey('p:', 'team-1', 'key', id))).toBe('team-1');
    }
    expect(hashTag(scopeBaseKey('p:', 'odd}team', 'team', 'odd}team'))).toBe('odd%7Dteam');
  });

  it('gives ids that differ only in separators different names', () => {
    const a = scopeBaseKey('p:', 't', 'key', 'x:subscription:y');
    const b = scopeBaseKey('p:', 't', 'key', 'x');
    expect(a).not.toBe(b);
    expect(a.startsWith(b + ':')).toBe(false);
    expect(scopeBaseKey('p:', 'a:b', 'key', 'c')).not.toBe(scopeBaseKey('p:', 'a', 'key', 'b:c'));
  });

  it('refuses a prefix with braces (it would become the hash tag)', () => {
    expect(() => scopeBaseKey('{p}:', 't', 'key', 'k')).toThrow(/prefix/);
  });
});

it('windows are whole UTC minutes', () => {
  const t = Date.UTC(2030, 0, 1, 12, 0, 59, 999);
  expect(windowOf(t + 1)).toBe(windowOf(t) + 1);
  expect(windowEndMs(windowOf(t))).toBe(t + 1);
});
