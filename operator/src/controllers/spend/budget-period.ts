// The budget period LiteLLM is in: it stores only when spend next resets (budget_reset_at)
// and the period's length (budget_duration), so the period began one duration before the
// reset. Exactly:
//
//   s, m, h, d, w   periodStart = resetsAt − count × (1, 60, 3600, 86400, 604800) seconds
//   mo              periodStart = resetsAt − count calendar months (UTC), the day of month
//                   kept, or the month's last day when it has fewer (Mar 31 − 1mo = Feb 28)
//
// A LiteLLM timestamp without an offset is UTC (its database stores UTC).

const DURATION = /^([1-9][0-9]{0,5})(s|m|h|d|w|mo)$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

export interface BudgetPeriod {
  /** RFC 3339, UTC. */
  periodStart: string;
  resetsAt: string;
}

/** The period ending at `resetAt`; undefined when either is missing or unreadable. */
export function budgetPeriod(
  resetAt: string | null | undefined,
  duration: string | null | undefined,
): BudgetPeriod | undefined {
  if (!resetAt || !duration) return undefined;
  const match = DURATION.exec(duration);
  const end = parseTimestamp(resetAt);
  if (!match || end === undefined) return undefined;
  const count = Number(match[1]);
  const unit = match[2] as keyof typeof SECONDS | 'mo';
  const start =
    unit === 'mo'
      ? monthsBefore(end, count)
      : new Date(end.getTime() - count * SECONDS[unit] * 1000);
  return { periodStart: rfc3339(start), resetsAt: rfc3339(end) };
}

function monthsBefore(date: Date, months: number): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const start = new Date(date);
  start.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay));
  return start;
}

function parseTimestamp(value: string): Date | undefined {
  const hasOffset = /(Z|[+-][0-9]{2}:?[0-9]{2})$/i.test(value);
  const date = new Date(hasOffset ? value : `${value}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** RFC 3339 in UTC, without milliseconds when there are none. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}
