// Times as kubectl shows them: an age ("5m", "3d") and, for moments ahead, "in 29d".

export function shortDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  return d < 730 ? `${d}d` : `${Math.floor(d / 365)}y`;
}

/** "5m" since an RFC 3339 time; undefined when there is none. */
export function age(time: string | undefined, now = Date.now()): string | undefined {
  if (!time) return undefined;
  return shortDuration(now - Date.parse(time));
}

/** "in 29d" for a future time, "3h ago" for a past one. */
export function relative(time: string | undefined, now = Date.now()): string | undefined {
  if (!time) return undefined;
  const delta = Date.parse(time) - now;
  return delta >= 0 ? `in ${shortDuration(delta)}` : `${shortDuration(delta)} ago`;
}
