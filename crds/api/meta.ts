// Shared building blocks for the llmtenancy.dev API: names, money, durations, limits,
// conditions. Every schema here is written so that it can become a *structural*
// Kubernetes OpenAPI schema (see ../structural.ts) and so that its patterns are valid in
// Go's RE2 (no look-around, no back-references), because the apiserver evaluates them.
import { z } from 'zod';

export const GROUP = 'llmtenancy.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CATEGORY = 'llm';

/** A CEL validation rule as the apiserver takes it (`x-kubernetes-validations`). */
export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** Attach CEL rules to a schema; the generator copies them into the CRD unchanged. */
export function cel<T extends z.ZodType>(schema: T, ...rules: CelRule[]): T {
  const existing = (schema.meta()?.['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
  return schema.meta({ 'x-kubernetes-validations': [...existing, ...rules] });
}

// --- list types: arrays must say how server-side apply merges them -------------------

/** A list of unique scalars (`x-kubernetes-list-type: set`): SSA merges by value. */
export function setOf<T extends z.ZodType>(item: T, maxItems: number, description: string) {
  return z.array(item).max(maxItems).meta({ description, 'x-kubernetes-list-type': 'set' });
}

/** A list of objects keyed by some fields (`x-kubernetes-list-type: map`). */
export function mapOf<T extends z.ZodObject>(
  item: T,
  keys: string[],
  maxItems: number,
  description: string,
) {
  return z.array(item).max(maxItems).meta({
    description,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': keys,
  });
}

// --- names ---------------------------------------------------------------------------

/** RFC 1123 label: namespaces, Team names (they become LiteLLM ids and label values). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: most Kubernetes object names (Users, Secrets). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const dnsLabel = (description: string) =>
  z.string().min(1).max(63).regex(DNS_LABEL).describe(description);
export const objectName = (description: string) =>
  z.string().min(1).max(253).regex(DNS_SUBDOMAIN).describe(description);

/** A model name as LiteLLM knows it (`model_name`): any text without white space. */
export const modelName = (description: string) =>
  z.string().min(1).max(256).regex(/^\S+$/).describe(description);

// --- money and durations -------------------------------------------------------------

/** Money is US dollars as a decimal string ("100", "12.50"): exact, and diff-stable in Git. */
export const MONEY = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$/;
export const money = (description: string) =>
  z
    .string()
    .max(19)
    .regex(MONEY)
    .describe(`${description} US dollars as a decimal string, e.g. "100" or "12.50".`);

/** The largest whole-dollar amount MONEY allows (12 integer digits). */
export const MAX_WHOLE_DOLLARS = 999_999_999_999;

/**
 * Money as people write it in a spec: a whole number of dollars (`100`) or a decimal string
 * (`"12.50"`), the way resource quantities take both (x-kubernetes-int-or-string). A float
 * (`12.5`) stays refused at apply time: it is not exact, and the schema's message says to
 * quote it. The operator reads either form as the same exact amount (dollarsOf).
 */
export const moneyInput = (description: string) =>
  z
    .union([z.int().min(0).max(MAX_WHOLE_DOLLARS), z.string().max(19).regex(MONEY)])
    .describe(
      `${description} US dollars: a whole number (100) or a decimal string ("12.50"); quote amounts with cents, a bare 12.5 is refused.`,
    );
export type MoneyInput = z.infer<ReturnType<typeof moneyInput>>;

/** The exact decimal string of a spec amount: 100 → "100", "12.50" → "12.50". */
export function dollarsOf(amount: MoneyInput): string;
export function dollarsOf(amount: MoneyInput | undefined): string | undefined;
export function dollarsOf(amount: MoneyInput | undefined): string | undefined {
  return typeof amount === 'number' ? String(amount) : amount;
}

/**
 * Durations are `<count><unit>`, units s, m, h, d, w — LiteLLM's own notation, so a value
 * is passed through unchanged. Budget periods may also use `mo` (a calendar month, reset
 * by LiteLLM on the month boundary).
 */
export const DURATION = /^[1-9][0-9]{0,5}(s|m|h|d|w)$/;
export const BUDGET_DURATION = /^[1-9][0-9]{0,5}(s|m|h|d|w|mo)$/;
export const duration = (description: string) =>
  z
    .string()
    .max(8)
    .regex(DURATION)
    .describe(`${description} A count and a unit (s, m, h, d, w), e.g. "90d" or "12h".`);

/** CEL expression giving the seconds of a DURATION-shaped string field. */
export function celSeconds(field: string): string {
  const unit = `${field}.substring(size(${field}) - 1)`;
  const count = `int(${field}.substring(0, size(${field}) - 1))`;
  return `(${count} * {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}[${unit}])`;
}

// --- limits --------------------------------------------------------------------------

const count = (description: string) => z.int().min(0).max(1_000_000_000).describe(description);

/** The fields every limits block has; an absent field means "no limit", 0 means "none allowed". */
export const limitFields = {
  maxBudget: moneyInput('Spend allowed per budget period (or in total without one), in').optional(),
  budgetDuration: z
    .string()
    .max(8)
    .regex(BUDGET_DURATION)
    .describe('How often spend resets, e.g. "30d" or "1mo". Requires maxBudget.')
    .optional(),
  tpm: count('Tokens per minute.').optional(),
  rpm: count('Requests per minute.').optional(),
  maxParallelRequests: count('Requests in flight at once.').optional(),
  alertThresholds: setOf(
    z.int().min(1).max(1000).describe('Percent of maxBudget.'),
    10,
    'Percentages of maxBudget at which a BudgetThresholdReached Event is recorded, each once per budget period (Warning from 90). Default: the operator-wide BUDGET_ALERT_THRESHOLDS (50, 75, 90, 100).',
  ).optional(),
};

export const budgetDurationNeedsMaxBudget: CelRule = {
  rule: '!has(self.budgetDuration) || has(self.maxBudget)',
  message: 'budgetDuration needs maxBudget: a reset period without a budget has nothing to reset',
  fieldPath: '.budgetDuration',
};

export function limitsSchema(description: string) {
  return cel(z.object(limitFields).describe(description), budgetDurationNeedsMaxBudget);
}
export const Limits = limitsSchema('Budget and rate limits.');
export type Limits = z.infer<typeof Limits>;

export const DeletionPolicy = z
  .enum(['Delete', 'Orphan'])
  .default('Delete')
  .describe(
    'What happens in LiteLLM when this object is deleted: Delete removes it there too; Orphan leaves it.',
  );

// --- status --------------------------------------------------------------------------

/** Exactly metav1.Condition, with the same bounds the apiserver applies to built-in types. */
export const Condition = z.object({
  type: z
    .string()
    .max(316)
    .regex(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
    )
    .describe('Type of condition in CamelCase, e.g. Ready.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
  observedGeneration: z
    .int()
    .min(0)
    .optional()
    .describe('The .metadata.generation the condition was set from.'),
  lastTransitionTime: z.iso.datetime({ offset: true }).describe('When the status last changed.'),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe('Machine-readable CamelCase reason for the last transition.'),
  message: z.string().max(32768).describe('Human-readable details.'),
});
export type Condition = z.infer<typeof Condition>;

export const conditions = () =>
  mapOf(
    Condition,
    ['type'],
    32,
    "The latest observations of the object's state (Ready, Synced, and kind-specific ones).",
  );

/** A fraction written as a decimal with four places: "0.4312"; above 1 once overspent. */
export const USED_FRACTION = /^[0-9]{1,19}\.[0-9]{4}$/;

/**
 * The budget in force in LiteLLM and how much of it is used, as the spend sync
 * (operator/src/controllers/spend/) reads it from LiteLLM. Tenants cannot write it: it is
 * status, and their role has no access to the status subresource.
 */
export const budgetStatus = () =>
  z
    .object({
      maxBudget: money('The budget in force in LiteLLM (its max_budget), in'),
      usedFraction: z
        .string()
        .max(24)
        .regex(USED_FRACTION)
        .describe('spend / maxBudget, four decimal places, e.g. "0.4312"; 1 or more: spent.'),
      periodStart: z.iso
        .datetime({ offset: true })
        .optional()
        .describe(
          'When the current budget period began: resetsAt minus the budget duration (a calendar month for mo). Absent without a budget duration.',
        ),
      resetsAt: z.iso
        .datetime({ offset: true })
        .optional()
        .describe('When LiteLLM resets spend to 0 next (its budget_reset_at).'),
      alertsSent: z
        .object({
          periodStart: z.iso
            .datetime({ offset: true })
            .optional()
            .describe('The budget period the thresholds were reached in (absent: no period).'),
          thresholds: setOf(
            z.int().min(1).max(1000),
            10,
            'Thresholds (percent) already alerted in that period, ascending.',
          ),
          exhaustionProjected: z
            .boolean()
            .optional()
            .describe('The projected-exhaustion alert was sent in that period.'),
          softBudget: z
            .boolean()
            .optional()
            .describe('The soft budget alert was sent in that period.'),
        })
        .optional()
        .describe(
          'The budget alerts recorded this period, so a restart does not repeat them; a new period starts afresh.',
        ),
    })
    .describe('The budget, present when one applies.');
export type BudgetStatus = z.infer<ReturnType<typeof budgetStatus>>;

export const observedGeneration = () =>
  z.int().min(0).optional().describe('The .metadata.generation this status was computed from.');
