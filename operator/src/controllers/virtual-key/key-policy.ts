// The gateway's record for one key (contracts/routing/schema.ts › KeyPolicy): who it belongs to,
// the models it reaches now, and the limits of the key, its team and the team's
// subscription to each model, and the budget LiteLLM says is spent (key-budget.ts). The
// gateway enforces the subscription limits itself: LiteLLM's open-source edition refuses
// per-model key budgets.
import type { Limits, ModelSubscription, Team, VirtualKey } from '../../../../crds/api/index.ts';
import { dollarsOf } from '../../../../crds/api/meta.ts';
import {
  ROUTING_SCHEMA_VERSION,
  type KeyPolicy,
  type RoutingLimits,
  type SubscriptionLimits,
} from '../../../../contracts/routing/schema.ts';
import type { BudgetExceeded } from './key-budget.ts';

export interface PolicyInputs {
  key: Pick<VirtualKey, 'metadata' | 'spec'>;
  keyHash: string;
  team: Team | undefined;
  userId?: string;
  models: readonly string[];
  /** Active subscriptions of the team in the key's namespace. */
  subscriptions: readonly Pick<ModelSubscription, 'metadata' | 'spec' | 'status'>[];
  expiresAt?: Date;
  /** Why the key must not work now (suspended, denied); undefined when it may. */
  blockedReason?: string;
  /** The budget LiteLLM says this key has spent (its own or its team's); undefined: none. */
  budgetExceeded?: BudgetExceeded;
}

export function routingLimits(limits: Partial<Limits> | undefined): RoutingLimits | undefined {
  if (!limits) return undefined;
  const out: RoutingLimits = {};
  if (limits.rpm !== undefined) out.rpm = limits.rpm;
  if (limits.tpm !== undefined) out.tpm = limits.tpm;
  if (limits.maxParallelRequests !== undefined)
    out.maxParallelRequests = limits.maxParallelRequests;
  if (limits.maxBudget !== undefined) out.maxBudget = dollarsOf(limits.maxBudget);
  if (limits.budgetDuration !== undefined) out.budgetDuration = limits.budgetDuration;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function keyPolicy(inputs: PolicyInputs): KeyPolicy {
  const { key, team } = inputs;
  const models = [...inputs.models].sort();
  const subscriptions: Record<string, SubscriptionLimits> = {};
  for (const subscription of inputs.subscriptions) {
    const model = subscription.spec.model;
    if (!models.includes(model)) continue;
    const limits = routingLimits(subscription.spec.limits);
    // The uid names the subscription's counters in the gateway (per subscription, not per
    // team and model: two namespaces of one team each have their own).
    const uid = subscription.metadata?.uid;
    if (limits) subscriptions[model] = uid ? { ...limits, uid } : limits;
  }
  const keyLimits = routingLimits(key.spec.limits);
  const teamLimits = routingLimits(team?.spec.limits);
  const enabledRoutes = [...(team?.spec.gateway?.enabledRoutes ?? [])].sort();
  return {
    schemaVersion: ROUTING_SCHEMA_VERSION,
    keyHash: inputs.keyHash,
    owner: {
      namespace: key.metadata.namespace!,
      name: key.metadata.name!,
      uid: key.metadata.uid!,
    },
    team: team?.status?.teamId ?? team?.metadata.name ?? '',
    ...(inputs.userId ? { user: inputs.userId } : {}),
    models,
    limits: {
      ...(keyLimits ? { key: keyLimits } : {}),
      ...(teamLimits ? { team: teamLimits } : {}),
      subscriptions,
    },
    ...(enabledRoutes.length > 0 ? { enabledRoutes } : {}),
    ...(inputs.expiresAt ? { expiresAt: inputs.expiresAt.toISOString() } : {}),
    suspended: inputs.blockedReason !== undefined,
    ...(inputs.blockedReason ? { suspendedReason: inputs.blockedReason } : {}),
    ...(inputs.budgetExceeded ? { budgetExceeded: { ...inputs.budgetExceeded } } : {}),
  };
}
