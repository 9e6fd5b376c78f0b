// Durations in configuration, written as Go and kubectl write them: "90s", "5m", "1h30m",
// "500ms", plus "d" for days. No bare numbers: "300" could mean seconds or milliseconds.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const WHOLE = /^(\d+(\.\d+)?(ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (!WHOLE.test(value)) return undefined;
  let ms = 0;
  for (const [, count, unit] of value.matchAll(PART)) {
    ms += Number(count) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Math.round(ms);
}

/** "1h30m" for 5_400_000: how the effective configuration shows durations. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}
