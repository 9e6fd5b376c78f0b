// The gateway's routing config: what the operator compiles from VirtualKeys, Teams and
// ModelSubscriptions and publishes to Redis, and the gateway reads to decide, per request,
// whether a key may reach a model and within which limits. Both programs import this file,
// so the format has one definition; `schemaVersion` and the `v1` in every Redis name (see
// redis-layout.ts) let a later format live beside this one during an upgrade.
//
// A record never holds a key: keys are identified by the SHA-256 hex of their value, which
// is also LiteLLM's token id.
import { z } from 'zod';

export const ROUTING_SCHEMA_VERSION = 1;

const KEY_HASH = /^[0-9a-f]{64}$/;
const count = z.int().min(0);
/** USD as a decimal string, like the CRDs' money. */
const usd = z.string().regex(/^[0-9]+(\.[0-9]+)?$/);

/** One scope's limits (key, team, or a team's subscription to one model). Absent: no limit. */
export const RoutingLimits = z.object({
  rpm: count.optional(),
  tpm: count.optional(),
  maxParallelRequests: count.optional(),
  maxBudget: usd.optional(),
  budgetDuration: z.string().optional(),
  /**
   * Past it the gateway warns (x-llmtenancy-budget-warning, a metric) but still admits:
   * the VirtualKey's spec.limits.softBudget. Optional: older operators do not write it.
   */
  softBudget: usd.optional(),
});
export type RoutingLimits = z.infer<typeof RoutingLimits>;

/**
 * A team's subscription to one model, as a key's record carries it: its limits and the
 * ModelSubscription's uid, which names its counters, so two namespaces of one team with
 * their own subscriptions to one model never share a counter. Records written before the
 * uid was added have none; the gateway then counts per team and model, as it did.
 */
export const SubscriptionLimits = RoutingLimits.extend({
  uid: z.string().min(1).optional(),
});
export type SubscriptionLimits = z.infer<typeof SubscriptionLimits>;

/**
 * The budget period a scope's spend counter belongs to (redis-layout.ts spendCounterKey).
 * `periodId` is LiteLLM's budget_reset_at of the current period (RFC 3339), or "total" for a
 * budget without budgetDuration: a new periodId is a new counter, so a reset starts from 0.
 */
export const SpendPeriod = z.object({
  periodId: z.string().min(1),
  /** RFC 3339: when the period ends; the counter expires a little after it. */
  resetsAt: z.iso.datetime({ offset: true }).optional(),
});
export type SpendPeriod = z.infer<typeof SpendPeriod>;

/** Everything the gateway needs to admit or refuse a request made with one key. */
export const KeyPolicy = z.object({
  schemaVersion: z.literal(ROUTING_SCHEMA_VERSION),
  /** sha256(key) in hex: LiteLLM's token id, and the lookup key. */
  keyHash: z.string().regex(KEY_HASH),
  /** The VirtualKey this key belongs to. */
  owner: z.object({ namespace: z.string(), name: z.string(), uid: z.string() }),
  /** The Team (= LiteLLM team id) the key spends for. */
  team: z.string(),
  /** The LiteLLM user id, for a personal key. */
  user: z.string().optional(),
  /**
   * The models this key reaches now: its requested models ∩ the team's Active subscriptions.
   * Empty: none (never "all").
   */
  models: z.array(z.string()),
  limits: z.object({
    key: RoutingLimits.optional(),
    team: RoutingLimits.optional(),
    /** Per model: the limits of the team's subscription to it (only models that have some). */
    subscriptions: z.record(z.string(), SubscriptionLimits),
  }),
  /**
   * The API areas beyond model calls the key's Team enabled (Team.spec.gateway.enabledRoutes):
   * files, mcp, … Absent or empty: none. Plain strings, so a gateway that does not know a newer
   * area name still reads the record (and serves no route of that area).
   */
  enabledRoutes: z.array(z.string()).optional(),
  /** RFC 3339. After it the key is refused (an expired key, or an old key after rotation grace). */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  /** Blocked: suspended by its owner, or its user left the team. */
  suspended: z.boolean(),
  /** Why the key is suspended, for the gateway's error message. */
  suspendedReason: z.string().optional(),
  /**
   * Set by the operator when LiteLLM reports a budget spent (spend ≥ max budget) for the key,
   * its user or its team: the gateway refuses the key's requests as LiteLLM would, without a
   * round trip, until the budget resets or grows.
   */
  budgetExceeded: z
    .object({
      scope: z.enum(['key', 'user', 'team']),
      /** The LiteLLM id of what ran out: the key hash, user id or team id. */
      id: z.string(),
      spend: usd,
      maxBudget: usd,
    })
    .optional(),
  /**
   * Written by the operator's spend sync: the current budget period of each scope, which
   * names the gateway's spend counters. A scope without an entry is counted under "total"
   * when its limits have no budgetDuration; with a budgetDuration it is not counted by the
   * gateway (only budgetExceeded above applies), since the gateway cannot know the period.
   */
  spendPeriods: z
    .object({
      key: SpendPeriod.optional(),
      team: SpendPeriod.optional(),
      user: SpendPeriod.optional(),
    })
    .optional(),
});
export type KeyPolicy = z.infer<typeof KeyPolicy>;

