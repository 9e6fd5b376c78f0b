import { describe, expect, it } from 'vitest';
import { ModelInfo } from '../../../crds/api/index.ts';
import { perTokenCost } from './per-token-cost.ts';

describe('perTokenCost', () => {
  it.each([
    [1e-7, '0.0000001'],
    [0.0000015, '0.0000015'],
    [1.4999999999999999e-7, '0.00000015'],
    [0.15 / 1e6, '0.00000015'],
    [0.1 + 0.2, '0.3'],
    [3e-6, '0.000003'],
    [1.25e-5, '0.0000125'],
    [0, '0'],
    [-0, '0'],
    [12.5, '12.5'],
    [100, '100'],
    [1e21, '1000000000000000000000'],
    [1.23456789012345e-3, '0.00123456789012'],
  ])('writes %d as %s, which the CRD accepts', (value, text) => {
    expect(perTokenCost(value)).toBe(text);
    expect(ModelInfo.safeParse({ inputCostPerToken: text }).success).toBe(true);
  });

  it('never writes an exponent or float noise', () => {
    for (let exponent = -15; exponent <= 3; exponent++) {
      for (const mantissa of [1, 1.5, 2.5, 3, 7.25]) {
        const text = perTokenCost(mantissa * 10 ** exponent)!;
        expect(text).toMatch(/^\d+(\.\d+)?$/);
        expect(text).not.toMatch(/[1-9]0{5,}[1-9]$|9{5,}\d?$/);
        expect(Math.abs(Number(text) / (mantissa * 10 ** exponent) - 1)).toBeLessThan(1e-11);
      }
    }
  });

  it.each([-1e-7, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, 1.23456789012e-25])(
    'gives nothing for %s',
    (value) => {
      expect(perTokenCost(value)).toBeUndefined();
    },
  );
});
