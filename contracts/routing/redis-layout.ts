// Where the routing config lives in Redis. One prefix (default "llmtenancy:") lets several
// installations share a Redis; "routing:v1" is the format version of schema.ts.
//
//   <prefix>routing:v1:keys     HASH    key hash → KeyPolicy JSON
//   <prefix>routing:v1:models   STRING  ModelRoutes JSON
//   <prefix>routing:v1:meta     HASH    RoutingMeta (schemaVersion, revision, epoch, updatedAt)
//   <prefix>routing:v1:changes  channel RoutingChange JSON, published after every change
//   <prefix>spend:v1:{<team>}:<scope>:<id>:<periodId>
//                               STRING  spend of one scope in one budget period, in integer
//                                       micro-dollars (USD × 10⁶, exact: INCRBY only)
//
// Spend counters: <scope>:<id> is key:<key hash>, team:<team id> or user:<user id>; <periodId>
// is SpendPeriod.periodId (schema.ts), LiteLLM's budget_reset_at of the period or "total".
// The {<team>} hash tag is the rate-limit counters' (gateway/src/limits/limit-keys.ts), so
// one script touches a request's limits and budgets in one Redis Cluster slot. The gateway
// adds each answer's cost (x-litellm-response-cost); the operator's spend sync raises a
// counter to LiteLLM's figure (spend-counters.ts), never lowers it. A counter expires
// SPEND_COUNTER_GRACE_SECONDS after its period ends (never, for "total").
//
// Every change is one atomic step (a Lua script: records + meta + PUBLISH, see
// operator/src/routing/routing-scripts.ts): readers never see a record without the revision
// that announced it.
export const DEFAULT_ROUTING_PREFIX = 'llmtenancy:';

export interface RoutingKeys {
  keys: string;
  models: string;
  meta: string;
  channel: string;
}

export function routingKeys(prefix: string = DEFAULT_ROUTING_PREFIX): RoutingKeys {
  const base = `${prefix}routing:v1:`;
  return {
    keys: `${base}keys`,
    models: `${base}models`,
    meta: `${base}meta`,
    channel: `${base}changes`,
  };
}

export type SpendScope = 'key' | 'team' | 'user';

/** The periodId of a budget without budgetDuration: one counter that never resets. */
export const TOTAL_PERIOD = 'total';

/**
 * The periodId of a budget period: LiteLLM's budget_reset_at as the operator reports it
 * (status.budget.resetsAt), else TOTAL_PERIOD. The operator names counters with it, and
 * publishes the same string in KeyPolicy.spendPeriods for the gateway.
 */
export const spendPeriodId = (resetsAt: string | undefined): string => resetsAt ?? TOTAL_PERIOD;

/** How long a spend counter outlives its period (late answers, clocks a little apart). */
export const SPEND_COUNTER_GRACE_SECONDS = 3600;

/**
 * `<prefix>spend:v1:{<team>}:<scope>:<id>:<periodId>`. Team, id and periodId are URL-encoded,
 * as the limit counters' are: no ':' or brace in them can end the hash tag or the name early.
 */
export function spendCounterKey(
  prefix: string,
  team: string,
  scope: SpendScope,
  id: string,
  periodId: string,
): string {
  if (prefix.includes('{') || prefix.includes('}')) {
    throw new Error('the Redis key prefix must not contain { or }');
  }
  const e = encodeURIComponent;
  return `${prefix}spend:v1:{${e(team)}}:${scope}:${e(id)}:${e(periodId)}`;
}
