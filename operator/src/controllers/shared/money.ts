// LiteLLM reports spend as a float of US dollars; status carries money as an exact decimal
// string (crds/api/meta.ts › MONEY: up to 12 integer digits and 6 decimals), so a float
// becomes a string once, here, rounded to the micro-dollar.

const MAX_DOLLARS = 1e12;

/** "12.5" for 12.5; undefined for what status cannot hold (negative, NaN, too large). */
export function moneyFromNumber(value: number | null | undefined): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  const fixed = value.toFixed(6);
  if (Number(fixed) >= MAX_DOLLARS) return undefined;
  return fixed.replace(/\.?0+$/, '');
}

/**
 * Compares two decimal strings of money exactly (negative: a < b, 0: equal, positive: a > b);
 * numbers would round amounts of 12 integer and 6 decimal digits. Both must be plain
 * non-negative decimals ("12", "12.50"); "12.5" equals "12.50".
 */
export function compareMoney(a: string, b: string): number {
  const [aInt = '', aFrac = ''] = a.split('.');
  const [bInt = '', bFrac = ''] = b.split('.');
  const intA = aInt.replace(/^0+(?=.)/, '');
  const intB = bInt.replace(/^0+(?=.)/, '');
  if (intA.length !== intB.length) return intA.length - intB.length;
  const width = Math.max(aFrac.length, bFrac.length);
  const digitsA = intA + aFrac.padEnd(width, '0');
  const digitsB = intB + bFrac.padEnd(width, '0');
  return digitsA === digitsB ? 0 : digitsA < digitsB ? -1 : 1;
}

/** A decimal string of money as whole micro-dollars, exactly: "12.5" → 12500000n. */
export function microDollars(amount: string): bigint {
  const [whole = '0', fraction = ''] = amount.split('.');
  return BigInt(whole || '0') * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0');
}

/** Micro-dollars as the decimal string status carries: 12500000n → "12.5". */
export function moneyFromMicros(micros: bigint): string {
  const whole = micros / 1_000_000n;
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}
