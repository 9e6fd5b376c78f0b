// Money as the spend counters hold it: integer micro-dollars (USD × 10⁶). Integers, so Redis
// adds them exactly (INCRBY) and every gateway and the operator agree to the last digit; a
// float's rounding would drift with every call. Text is read digit by digit (BigInt), never
// through a float: "0.0004" is 400, not 399.99999999999994.
//
// A cost finer than a micro-dollar is rounded up (a call is never counted as free), a budget
// is rounded so the comparison keeps LiteLLM's rule exactly (micro-dollar spend against the
// exact budget): see budgetMicroDollars.

/** Beyond it a double no longer holds every integer (and Lua's numbers are doubles). */
const MAX_MICROS = BigInt(Number.MAX_SAFE_INTEGER);

/** Decimal text, optionally with an exponent: Python's str(float) writes 1e-05. */
const DECIMAL = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * `text` in micro-dollars, rounded up (`ceil`) or down (`floor`); undefined when it is not a
 * non-negative decimal number, or too large to count exactly (≥ 2⁵³ micro-dollars, $9·10⁹).
 */
export function microDollarsOf(text: string, rounding: 'ceil' | 'floor'): number | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match) return undefined;
  const whole = match[1] ?? '';
  const fraction = match[2] ?? '';
  if (whole === '' && fraction === '') return undefined;
  const digits = BigInt(`${whole}${fraction}` || '0');
  // value = digits × 10^shift micro-dollars
  const shift = Number(match[3] ?? '0') - fraction.length + 6;
  let micros: bigint;
  if (shift >= 0) {
    if (digits !== 0n && shift > 30) return undefined;
    micros = digits * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    micros = digits / divisor;
    if (rounding === 'ceil' && micros * divisor !== digits) micros += 1n;
  }
  return micros > MAX_MICROS ? undefined : Number(micros);
}

/** The cost LiteLLM reports for one call (x-litellm-response-cost), rounded up. */
export function costMicroDollars(text: string): number | undefined {
  return microDollarsOf(text, 'ceil');
}

/**
 * A budget as the counters compare it, keeping LiteLLM's rules with integer spend s:
 *   key  (refused when spend ≥ max): s ≥ max ⇔ s ≥ ⌈max⌉, so ceil
 *   team (refused when spend > max): s > max ⇔ s > ⌊max⌋, so floor
 * Undefined: no budget the counters can reach (absent, or beyond what they count).
 */
export function budgetMicroDollars(
  usd: string | undefined,
  rule: 'reached' | 'passed',
): number | undefined {
  if (usd === undefined) return undefined;
  return microDollarsOf(usd, rule === 'reached' ? 'ceil' : 'floor');
}

/** Micro-dollars as a decimal USD string without trailing zeros: 1200 → "0.0012". */
export function formatMicroDollars(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return fraction === '' ? String(whole) : `${whole}.${fraction}`;
}