/** A model as the gateway routes it. */
export const ModelRoute = z.object({
  /** LiteLLM's provider for the model, e.g. openai or hosted_vllm. */
  provider: z.string().optional(),
  /** chat, completion, embedding, … */
  mode: z.string().optional(),
});
export type ModelRoute = z.infer<typeof ModelRoute>;

export const ModelRoutes = z.object({
  schemaVersion: z.literal(ROUTING_SCHEMA_VERSION),
  /** model name → route; every model LiteLLM serves. */
  models: z.record(z.string(), ModelRoute),
});
export type ModelRoutes = z.infer<typeof ModelRoutes>;

/** Written with every change; its absence means Redis lost the config (restart, flush). */
export const RoutingMeta = z.object({
  schemaVersion: z.coerce.number().pipe(z.literal(ROUTING_SCHEMA_VERSION)),
  /** Grows by one with every published change. */
  revision: z.coerce.number().int().min(0),
  /** A new random id on every full publish: readers that see it change reload everything. */
  epoch: z.string().min(1),
  /** RFC 3339 time of the last change. */
  updatedAt: z.string(),
  /**
   * "1" while the publisher that wrote the config has not yet heard of every key (an
   * operator restarted after Redis lost the config, see operator/src/routing/key-inventory.ts):
   * a key missing from it may be valid, so gateways answer 503 for it, never 401. Absent:
   * complete (also from publishers that predate the flag).
   */
  incomplete: z.literal('1').optional(),
});
export type RoutingMeta = z.infer<typeof RoutingMeta>;

/**
 * The pub/sub message after every change. `keys`: key hashes whose records changed or were
 * removed (read them again); `models`: the model routes changed; `full`: everything was
 * rewritten (an empty Redis was refilled): reload all; `incomplete` (with `full`): that
 * refill lacks keys the publisher has not heard of yet (RoutingMeta.incomplete);
 * `complete`: the config is complete again.
 */
export const RoutingChange = z.object({
  revision: z.int().min(0),
  epoch: z.string(),
  keys: z.array(z.string().regex(KEY_HASH)).optional(),
  models: z.boolean().optional(),
  full: z.boolean().optional(),
  incomplete: z.boolean().optional(),
  complete: z.boolean().optional(),
});
export type RoutingChange = z.infer<typeof RoutingChange>;

/**
 * Parses a JSON string read from Redis (a record, the models, a change message) against
 * `schema`; undefined when it is not JSON or not of that shape (e.g. another schemaVersion).
 */
export function parseRoutingJson<T extends z.ZodType>(
  schema: T,
  json: string,
): z.output<T> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
