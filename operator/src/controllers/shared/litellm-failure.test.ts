import { describe, expect, it } from 'vitest';
import { LiteLLMError, type LiteLLMErrorKind } from '../../litellm/errors.ts';
import { isTerminalError, retryAfterMsOf } from '../../runtime/result.ts';
import { litellmFailure, reconcileErrorFor } from './litellm-failure.ts';

const error = (kind: LiteLLMErrorKind, retryAfterMs?: number) =>
  new LiteLLMError({
    kind,
    method: 'POST',
    endpoint: '/user/new',
    detail: 'something',
    object: 'User alice',
    retryAfterMs,
  });

describe('litellmFailure', () => {
  it.each(['invalid', 'enterpriseOnly'] as const)('rejects %s for good', (kind) => {
    const err = error(kind);
    const failure = litellmFailure(err)!;
    expect(failure).toMatchObject({ reason: 'LiteLLMRejected', terminal: true });
    expect(failure.message).toContain('User alice: POST /user/new');
    expect(isTerminalError(reconcileErrorFor(failure, err))).toBe(true);
  });

  it.each([
    ['unavailable', 'LiteLLMUnavailable'],
    ['rateLimited', 'LiteLLMUnavailable'],
    ['server', 'LiteLLMError'],
    ['unauthorized', 'LiteLLMError'],
    ['conflict', 'LiteLLMError'],
    ['notFound', 'LiteLLMError'],
  ] as const)('retries %s (%s), keeping its Retry-After', (kind, reason) => {
    const err = error(kind, 1500);
    const failure = litellmFailure(err)!;
    expect(failure).toMatchObject({ reason, terminal: false });
    const thrown = reconcileErrorFor(failure, err);
    expect(thrown).toBe(err);
    expect(retryAfterMsOf(thrown)).toBe(1500);
  });

  it('finds a LiteLLM error in the cause chain, and nothing in other errors', () => {
    expect(litellmFailure(new Error('wrapped', { cause: error('invalid') }))?.terminal).toBe(true);
    expect(litellmFailure(new Error('apiserver said no'))).toBeUndefined();
  });
});
