import { describe, expect, it } from 'vitest';
import { MONEY } from '../../../../crds/api/index.ts';
import { compareMoney, moneyFromNumber } from './money.ts';

describe('moneyFromNumber', () => {
  it.each([
    [0, '0'],
    [12.5, '12.5'],
    [100, '100'],
    [0.1 + 0.2, '0.3'],
    [1.23456789, '1.234568'],
    [0.0000001, '0'],
    [999_999_999_999.5, '999999999999.5'],
  ])('writes %d as %s, which the CRD accepts', (value, text) => {
    expect(moneyFromNumber(value)).toBe(text);
    expect(MONEY.test(text)).toBe(true);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 1e12, null, undefined])(
    'gives nothing for %s',
    (value) => {
      expect(moneyFromNumber(value)).toBeUndefined();
    },
  );
});

describe('compareMoney', () => {
  it.each([
    ['0', '0', 0],
    ['12.5', '12.50', 0],
    ['007', '7', 0],
    ['0.000001', '0', 1],
    ['9', '10', -1],
    ['10', '9', 1],
    ['1.05', '1.1', -1],
    ['999999999999.999999', '999999999999.999998', 1],
    ['100', '99.999999', 1],
  ])('compares %s with %s: %d', (a, b, sign) => {
    expect(Math.sign(compareMoney(a, b))).toBe(sign);
    expect(Math.sign(compareMoney(b, a))).toBe(-sign || 0);
  });
});
