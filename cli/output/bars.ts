// Horizontal bars in a terminal, in eighths of a character cell with Unicode's block
// elements (U+2588..U+258F), so a day that spent a little more than another shows it.

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const FULL = '█';

/**
 * A bar `width` cells long at `max` for `value` (both ≥ 0). Any value above zero shows at
 * least an eighth, so a day that spent something never looks like a day that spent nothing.
 */
export function bar(value: number, max: number, width: number): string {
  if (!(value > 0) || !(max > 0)) return '';
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8));
  return FULL.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]!;
}

/** A gauge: `[████▌     ]`, `width` cells inside the brackets, full at `max`. */
export function gauge(value: number, max: number, width: number): string {
  const filled = bar(value, max, width);
  return `[${filled}${' '.repeat(Math.max(0, width - [...filled].length))}]`;
}
