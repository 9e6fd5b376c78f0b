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
