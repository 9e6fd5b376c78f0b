// LiteLLM reports prices as floats of US dollars per token (1e-07, 1.4999999999999999e-07
// when its own arithmetic made them). Status carries them as decimal strings a person can
// read and a program can parse exactly, so a float becomes a string once, here: rounded to
// 12 significant digits (far beyond any real price, and short of float noise), written out
// without an exponent, trailing zeros dropped.

const SIGNIFICANT_DIGITS = 12;
/** The CRD's bound on ModelSubscription.status.modelInfo.*CostPerToken. */
export const MAX_COST_LENGTH = 32;

/** "0.0000001" for 1e-7; undefined for what is no price (negative, NaN) or too long to store. */
export function perTokenCost(value: number | null | undefined): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  if (value === 0) return '0';
  // "1.50000000000e-7": the rounding is the float's own; from here on only digits move.
  const [mantissa, exponent] = value.toExponential(SIGNIFICANT_DIGITS - 1).split('e');
  const digits = mantissa!.replace('.', '').replace(/0+$/, '');
  const point = Number(exponent) + 1; // digits before the decimal point
  let text: string;
  if (point <= 0) text = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) text = digits + '0'.repeat(point - digits.length);
  else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return text.length <= MAX_COST_LENGTH ? text : undefined;
}
