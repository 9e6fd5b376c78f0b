import { describe, expect, it } from 'vitest';
import { parseWriteReply } from './routing-scripts.ts';

describe('parseWriteReply', () => {
  it('reads an applied change with the hashes it removed', () => {
    expect(parseWriteReply([1, 5, 'e1'])).toEqual({
      status: 'applied',
      revision: 5,
      epoch: 'e1',
      removed: [],
    });
    expect(parseWriteReply([1, 6, 'e1', 'a', 'b'])).toEqual({
      status: 'applied',
      revision: 6,
      epoch: 'e1',
      removed: ['a', 'b'],
    });
  });

  it('reads a lost config and a changed epoch', () => {
    expect(parseWriteReply([0])).toEqual({ status: 'lost' });
    expect(parseWriteReply([-1, 'e2'])).toEqual({ status: 'epochChanged', epoch: 'e2' });
  });

  it('throws on anything else', () => {
    expect(() => parseWriteReply('OK')).toThrow(/unexpected reply/);
    expect(() => parseWriteReply([1, '5', 'e1'])).toThrow(/unexpected reply/);
    expect(() => parseWriteReply([2])).toThrow(/unexpected reply/);
  });
});
