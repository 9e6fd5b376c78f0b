// LiteLLM's budget_exceeded error for a key, whichever side found the budget spent: the
// operator (KeyPolicy.budgetExceeded, from LiteLLM's figures) or the gateway's own counters.
// The message names the scope as LiteLLM's does (Key=…, Team=…, User=…), with the VirtualKey's
// namespace/name for a key: never its hash.
import type { KeyPolicy } from '../../../contracts/routing/schema.ts';
import { budgetExceeded, type OpenAIError } from '../errors/openai-error.ts';

export function budgetRefusal(
  policy: KeyPolicy,
  scope: 'key' | 'team' | 'user',
  id: string,
  spend: string,
  maxBudget: string,
): OpenAIError {
  const who =
    scope === 'key'
      ? `Key=${policy.owner.namespace}/${policy.owner.name}`
      : scope === 'team'
        ? `Team=${id}`
        : `User=${id}`;
  return budgetExceeded(who, spend, maxBudget);
}
