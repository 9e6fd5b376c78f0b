// Which models a VirtualKey may reach, and whether it may exist at all, decided from the
// caches alone. Access is re-evaluated on every reconcile, never snapshotted at mint time:
// a subscription that stops being Active, a user who leaves the team, a namespace the team
// gives up, all change the outcome here and so the key in LiteLLM and the gateway.
//
//   team        the one Team claiming the namespace; none, several, or one being deleted
//               deny the key. A Team not yet in LiteLLM (Synced≠True) makes a new key wait.
//   user        (personal keys) only where the API server checks who may name whom (the
//               admission policy, admission-policy.ts); the User must exist, hold a role
//               that may have keys (not viewer; not admin, whose LiteLLM proxy_admin role a
//               key would carry), be Ready (in LiteLLM), and be a member of the team in
//               LiteLLM (Team.status.members) — else denied.
//   models      requested (spec.models, or all) ∩ the team's Active subscriptions in this
//               namespace ∩ the models the LiteLLM team has (Team.status.models), so a key
//               never names a model its LiteLLM team does not allow yet.
import type { ModelSubscription, Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import { isConditionTrue } from '../../runtime/conditions.ts';
import { isDeleting } from '../../runtime/object.ts';
import type { AdmissionPolicyState } from './admission-policy.ts';

/** Why a key cannot be used; a condition reason and message. */
export interface Denial {
  reason:
    | 'NoTeam'
    | 'NamespaceConflict'
    | 'AdmissionPolicyMissing'
    | 'UserNotFound'
    | 'UserRoleCannotHaveKeys'
    | 'UserNotMember';
  message: string;
}

/** Why a key cannot be made yet (it waits, with this condition, and is enqueued again). */
export interface Wait {
  reason: 'TeamNotReady' | 'UserNotReady' | 'ModelsNotSubscribed' | 'NoSubscribedModels';
  message: string;
}

export interface KeyAccess {
  team?: { name: string; teamId: string };
  user?: { name: string; userId: string };
  /** Requested ∩ subscribed ∩ LiteLLM team models, sorted. */
  models: string[];
  /** Requested models without an Active subscription of this team, sorted. */
  missing: string[];
  /** Set: the key must not work (a made key is blocked). */
  denial?: Denial;
  /** Set: a key not made yet must not be made now. A made key keeps working. */
  wait?: Wait;
}

export interface AccessInputs {
  key: Pick<VirtualKey, 'metadata' | 'spec'>;
  /** Teams whose spec.namespaces include the key's namespace. */
  teams: readonly Team[];
  /** The User named by spec.user, if any. */
  user: User | undefined;
  /** ModelSubscriptions in the key's namespace. */
  subscriptions: readonly Pick<ModelSubscription, 'spec' | 'status'>[];
  /** Whether the API server checks spec.user (personal keys are refused where it does not). */
  admissionPolicy: AdmissionPolicyState;
}

export function keyAccess({
  key,
  teams,
  user,
  subscriptions,
  admissionPolicy,
}: AccessInputs): KeyAccess {
  const namespace = key.metadata.namespace!;
  const claiming = teams.filter((t) => !isDeleting(t));
  if (claiming.length === 0) {
    return {
      models: [],
      missing: [...(key.spec.models ?? [])].sort(),
      denial: {
        reason: 'NoTeam',
        message: `no Team owns namespace ${namespace}: a Team admin adds it to a Team's spec.namespaces`,
      },
    };
  }
  if (claiming.length > 1) {
    const names = claiming.map((t) => t.metadata.name!).sort();
    return {
      models: [],
      missing: [...(key.spec.models ?? [])].sort(),
      denial: {
        reason: 'NamespaceConflict',
        message: `Teams ${names.join(', ')} all claim namespace ${namespace}; no key works until one of them lets it go`,
      },
    };
  }
  const teamObject = claiming[0]!;
  const teamName = teamObject.metadata.name!;
  const team = { name: teamName, teamId: teamObject.status?.teamId ?? teamName };

  const subscribed = new Set(
    subscriptions
      .filter((s) => s.status?.phase === 'Active' && s.status.team === teamName)
      .map((s) => s.spec.model),
  );
  const inLiteLLM = new Set(teamObject.status?.models ?? []);
  const requested = key.spec.models?.length ? key.spec.models : [...subscribed];
  const models = requested.filter((m) => subscribed.has(m) && inLiteLLM.has(m)).sort();
  const missing = requested.filter((m) => !subscribed.has(m)).sort();
  // Subscribed, but the Team controller has not put them on the LiteLLM team yet.
  const syncing = requested.filter((m) => subscribed.has(m) && !inLiteLLM.has(m)).sort();
  const access: KeyAccess = { team, models, missing };

  const userName = key.spec.user;
  if (userName) {
    if (!admissionPolicy.inForce) {
      access.denial = {
        reason: 'AdmissionPolicyMissing',
        message: `personal keys (spec.user) are refused: the API server does not check who names whom (${admissionPolicy.why}); install crds/admission/, or use a team service key`,
      };
      return access;
    }
    if (!user || isDeleting(user)) {
      access.denial = {
        reason: 'UserNotFound',
        message: `User ${userName} does not exist`,
      };
      return access;
    }
    const role = user.spec?.role ?? 'user';
    if (role === 'viewer' || role === 'admin') {
      access.denial = {
        reason: 'UserRoleCannotHaveKeys',
        message:
          role === 'viewer'
            ? `User ${userName} has role viewer, which reads only and has no keys`
            : `User ${userName} has role admin (LiteLLM proxy_admin); a key of theirs would carry that role, so admins get no personal keys: use a team service key`,
      };
      return access;
    }
    const userId = user.status?.userId ?? userName;
    access.user = { name: userName, userId };
    if (!isConditionTrue(user.status?.conditions, 'Ready')) {
      access.wait = {
        reason: 'UserNotReady',
        message: `waiting for User ${userName} to be Ready (created in LiteLLM)`,
      };
    } else if (!(teamObject.status?.members ?? []).some((m) => m.user === userName)) {
      access.denial = {
        reason: 'UserNotMember',
        message: `User ${userName} is not a member of Team ${teamName}`,
      };
      return access;
    }
  }

  if (
    !access.wait &&
    (!isConditionTrue(teamObject.status?.conditions, 'Synced') || !teamObject.status?.teamId)
  ) {
    access.wait = {
      reason: 'TeamNotReady',
      message: `waiting for Team ${teamName} to be created in LiteLLM`,
    };
  } else if (!access.wait && syncing.length > 0) {
    access.wait = {
      reason: 'TeamNotReady',
      message: `waiting for Team ${teamName} to allow ${syncing.join(', ')} in LiteLLM`,
    };
  } else if (!access.wait && key.spec.requireAllModels && missing.length > 0) {
    access.wait = {
      reason: 'ModelsNotSubscribed',
      message: `${plural(missing, 'model')} ${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no Active ModelSubscription of Team ${teamName} in ${namespace}; the key is made once all are subscribed (or set requireAllModels: false)`,
    };
  } else if (!access.wait && models.length === 0) {
    access.wait = {
      reason: 'NoSubscribedModels',
      message:
        requested.length === 0
          ? `Team ${teamName} has no Active ModelSubscription in ${namespace}`
          : `none of the requested models is usable by Team ${teamName} yet`,
    };
  }
  return access;
}

function plural(items: readonly unknown[], word: string): string {
  return items.length === 1 ? word : `${word}s`;
}
