// LiteLLM's daily spend analytics, as both the gateway (which reads them for /api/usage) and
// the LiteLLM-compatible test server (which serves them) rely on: the record of the verified
// contract (operator/src/litellm/CONTRACT-VERIFIED.md §10; LiteLLM 1.108.7, open source, no
// licence needed). Two paginated endpoints read LiteLLM's daily rollup tables, one row per
// (entity, UTC day, key hash, model, provider, endpoint):
//
//   GET /user/daily/activity   the LiteLLM_DailyUserSpend rows   IUE › get_user_daily_activity
//   GET /team/daily/activity   the LiteLLM_DailyTeamSpend rows   TE › get_team_daily_activity
//
// A page is a slice of those raw rows (ordered by date descending, then row id), aggregated
// per day: one day can straddle two pages, so a reader fetches every page and adds the days
// up again (sumDays in the gateway). The totals in `metadata` cover the page only.
import { z } from 'zod';

/** A day as the daily tables store it and the endpoints compare it: exactly YYYY-MM-DD. */
export const ActivityDate = z.iso.date();

/** The largest page_size /user/daily/activity accepts (le=1000; 422 above). /team has no bound. */
export const MAX_ACTIVITY_PAGE_SIZE = 1000;

/**
 * GET /user/daily/activity. start_date and end_date are required (400 "Please provide
 * start_date and end_date" otherwise) and inclusive; end before start → 400. With an admin
 * bearer (the master key), no user_id means every user; a non-admin may name only itself.
 * `api_key` filters by key HASH (the daily tables hold hashes, never keys).
 */
export const UserDailyActivityQuery = z.strictObject({
  start_date: ActivityDate,
  end_date: ActivityDate,
  user_id: z.string().min(1).optional(),
  api_key: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  page: z.int().min(1).default(1),
  page_size: z.int().min(1).max(MAX_ACTIVITY_PAGE_SIZE).default(50),
});
export type UserDailyActivityQuery = z.input<typeof UserDailyActivityQuery>;

/**
 * GET /team/daily/activity. `team_ids` is comma-separated (none: every team, for an admin;
 * a non-admin's own teams, and only their own keys unless team admin). Default page_size 10.
 */
export const TeamDailyActivityQuery = z.strictObject({
  start_date: ActivityDate,
  end_date: ActivityDate,
  team_ids: z.string().min(1).optional(),
  exclude_team_ids: z.string().min(1).optional(),
  api_key: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  page: z.int().min(1).default(1),
  page_size: z.int().min(1).max(MAX_ACTIVITY_PAGE_SIZE).default(10),
});
export type TeamDailyActivityQuery = z.input<typeof TeamDailyActivityQuery>;

/**
 * SpendMetrics (types/proxy/management_endpoints/common_daily_activity.py): every field has
 * a default of 0, so each is optional here. `spend` is USD as a float. `api_requests` counts
 * successful and failed calls.
 */
export const SpendMetrics = z.looseObject({
  spend: z.number().default(0),
  prompt_tokens: z.number().default(0),
  completion_tokens: z.number().default(0),
  total_tokens: z.number().default(0),
  api_requests: z.number().default(0),
  successful_requests: z.number().default(0),
  failed_requests: z.number().default(0),
});
export type SpendMetrics = z.output<typeof SpendMetrics>;

/** One bucket of a breakdown: its metrics, and what LiteLLM knows about its name. */
const MetricWithMetadata = z.looseObject({
  metrics: SpendMetrics,
  metadata: z.record(z.string(), z.unknown()).default({}),
});

/**
 * BreakdownMetrics: per model (the deployment's model), per model_group (the public model
 * name a caller asked for: what Teams subscribe to), per provider, per api_key (hash), per
 * entity (the user_id or team_id), per endpoint, per MCP server. Every map defaults to {}.
 */
export const ActivityBreakdown = z.looseObject({
  models: z.record(z.string(), MetricWithMetadata).default({}),
  model_groups: z.record(z.string(), MetricWithMetadata).default({}),
  providers: z.record(z.string(), MetricWithMetadata).default({}),
  api_keys: z.record(z.string(), MetricWithMetadata).default({}),
  entities: z.record(z.string(), MetricWithMetadata).default({}),
});
export type ActivityBreakdown = z.output<typeof ActivityBreakdown>;

/** DailySpendData: one UTC day of the page. */
export const DailySpendData = z.looseObject({
  date: ActivityDate,
  metrics: SpendMetrics,
  breakdown: ActivityBreakdown.default({
    models: {},
    model_groups: {},
    providers: {},
    api_keys: {},
    entities: {},
  }),
});
export type DailySpendData = z.output<typeof DailySpendData>;

/**
 * SpendAnalyticsPaginatedResponse. `total_pages` is ceil(rows / page_size), 0 when nothing
 * matched; `has_more` is page × page_size < rows. The totals (`total_spend`, …) are the
 * page's, not the range's.
 */
export const DailyActivityResponse = z.looseObject({
  results: z.array(DailySpendData),
  metadata: z.looseObject({
    total_spend: z.number().default(0),
    total_prompt_tokens: z.number().default(0),
    total_completion_tokens: z.number().default(0),
    total_tokens: z.number().default(0),
    total_api_requests: z.number().default(0),
    page: z.int().default(1),
    total_pages: z.int().default(1),
    has_more: z.boolean().default(false),
  }),
});
export type DailyActivityResponse = z.output<typeof DailyActivityResponse>;

export interface ActivityEndpoint<Req extends z.ZodType> {
  method: 'GET';
  path: string;
  request: Req;
  response: typeof DailyActivityResponse;
}

/** The analytics endpoints, in the shape of operator/src/litellm/endpoints.ts. */
export const activityEndpoints = {
  userDailyActivity: {
    method: 'GET',
    path: '/user/daily/activity',
    request: UserDailyActivityQuery,
    response: DailyActivityResponse,
  },
  teamDailyActivity: {
    method: 'GET',
    path: '/team/daily/activity',
    request: TeamDailyActivityQuery,
    response: DailyActivityResponse,
  },
} as const satisfies Record<string, ActivityEndpoint<z.ZodType>>;
