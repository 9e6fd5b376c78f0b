// What /api/usage answers, made from LiteLLM's daily activity (every page of it): per UTC day
// and per model, the spend, the prompt and completion tokens and the requests, plus the
// range's totals; as JSON or as CSV. Pure functions, so each rule has a unit test.
//
// - Models are LiteLLM's model groups: the public names callers ask for and Teams subscribe
//   to (not the deployment behind them).
// - Spend is added up in integer micro-dollars (contracts/routing/micro-dollars.ts), so
//   pages and days add up exactly, and shown as a decimal USD string, as the objects' status.
// - Every day of the range is present in `days`, with zeros when nothing was spent: a chart
//   needs no gaps filled. The CSV has a row per day and model that saw a request.
import type { DailySpendData, SpendMetrics } from '../../../contracts/litellm/daily-activity.ts';
import { formatMicroDollars } from '../../../contracts/routing/micro-dollars.ts';
import type {
  ModelUsage,
  UsageFigures,
  UsageReport,
} from '../../../contracts/usage/usage-answer.ts';

/** Figures being added up: spend in micro-dollars. */
interface Tally {
  micros: number;
  promptTokens: number;
  completionTokens: number;
  requests: number;
}

const emptyTally = (): Tally => ({ micros: 0, promptTokens: 0, completionTokens: 0, requests: 0 });

function add(tally: Tally, metrics: SpendMetrics): void {
  tally.micros += Math.round(metrics.spend * 1e6);
  tally.promptTokens += metrics.prompt_tokens;
  tally.completionTokens += metrics.completion_tokens;
  tally.requests += metrics.api_requests;
}

function figures(tally: Tally): UsageFigures {
  return {
    spend: formatMicroDollars(tally.micros),
    promptTokens: tally.promptTokens,
    completionTokens: tally.completionTokens,
    totalTokens: tally.promptTokens + tally.completionTokens,
    requests: tally.requests,
  };
}

/** The days from `since` to `until` (inclusive, YYYY-MM-DD). */
export function daysBetween(since: string, until: string): string[] {
  const days: string[] = [];
  for (
    let day = new Date(`${since}T00:00:00Z`);
    day.toISOString().slice(0, 10) <= until;
    day = new Date(day.getTime() + 86_400_000)
  ) {
    days.push(day.toISOString().slice(0, 10));
  }
  return days;
}

export function usageReport(
  pages: readonly DailySpendData[],
  range: { since: string; until: string },
): UsageReport {
  const byDay = new Map<string, { tally: Tally; models: Map<string, Tally> }>();
  const totals = emptyTally();
  const perModel = new Map<string, Tally>();
  for (const day of pages) {
    // One day can come on two pages: each page's part is added to the same day.
    let entry = byDay.get(day.date);
    if (!entry) byDay.set(day.date, (entry = { tally: emptyTally(), models: new Map() }));
    add(entry.tally, day.metrics);
    add(totals, day.metrics);
    const groups = Object.keys(day.breakdown.model_groups).length
      ? day.breakdown.model_groups
      : day.breakdown.models;
    for (const [model, bucket] of Object.entries(groups)) {
      for (const target of [entry.models, perModel]) {
        let tally = target.get(model);
        if (!tally) target.set(model, (tally = emptyTally()));
        add(tally, bucket.metrics);
      }
    }
  }
  return {
    since: range.since,
    until: range.until,
    totals: figures(totals),
    models: sortedModels(perModel),
    days: daysBetween(range.since, range.until).map((date) => {
      const entry = byDay.get(date);
      return {
        date,
        ...figures(entry?.tally ?? emptyTally()),
        models: entry ? sortedModels(entry.models) : [],
      };
    }),
  };
}

function sortedModels(models: Map<string, Tally>): ModelUsage[] {
  return [...models]
    .sort(([a, x], [b, y]) => y.micros - x.micros || a.localeCompare(b))
    .map(([model, tally]) => ({ model, ...figures(tally) }));
}

export const CSV_COLUMNS = [
  'date',
  'model',
  'spend_usd',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'requests',
] as const;

/** RFC 4180: a header row, CRLF line ends, a field quoted when it holds , " CR or LF. */
export function usageCsv(report: UsageReport): string {
  const rows: (string | number)[][] = [[...CSV_COLUMNS]];
  for (const day of report.days) {
    for (const m of day.models) {
      rows.push([
        day.date,
        m.model,
        m.spend,
        m.promptTokens,
        m.completionTokens,
        m.totalTokens,
        m.requests,
      ]);
    }
  }
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function csvField(value: string | number): string {
  let text = String(value);
  // A spreadsheet runs a cell that starts like a formula: a model name never should.
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
