import { describe, expect, it } from 'vitest';
import { complete } from './complete.ts';

const lines = (words: string[]) => complete(words).trimEnd().split('\n');

describe('complete (kubectl plugin completion)', () => {
  it('offers command words, then subcommands, then flags, in cobra format', () => {
    expect(lines(['']).slice(0, 3)).toEqual(['status', 'teams', 'users']);
    expect(lines(['']).at(-1)).toBe(':4');
    expect(lines(['te'])).toEqual(['teams', 'team', ':4']);
    expect(lines(['key', ''])).toEqual(['create', 'rotate', 'suspend', 'resume', 'delete', ':4']);
    expect(lines(['key', 'create', 'app', '--rot'])).toEqual(['--rotate-every', ':4']);
    expect(lines(['-n', 'ml', 'teams', '--o'])).toEqual(['--output', ':4']);
    expect(lines(['completion', ''])).toEqual(['bash', 'zsh', ':4']);
    expect(lines(['keys', 'x'])).toEqual([':4']);
  });
});
