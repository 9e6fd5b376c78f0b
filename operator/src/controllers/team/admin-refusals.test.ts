import { describe, expect, it } from 'vitest';
import { AdminRefusals } from './admin-refusals.ts';

describe('AdminRefusals', () => {
  it('remembers a refusal for the Team generation it happened at', () => {
    const refusals = new AdminRefusals();
    refusals.add('uid-1', 3, 'alice');
    expect(refusals.has('uid-1', 3, 'alice')).toBe(true);
    expect(refusals.has('uid-1', 3, 'bob')).toBe(false);
    expect(refusals.has('uid-2', 3, 'alice')).toBe(false);
  });

  it('forgets them when the spec changes, so the next generation asks LiteLLM again', () => {
    const refusals = new AdminRefusals();
    refusals.add('uid-1', 3, 'alice');
    expect(refusals.has('uid-1', 4, 'alice')).toBe(false);
    refusals.add('uid-1', 4, 'bob');
    expect(refusals.has('uid-1', 3, 'alice')).toBe(false);
    expect(refusals.has('uid-1', 4, 'bob')).toBe(true);
  });

  it('forgets a deleted Team', () => {
    const refusals = new AdminRefusals();
    refusals.add('uid-1', 1, 'alice');
    refusals.forget('uid-1');
    expect(refusals.has('uid-1', 1, 'alice')).toBe(false);
  });
});
