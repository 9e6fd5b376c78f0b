// ModelSubscription (namespaced): a team's request to use one model, with its own quota.
// Active only when the owning Team allows the model (approval lives in the admin-owned Team).
import { z } from 'zod';
import { type KindDefinition, readyColumns } from './kind.ts';
import { cel, conditions, limitsSchema, modelName, observedGeneration } from './meta.ts';

export const SubscriptionPhase = z
  .enum(['Active', 'Pending', 'Denied', 'Suspended'])
  .describe(
    'Active: usable. Pending: waiting for approval or for the model to exist. Denied: cannot be granted (e.g. no Team owns the namespace). Suspended: switched off.',
  );
export type SubscriptionPhase = z.infer<typeof SubscriptionPhase>;

export const ModelSubscriptionSpec = z
  .object({
    model: cel(modelName('The LiteLLM model name, e.g. granite-3-8b.'), {
      rule: 'self == oldSelf',
      message: 'model is immutable: create another ModelSubscription for another model',
    }),
    limits: limitsSchema("This team's quota on this model (enforced by the gateway).").optional(),
    suspended: z
      .boolean()
      .default(false)
      .describe('Switch the subscription off without deleting it.'),
  })
  .describe('Desired state of the ModelSubscription.');
export type ModelSubscriptionSpec = z.infer<typeof ModelSubscriptionSpec>;

const perToken = z
  .string()
  .max(32)
  .regex(/^[0-9]+(\.[0-9]+)?([eE]-?[0-9]+)?$/)
  .describe('US dollars per token, as a decimal string.');

export const ModelInfo = z
  .object({
    provider: z
      .string()
      .max(128)
      .optional()
      .describe('LiteLLM provider, e.g. openai or hosted_vllm.'),
    mode: z.string().max(64).optional().describe('chat, completion, embedding, …'),
    maxInputTokens: z.int().min(0).optional().describe('Context window in tokens.'),
    maxOutputTokens: z.int().min(0).optional().describe('Largest completion in tokens.'),
    inputCostPerToken: perToken.optional(),
    outputCostPerToken: perToken.optional(),
  })
  .describe('Facts about the model, as LiteLLM reports them.');

export const ModelSubscriptionStatus = z
  .object({
    observedGeneration: observedGeneration(),
    conditions: conditions().optional(),
    phase: SubscriptionPhase.optional(),
    team: z
      .string()
      .max(63)
      .optional()
      .describe('The Team that owns this namespace and so subscribes.'),
    modelInfo: ModelInfo.optional(),
  })
  .describe('Observed state of the ModelSubscription.');
export type ModelSubscriptionStatus = z.infer<typeof ModelSubscriptionStatus>;

export const modelSubscriptionKind: KindDefinition<
  typeof ModelSubscriptionSpec,
  typeof ModelSubscriptionStatus
> = {
  kind: 'ModelSubscription',
  plural: 'modelsubscriptions',
  singular: 'modelsubscription',
  shortNames: ['msub'],
  scope: 'Namespaced',
  description:
    "A ModelSubscription asks for one model for the Team that owns this namespace, with its own quota. It is Active once the Team's admins allow the model.",
  spec: ModelSubscriptionSpec,
  status: ModelSubscriptionStatus,
  printerColumns: [
    { name: 'Model', type: 'string', jsonPath: '.spec.model' },
    { name: 'Team', type: 'string', jsonPath: '.status.team' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    ...readyColumns,
  ],
};
