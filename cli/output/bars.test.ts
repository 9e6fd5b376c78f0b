import { describe, expect, it } from 'vitest';
import { bar, gauge } from './bars.ts';

describe('bar', () => {
  it('is full at the maximum and scales in eighths of a cell', () => {
    expect(bar(10, 10, 4)).toBe('████');
    expect(bar(5, 10, 4)).toBe('██');
    expect(bar(1, 16, 4)).toBe('▎'); // 4 × 8 / 16 = 2 eighths
    expect(bar(9, 16, 4)).toBe('██▎'); // 18 eighths
  });

  it('shows something for any spend, and nothing for none', () => {
    expect(bar(0.000001, 100, 30)).toBe('▏');
    expect(bar(0, 100, 30)).toBe('');
    expect(bar(1, 0, 30)).toBe('');
    expect(bar(Number.NaN, 1, 30)).toBe('');
  });

  it('stops at the width when the value passes the maximum', () => {
    expect(bar(30, 10, 3)).toBe('███');
  });
});

describe('gauge', () => {
  it('pads the bar to its width inside brackets', () => {
    expect(gauge(1, 4, 4)).toBe('[█   ]');
    expect(gauge(0, 4, 4)).toBe('[    ]');
    expect(gauge(8, 4, 4)).toBe('[████]');
  });
});
