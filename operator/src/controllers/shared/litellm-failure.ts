// How a failed LiteLLM call shows on an object. Every controller that talks to LiteLLM
// reports failures the same way: a Ready=False / Synced=False condition first (so
// `kubectl get` says why), then the decision for the queue:
//
//   LiteLLMRejected     LiteLLM refused the request as invalid, or it needs an Enterprise
//                       licence: retrying the same spec cannot help → TerminalError
//   LiteLLMUnavailable  LiteLLM is down, timing out, answering 502/503/504 or 429
//   LiteLLMError        anything else (a 500, a master key it rejects, an answer outside
//                       the contract)
// The last two are rethrown as they are, so the runtime backs off or honours Retry-After.
// The reasons are the Team controller's (team/team-conditions.ts › failureReason).
import { findLiteLLMError, type LiteLLMError } from '../../litellm/errors.ts';
import { TerminalError } from '../../runtime/result.ts';

export type LiteLLMFailureReason = 'LiteLLMRejected' | 'LiteLLMUnavailable' | 'LiteLLMError';

export interface LiteLLMFailure {
  reason: LiteLLMFailureReason;
  /** For the condition and the Event: LiteLLM's message, already free of secrets. */
  message: string;
  terminal: boolean;
  error: LiteLLMError;
}

/** The failure `err` stands for, or undefined when it is not a LiteLLM error. */
export function litellmFailure(err: unknown): LiteLLMFailure | undefined {
  const error = findLiteLLMError(err);
  if (!error) return undefined;
  return {
    reason: reasonFor(error),
    message: error.message,
    terminal: error.terminal,
    error,
  };
}

/** What the reconciler throws after recording `failure`: terminal errors are not retried. */
export function reconcileErrorFor(failure: LiteLLMFailure, original: unknown): unknown {
  return failure.terminal ? new TerminalError(failure.message, { cause: original }) : original;
}

function reasonFor(error: LiteLLMError): LiteLLMFailureReason {
  if (error.terminal) return 'LiteLLMRejected';
  return error.kind === 'unavailable' || error.kind === 'rateLimited'
    ? 'LiteLLMUnavailable'
    : 'LiteLLMError';
}
