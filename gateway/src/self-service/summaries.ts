// What the self-service API shows of each object: status as a person reads it (phase, reason,
// message), never a key value, never a Secret.
import type { Team, User, VirtualKey } from '../../../crds/api/index.ts';

interface Ready {
  /** Ready, NotReady, or Pending (the operator has not looked at it yet). */
  phase: 'Ready' | 'NotReady' | 'Pending';
  reason?: string;
  message?: string;
}

function readiness(object: {
  metadata: { generation?: number };
  status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
}): Ready {
  const ready = object.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready) return { phase: 'Pending' };
  return {
    phase: ready.status === 'True' ? 'Ready' : 'NotReady',
    reason: ready.reason,
    message: ready.message,
  };
}

export function keySummary(key: VirtualKey) {
  return {
    namespace: key.metadata.namespace ?? '',
    name: key.metadata.name ?? '',
    user: key.spec.user ?? null,
    team: key.status?.team ?? null,
    ...readiness(key),
    /** Revoked: the operator is removing it from LiteLLM, then it disappears. */
    deleting: key.metadata.deletionTimestamp !== undefined,
    models: key.status?.models ?? [],
    requestedModels: key.spec.models ?? [],
    missingModels: key.status?.missingModels ?? [],
    expiresAt: key.status?.expiresAt ?? key.spec.expiresAt ?? null,
    suspended: key.spec.suspended ?? false,
    spend: key.status?.spend ?? null,
    budget: key.spec.limits?.maxBudget ?? null,
    budgetDuration: key.spec.limits?.budgetDuration ?? null,
    secretName: key.status?.secretName ?? null,
    createdAt: key.metadata.creationTimestamp ?? null,
  };
}
export type KeySummary = ReturnType<typeof keySummary>;

export function userSummary(user: User) {
  return {
    name: user.metadata.name ?? '',
    email: user.spec.email ?? null,
    displayName: user.spec.displayName ?? null,
    role: user.spec.role,
    groups: user.spec.groups ?? [],
    teams: user.status?.teams ?? [],
    spend: user.status?.spend ?? null,
    budget: user.spec.limits?.maxBudget ?? null,
    lastLoginAt: user.status?.lastLoginAt ?? null,
    ...readiness(user),
  };
}

export function teamSummary(team: Team) {
  return {
    name: team.metadata.name ?? '',
    displayName: team.spec.displayName ?? null,
    namespaces: team.spec.namespaces ?? [],
    allowedModels: team.spec.models ?? [],
    models: team.status?.models ?? [],
    memberCount: team.status?.memberCount ?? null,
    spend: team.status?.spend ?? null,
    budget: team.spec.limits?.maxBudget ?? null,
    ...readiness(team),
  };
}
