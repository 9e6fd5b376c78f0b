// GET /user/daily/activity and GET /team/daily/activity as LiteLLM 1.108.7 answers them
// (contracts/litellm/daily-activity.ts; CONTRACT-VERIFIED.md §10), from the daily rows every
// call adds to (daily-spend.ts). A page is a slice of raw rows ordered by date descending,
// then row id; the slice is aggregated per day with a breakdown per model, model group,
// provider, key hash and entity, so one day can straddle pages, as in LiteLLM.
//
// Simplification: the master key only (LiteLLM also lets a user read their own activity and
// a team member their own keys' share of the team's).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireAdmin } from './auth.ts';
import type { ServerContext } from './context.ts';
import type { DailySpendRow, DailyTable } from './daily-spend.ts';
import { queryInt, queryOf } from './fields.ts';
import { detailError } from './http-errors.ts';

interface Metrics {
  spend: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
}

interface Bucket {
  metrics: Metrics;
  metadata: Record<string, unknown>;
}

const zero = (): Metrics => ({
  spend: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  total_tokens: 0,
  api_requests: 0,
  successful_requests: 0,
  failed_requests: 0,
});

function add(metrics: Metrics, row: DailySpendRow): void {
  metrics.spend += row.spend;
  metrics.prompt_tokens += row.prompt_tokens;
  metrics.completion_tokens += row.completion_tokens;
  metrics.total_tokens += row.prompt_tokens + row.completion_tokens;
  metrics.api_requests += row.api_requests;
  metrics.successful_requests += row.successful_requests;
  metrics.failed_requests += row.failed_requests;
}

function addTo(buckets: Record<string, Bucket>, name: string, row: DailySpendRow): void {
  buckets[name] ??= { metrics: zero(), metadata: {} };
  add(buckets[name].metrics, row);
}

/** common_daily_activity › parse_canonical_date: only the exact YYYY-MM-DD spelling. */
function canonicalDate(value: string): boolean {
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

function dateRange(query: Record<string, string | undefined>): { start: string; end: string } {
  const { start_date: start, end_date: end } = query;
  if (!start || !end) throw detailError(400, { error: 'Please provide start_date and end_date' });
  if (!canonicalDate(start) || !canonicalDate(end)) {
    throw detailError(400, { error: 'start_date and end_date must be valid YYYY-MM-DD dates' });
  }
  if (end < start) throw detailError(400, { error: 'end_date must be on or after start_date' });
  return { start, end };
}

function listOf(value: string | undefined): string[] | undefined {
  return value ? value.split(',') : undefined;
}

/** One page: the rows matching the filters, sliced, then grouped by day (newest first). */
function answer(ctx: ServerContext, table: DailyTable, request: FastifyRequest) {
  const query = queryOf(request);
  const { start, end } = dateRange(query);
  const page = queryInt(query, 'page', 1, 1);
  const pageSize =
    table === 'user'
      ? queryInt(query, 'page_size', 50, 1, 1000)
      : queryInt(query, 'page_size', 10, 1);
  const entities = table === 'user' ? listOf(query.user_id) : listOf(query.team_ids);
  const excluded = table === 'team' ? (listOf(query.exclude_team_ids) ?? []) : [];
  const matching = ctx.store.dailySpend
    .rows(table)
    .filter(
      (row) =>
        row.date >= start &&
        row.date <= end &&
        (entities === undefined || entities.includes(row.entity_id)) &&
        !excluded.includes(row.entity_id) &&
        (!query.model || row.model === query.model) &&
        (!query.api_key || row.api_key === query.api_key),
    )
    .sort((a, b) => (a.date === b.date ? a.id - b.id : a.date < b.date ? 1 : -1));
  const rows = matching.slice((page - 1) * pageSize, page * pageSize);

  const days = new Map<
    string,
    { metrics: Metrics; breakdown: Record<string, Record<string, Bucket>> }
  >();
  const totals = zero();
  for (const row of rows) {
    let day = days.get(row.date);
    if (!day) {
      day = {
        metrics: zero(),
        breakdown: { models: {}, model_groups: {}, providers: {}, api_keys: {}, entities: {} },
      };
      days.set(row.date, day);
    }
    add(day.metrics, row);
    addTo(day.breakdown.models!, row.model, row);
    addTo(day.breakdown.model_groups!, row.model_group || row.model, row);
    addTo(day.breakdown.providers!, row.custom_llm_provider, row);
    addTo(day.breakdown.api_keys!, row.api_key, row);
    addTo(day.breakdown.entities!, row.entity_id || 'Unassigned', row);
    add(totals, row);
  }
  return {
    results: [...days].map(([date, day]) => ({
      date,
      metrics: day.metrics,
      breakdown: { mcp_servers: {}, endpoints: {}, ...day.breakdown },
    })),
    metadata: {
      total_spend: totals.spend,
      total_prompt_tokens: totals.prompt_tokens,
      total_completion_tokens: totals.completion_tokens,
      total_tokens: totals.total_tokens,
      total_api_requests: totals.api_requests,
      total_successful_requests: totals.successful_requests,
      total_failed_requests: totals.failed_requests,
      page,
      total_pages: Math.ceil(matching.length / pageSize),
      has_more: page * pageSize < matching.length,
    },
  };
}

export function registerActivityRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/user/daily/activity', async (request) => {
    requireAdmin(ctx, request);
    return answer(ctx, 'user', request);
  });
  app.get('/team/daily/activity', async (request) => {
    requireAdmin(ctx, request);
    return answer(ctx, 'team', request);
  });
}
