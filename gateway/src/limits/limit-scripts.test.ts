import { describe, expect, it } from 'vitest';
import { parseAdmitReply } from './limit-scripts.ts';

describe('parseAdmitReply', () => {
  it('reads the counts per scope and an admission', () => {
    expect(parseAdmitReply([0, 1_700_000_000_123, 1, 0, 2, 5, 40, 0], 2)).toEqual({
      nowMs: 1_700_000_000_123,
      refused: undefined,
      counts: [
        { requests: 1, tokens: 0, parallel: 2 },
        { requests: 5, tokens: 40, parallel: 0 },
      ],
    });
  });

  it.each([
    [1, 0, 'requests'],
    [2, 0, 'tokens'],
    [3, 0, 'parallel'],
    [4, 1, 'requests'],
    [9, 2, 'parallel'],
  ] as const)('reads refused=%i as scope %i, %s', (code, scope, limit) => {
    const reply = [code, 0, ...Array(9).fill(0)];
    expect(parseAdmitReply(reply, 3).refused).toEqual({ scope, limit });
  });

  it('rejects a reply of another shape', () => {
    expect(() => parseAdmitReply([0, 0, 1, 2], 1)).toThrow(/admit script/);
    expect(() => parseAdmitReply([0, 0, '1', 2, 3], 1)).toThrow(/admit script/);
    expect(() => parseAdmitReply('OK', 1)).toThrow(/admit script/);
  });
});

describe('parseAdmitReply with budgets', () => {
  it('reads each budget’s spend after the scopes', () => {
    const reply = parseAdmitReply([0, 5, 1, 0, 0, 400, 1200], 1, 2);
    expect(reply.spentMicros).toEqual([400, 1200]);
    expect(reply.budgetRefused).toBeUndefined();
    expect(reply.refused).toBeUndefined();
  });

  it('reads a refusal past the scopes as the spent budget', () => {
    const reply = parseAdmitReply([5, 0, 1, 0, 0, 400, 1200], 1, 2);
    expect(reply.budgetRefused).toBe(1);
    expect(reply.refused).toBeUndefined();
    expect(parseAdmitReply([1, 0, 1200], 0, 1).budgetRefused).toBe(0);
  });

  it('rejects a reply without every budget', () => {
    expect(() => parseAdmitReply([0, 0, 1, 0, 0, 400], 1, 2)).toThrow(/admit script/);
  });
});
