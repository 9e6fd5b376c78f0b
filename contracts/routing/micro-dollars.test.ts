import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  budgetMicroDollars,
  costMicroDollars,
  formatMicroDollars,
  microDollarsOf,
} from './micro-dollars.ts';

/** Exact micro-dollars of decimal text by hand: (whole, fraction digits) → µ$ as BigInt·10⁻ⁿ. */
const exact = (whole: bigint, fraction: string) => ({
  numerator: whole * 10n ** BigInt(fraction.length) + BigInt(fraction || '0'),
  scale: 10n ** BigInt(fraction.length),
});

describe('micro-dollars', () => {
  it('reads decimal text exactly, never through a float', () => {
    expect(costMicroDollars('0.0004')).toBe(400);
    expect(costMicroDollars('0.00039999999999999996')).toBe(400);
    expect(costMicroDollars('0.00040000000000000002')).toBe(401);
    expect(costMicroDollars('12')).toBe(12_000_000);
    expect(costMicroDollars('0')).toBe(0);
    expect(costMicroDollars('0.0')).toBe(0);
    expect(costMicroDollars('.5')).toBe(500_000);
    expect(costMicroDollars(' 1.5 ')).toBe(1_500_000);
  });

  it("reads Python's exponent form (str(0.00001) is 1e-05)", () => {
    expect(costMicroDollars('1e-05')).toBe(10);
    expect(costMicroDollars('1.5E-7')).toBe(1);
    expect(costMicroDollars('2e3')).toBe(2_000_000_000);
    expect(costMicroDollars('1e-400')).toBe(1);
  });

  it('refuses what is not a non-negative number, or too large to count exactly', () => {
    for (const text of [
      '',
      '-0.1',
      '-0',
      '+1',
      'abc',
      'NaN',
      'inf',
      'None',
      '1.2.3',
      '0x10',
      '1e',
      '.',
      '1e99',
    ]) {
      expect(costMicroDollars(text), text).toBeUndefined();
    }
    expect(costMicroDollars('9007199254.740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(costMicroDollars('9007199254.740992')).toBeUndefined();
  });

  it('rounds a cost up to the micro-dollar: never below the exact value, less than 1 above it', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 9_000_000_000n }),
        fc.stringMatching(/^[0-9]{0,12}$/),
        (whole, fraction) => {
          const text = fraction === '' ? String(whole) : `${whole}.${fraction}`;
          const micros = costMicroDollars(text);
          const { numerator, scale } = exact(whole, fraction);
          // numerator / scale dollars = numerator·10⁶ / scale micro-dollars
          const exactMicros = numerator * 1_000_000n;
          if (micros === undefined) return exactMicros > BigInt(Number.MAX_SAFE_INTEGER) * scale;
          const m = BigInt(micros);
          return m * scale >= exactMicros && (m - 1n) * scale < exactMicros;
        },
      ),
    );
  });

  it("keeps LiteLLM's budget rules exact on integer spend: key spend ≥ max, team spend > max", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n }),
        fc.stringMatching(/^[0-9]{0,9}$/),
        fc.integer({ min: -2, max: 2 }),
        (whole, fraction, offset) => {
          const max = fraction === '' ? String(whole) : `${whole}.${fraction}`;
          const { numerator, scale } = exact(whole, fraction);
          const maxScaled = numerator * 1_000_000n; // max in µ$, times scale
          // Spend right around the budget, where rounding the wrong way shows.
          const spend = Math.max(0, Number(maxScaled / scale) + offset);
          const spendScaled = BigInt(spend) * scale;
          const keyRefused = spend >= budgetMicroDollars(max, 'reached')!;
          const teamRefused = spend > budgetMicroDollars(max, 'passed')!;
          return keyRefused === spendScaled >= maxScaled && teamRefused === spendScaled > maxScaled;
        },
      ),
    );
  });

  it('formats micro-dollars as the decimal they are, and reads them back', () => {
    expect(formatMicroDollars(1200)).toBe('0.0012');
    expect(formatMicroDollars(0)).toBe('0');
    expect(formatMicroDollars(12_000_000)).toBe('12');
    expect(formatMicroDollars(12_500_001)).toBe('12.500001');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (micros) => {
        return microDollarsOf(formatMicroDollars(micros), 'floor') === micros;
      }),
    );
  });
});
