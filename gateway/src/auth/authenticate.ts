// Who is calling: the key from the request's credential headers, looked up by its hash in the
// routing view, then the key's own state (expired, suspended, out of budget). Refusals are
// LiteLLM's errors. A key the view has cached is checked synchronously (no promise on the hot
// path); only a cache miss waits for Redis.
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyPolicy } from '../../../contracts/routing/schema.ts';
import { budgetRefusal } from '../budget/budget-refusal.ts';
import {
  conflictingKeys,
  expiredKey,
  keyUnverifiable,
  malformedKey,
  missingKey,
  suspendedKey,
  unknownKey,
} from '../errors/openai-error.ts';
import { hashKey } from '../../../contracts/routing/key-hash.ts';
import type { Lookup, RoutingView } from '../routing/routing-view.ts';
import type { KeyReader } from './key-from-request.ts';

export interface Caller {
  key: string;
  policy: KeyPolicy;
}

/** The caller, or a thrown OpenAIError; a Promise only when the key was not cached. */
export function authenticate(
  headers: IncomingHttpHeaders,
  view: RoutingView,
  reader: KeyReader,
  now = Date.now(),
): Caller | Promise<Caller> {
  const reading = reader.read(headers);
  if (reading.kind === 'none') throw missingKey();
  if (reading.kind === 'malformed') throw malformedKey(reading.header);
  if (reading.kind === 'conflict') throw conflictingKeys(reading.headers);
  const key = reading.key;
  const hash = hashKey(key);
  const cached = view.cached(hash);
  if (cached !== undefined) return callerOf(key, cached, now);
  return view.load(hash).then((lookup) => callerOf(key, lookup, now));
}

function callerOf(key: string, lookup: Lookup, now: number): Caller {
  if (lookup.kind === 'absent') throw unknownKey();
  if (lookup.kind === 'unavailable') throw keyUnverifiable();
  const { policy, expiresAtMs } = lookup.entry;
  if (expiresAtMs <= now) throw expiredKey(policy.expiresAt!, new Date(now));
  if (policy.suspended) throw suspendedKey(policy.suspendedReason);
  // The operator's word, from LiteLLM's figures: it holds whatever the gateway's own counters
  // say (and alone while Redis, which holds them, is down or lost them).
  const budget = policy.budgetExceeded;
  if (budget) throw budgetRefusal(policy, budget.scope, budget.id, budget.spend, budget.maxBudget);
  return { key, policy };
}
