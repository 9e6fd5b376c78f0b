// VirtualKey (namespaced): an API key for the Team owning this namespace. The operator
// mints it, writes it to a Secret first, then registers it in LiteLLM.
import { z } from 'zod';
import { type KindDefinition, readyColumns } from './kind.ts';
import {
  budgetStatus,
  budgetDurationNeedsMaxBudget,
  cel,
  celSeconds,
  conditions,
  duration,
  limitFields,
  modelName,
  money,
  moneyInput,
  objectName,
  observedGeneration,
  setOf,
} from './meta.ts';

/** Secret data keys: what Kubernetes accepts and an env var name can be. */
const secretDataKey = (description: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[-._a-zA-Z0-9]+$/)
    .describe(description);

export const KeySecret = cel(
  z
    .object({
      name: objectName('Secret name. Defaults to the VirtualKey name.').optional(),
      apiKeyKey: secretDataKey('Data key for the API key.').default('OPENAI_API_KEY'),
      baseUrlKey: secretDataKey('Data key for the gateway base URL.').default('OPENAI_BASE_URL'),
    })
    .describe('The Secret the key is written to. The defaults suit `envFrom` with OpenAI SDKs.'),
  {
    rule: 'self.apiKeyKey != self.baseUrlKey',
    message: 'apiKeyKey and baseUrlKey must differ: both are keys in the same Secret',
  },
);

export const Rotation = cel(
  z
    .object({
      every: duration('Mint a new key this often.').optional(),
      gracePeriod: duration('How long the previous key keeps working after a rotation.').default(
        '1h',
      ),
      requestedAt: z.iso
        .datetime({ offset: true })
        .optional()
        .describe(
          'Rotate once now (RFC 3339, e.g. the time of asking): the operator rotates when this, in whole seconds, is later than status.lastRotatedAt and has passed, keeping gracePeriod for the old key; `kubectl llm key rotate` sets it. A value at or before the current key was minted does nothing.',
        ),
    })
    .describe(
      'Rotation, scheduled (every) or asked for (requestedAt): a new key goes into the Secret; the old one works for gracePeriod, then is deleted.',
    ),
  {
    rule: `!has(self.every) || ${celSeconds('self.every')} >= 3600`,
    message: 'rotation.every must be at least 1h',
    fieldPath: '.every',
  },
  {
    rule: `!has(self.every) || ${celSeconds('self.gracePeriod')} < ${celSeconds('self.every')}`,
    message:
      'rotation.gracePeriod must be shorter than rotation.every, or two old keys would be live at once',
    fieldPath: '.gracePeriod',
  },
);

const keyLimits = cel(
  z
    .object({
      ...limitFields,
      softBudget: moneyInput('Spend at which LiteLLM sends a budget alert, in').optional(),
    })
    .describe('Limits for this key.'),
  budgetDurationNeedsMaxBudget,
  {
    rule: '!has(self.softBudget) || !has(self.maxBudget) || double(self.softBudget) <= double(self.maxBudget)',
    message: 'softBudget must not exceed maxBudget',
    fieldPath: '.softBudget',
  },
);

export const VirtualKeySpec = cel(
  z
    .object({
      user: objectName(
        'The User this key belongs to; empty for a service key of the team.',
      ).optional(),
      models: cel(
        setOf(
          modelName('A model name.'),
          256,
          "Models this key may reach, a subset of the team's Active subscriptions in this namespace. Empty: all of them.",
        ),
        {
          rule: "!('*' in self)",
          message: "leave models empty for every subscribed model; '*' is not a model name",
        },
      ).optional(),
      requireAllModels: z
        .boolean()
        .default(true)
        .describe(
          'true: the key is not made (or is not Ready) until every listed model is subscribed. false: it is made for the subscribed subset and a condition names the rest.',
        ),
      limits: keyLimits.optional(),
      expiresAt: z.iso
        .datetime({ offset: true })
        .optional()
        .describe('When the key stops working (RFC 3339).'),
      duration: duration('Key lifetime from creation.').optional(),
      rotation: Rotation.optional(),
      suspended: z.boolean().default(false).describe('Block the key without deleting it.'),
      secret: KeySecret.optional(),
    })
    .describe('Desired state of the VirtualKey.'),
  {
    rule: '!(has(self.expiresAt) && has(self.duration))',
    message: 'set either expiresAt or duration, not both',
  },
  {
    rule: 'has(self.user) == has(oldSelf.user) && (!has(self.user) || self.user == oldSelf.user)',
    message:
      'user is immutable: a key cannot change hands; create another VirtualKey for another user',
    fieldPath: '.user',
  },
);
export type VirtualKeySpec = z.infer<typeof VirtualKeySpec>;

export const VirtualKeyStatus = z
  .object({
    observedGeneration: observedGeneration(),
    conditions: conditions().optional(),
    team: z.string().max(63).optional().describe('The Team owning this namespace.'),
    keyId: z
      .string()
      .max(128)
      .optional()
      .describe(
        "LiteLLM's id for the key (the SHA-256 of the key, never the key itself), recorded before the key is written to the Secret: the Secret's value is the key only when it hashes to this.",
      ),
    keyAlias: z.string().max(512).optional().describe('The key_alias in LiteLLM.'),
    models: setOf(modelName('Model name.'), 256, 'Models the key reaches now.').optional(),
    missingModels: setOf(
      modelName('Model name.'),
      256,
      'Requested models without an Active subscription.',
    ).optional(),
    secretName: objectName('The Secret holding the key.').optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional().describe('When the key expires.'),
    lastRotatedAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('When the current key was minted.'),
    nextRotationAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('When the next rotation is due.'),
    previousKey: z
      .object({
        keyId: z.string().max(128).describe("LiteLLM's id for the previous key (its SHA-256)."),
        validUntil: z.iso
          .datetime({ offset: true })
          .describe('When the previous key stops working (also its expiry in LiteLLM).'),
      })
      .optional()
      .describe(
        'The key a rotation (or a replaced Secret value) superseded, working until validUntil. The operator records rotation state here, where tenants cannot write, not in the Secret.',
      ),
    spend: money('Spend so far in the budget period, in').optional(),
    budget: budgetStatus().optional(),
  })
  .describe('Observed state of the VirtualKey.');
export type VirtualKeyStatus = z.infer<typeof VirtualKeyStatus>;

export const virtualKeyKind: KindDefinition<typeof VirtualKeySpec, typeof VirtualKeyStatus> = {
  kind: 'VirtualKey',
  plural: 'virtualkeys',
  singular: 'virtualkey',
  shortNames: ['vk'],
  scope: 'Namespaced',
  description:
    "A VirtualKey is an API key for the Team owning this namespace, limited to the team's subscribed models. The key is written to a Secret.",
  spec: VirtualKeySpec,
  status: VirtualKeyStatus,
  printerColumns: [
    { name: 'Team', type: 'string', jsonPath: '.status.team' },
    { name: 'Models', type: 'string', jsonPath: '.status.models' },
    { name: 'Secret', type: 'string', jsonPath: '.status.secretName' },
    { name: 'Spend', type: 'string', jsonPath: '.status.spend' },
    { name: 'Budget', type: 'string', jsonPath: '.status.budget.maxBudget' },
    { name: 'Expires', type: 'string', jsonPath: '.status.expiresAt', priority: 1 },
    { name: 'User', type: 'string', jsonPath: '.spec.user', priority: 1 },
    ...readyColumns,
  ],
};
