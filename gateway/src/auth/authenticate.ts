// Who is calling: the key from the request, looked up by its hash in the routing view, then
// the key's own state (expired, suspended, out of budget). Refusals are LiteLLM's errors.
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyPolicy } from '../../../crds/routing/schema.ts';
import {
  budgetExceeded,
  expiredKey,
  keyUnverifiable,
  missingKey,
  suspendedKey,
  unknownKey,
} from '../errors/openai-error.ts';
import { hashKey } from '../../../crds/routing/key-hash.ts';
import type { RoutingView } from '../routing/routing-view.ts';
import { keyFromHeaders } from './key-from-request.ts';

export interface Caller {
  key: string;
  policy: KeyPolicy;
}

export async function authenticate(
  headers: IncomingHttpHeaders,
  view: RoutingView,
  now = Date.now(),
): Promise<Caller> {
  const key = keyFromHeaders(headers);
  if (key === undefined) throw missingKey();
  const hash = hashKey(key);
  const lookup = view.cached(hash) ?? (await view.load(hash));
  if (lookup.kind === 'absent') throw unknownKey();
  if (lookup.kind === 'unavailable') throw keyUnverifiable();
  const { policy, expiresAtMs } = lookup.entry;
  if (expiresAtMs <= now) throw expiredKey(policy.expiresAt!, new Date(now));
  if (policy.suspended) throw suspendedKey(policy.suspendedReason);
  const budget = policy.budgetExceeded;
  if (budget) {
    const who =
      budget.scope === 'key'
        ? `Key=${policy.owner.namespace}/${policy.owner.name}`
        : budget.scope === 'team'
          ? `Team=${budget.id}`
          : `User=${budget.id}`;
    throw budgetExceeded(who, budget.spend, budget.maxBudget);
  }
  return { key, policy };
}
