// The gateway's record for one key (contracts/routing/schema.ts › KeyPolicy): who it belongs to,
// the models it reaches now, and the limits of the key, its team and the team's
// subscription to each model, and the budget LiteLLM says is spent (key-budget.ts). The
// gateway enforces the subscription limits itself: LiteLLM's open-source edition refuses
// per-model key budgets. The budget periods (spendPeriods) name the gateway's spend counters
// as the spend sync names them (redis-spend-counters.ts): both take spendPeriodId of the
// resetsAt LiteLLM reported, which the sync keeps in status.budget (operator-owned status).
import type { Limits, ModelSubscription, Team, VirtualKey } from '../../../../crds/api/index.ts';
import { dollarsOf, type BudgetStatus, type MoneyInput } from '../../../../crds/api/meta.ts';
import { spendPeriodId } from '../../../../contracts/routing/redis-layout.ts';
import {
  ROUTING_SCHEMA_VERSION,
  type KeyPolicy,
  type RoutingLimits,
  type SpendPeriod,
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
  /** The budget periods the spend sync reported (budgetPeriods); undefined: none known. */
  spendPeriods?: KeyPolicy['spendPeriods'];
}

/**
 * The current budget period of the key and of its team, from the status.budget the spend
 * sync wrote. Only a period with a reset time is named: without one the budget has no
 * duration (the gateway counts it under "total" by itself), or the sync has not read it yet
 * (then the gateway must not count it under "total", which never resets).
 */
export function budgetPeriods(
  keyBudget: Pick<BudgetStatus, 'resetsAt'> | undefined,
  teamBudget: Pick<BudgetStatus, 'resetsAt'> | undefined,
): KeyPolicy['spendPeriods'] {
  const key = periodOf(keyBudget);
  const team = periodOf(teamBudget);
  if (!key && !team) return undefined;
  return { ...(key ? { key } : {}), ...(team ? { team } : {}) };
}

function periodOf(budget: Pick<BudgetStatus, 'resetsAt'> | undefined): SpendPeriod | undefined {
  const resetsAt = budget?.resetsAt;
  return resetsAt ? { periodId: spendPeriodId(resetsAt), resetsAt } : undefined;
}

export function routingLimits(
  limits: (Partial<Limits> & { softBudget?: MoneyInput }) | undefined,
): RoutingLimits | undefined {
  if (!limits) return undefined;
  const out: RoutingLimits = {};
  if (limits.rpm !== undefined) out.rpm = limits.rpm;
  if (limits.tpm !== undefined) out.tpm = limits.tpm;
  if (limits.maxParallelRequests !== undefined)
    out.maxParallelRequests = limits.maxParallelRequests;
  if (limits.maxBudget !== undefined) out.maxBudget = dollarsOf(limits.maxBudget);
  if (limits.budgetDuration !== undefined) out.budgetDuration = limits.budgetDuration;
  if (limits.softBudget !== undefined) out.softBudget = dollarsOf(limits.softBudget);
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
    ...(inputs.spendPeriods ? { spendPeriods: inputs.spendPeriods } : {}),
  };
}
