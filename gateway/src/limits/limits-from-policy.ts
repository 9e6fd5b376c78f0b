// The scopes one request is limited in, from the key's routing record: the key itself, the
// team's subscription to the requested model (named by the ModelSubscription's uid), and
// the team, in that order (the order
// refusals are reported in). A scope without rpm, tpm or maxParallelRequests is left out,
// so a key without limits costs no Redis round trip.
import type { KeyPolicy, RoutingLimits } from '../../../contracts/routing/schema.ts';
import type { LimitScope, ScopeKind } from './rate-limiter.ts';

export function limitScopes(policy: KeyPolicy, model: string): LimitScope[] {
  const { limits } = policy;
  const scopes: LimitScope[] = [];
  const add = (kind: ScopeKind, id: string, l: RoutingLimits | undefined) => {
    if (!l) return;
    if (l.rpm === undefined && l.tpm === undefined && l.maxParallelRequests === undefined) return;
    const scope: LimitScope = { kind, id };
    if (l.rpm !== undefined) scope.rpm = l.rpm;
    if (l.tpm !== undefined) scope.tpm = l.tpm;
    if (l.maxParallelRequests !== undefined) scope.maxParallelRequests = l.maxParallelRequests;
    scopes.push(scope);
  };
  add('key', policy.keyHash, limits.key);
  // An own-property lookup: a model named like an Object.prototype member finds nothing.
  const subscription = Object.hasOwn(limits.subscriptions, model)
    ? limits.subscriptions[model]
    : undefined;
  // Counted per subscription (its uid). A record from an operator that predates the uid is
  // counted per team and model, as then, so old and new gateways agree during an upgrade.
  add('subscription', subscription?.uid ?? model, subscription);
  add('team', policy.team, limits.team);
  return scopes;
}
