import { describe, expect, it } from 'vitest';
import {
  budgetExceeded,
  expiredKey,
  keyUnverifiable,
  limitsUnavailable,
  missingKey,
  missingModel,
  modelNotAllowed,
  OpenAIError,
  rateLimited,
  shuttingDown,
  suspendedKey,
  unknownKey,
  upstreamTimeout,
  upstreamUnavailable,
} from './openai-error.ts';

describe('OpenAIError', () => {
  it('has exactly the body OpenAI SDKs parse, the code being the status as a string', () => {
    const error = new OpenAIError({
      status: 404,
      type: 'invalid_request_error',
      reason: 'model_not_found',
      param: 'model',
      message: 'no such model',
    });
    const body = error.toBody();
    expect(body).toStrictEqual({
      error: {
        message: 'no such model',
        type: 'invalid_request_error',
        param: 'model',
        code: '404',
      },
    });
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error)).toEqual(['message', 'type', 'param', 'code']);
    // It survives JSON as it is (param null is kept, not dropped).
    const withoutParam = new OpenAIError({ status: 500, type: 't', reason: 'r', message: 'm' });
    expect(JSON.parse(JSON.stringify(withoutParam.toBody()))).toStrictEqual({
      error: { message: 'm', type: 't', param: null, code: '500' },
    });
  });

  it('keeps status, reason and headers apart from the body', () => {
    const error = new OpenAIError({
      status: 429,
      type: 'throttling_error',
      reason: 'rate_limited',
      message: 'slow down',
      headers: { 'retry-after': '3' },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('OpenAIError');
    expect(error.statusCode).toBe(429);
    expect(error.reason).toBe('rate_limited');
    expect(error.headers).toEqual({ 'retry-after': '3' });
    expect(JSON.stringify(error.toBody())).not.toContain('rate_limited');
    expect(new OpenAIError({ status: 400, type: 't', reason: 'r', message: 'm' }).headers).toEqual(
      {},
    );
  });
});

describe('the gateway refusals', () => {
  it.each([
    [missingKey(), 401, 'auth_error', null],
    [unknownKey(), 401, 'token_not_found_in_db', 'key'],
    [suspendedKey(undefined), 401, 'auth_error', null],
    [keyUnverifiable(), 503, 'service_unavailable_error', null],
    [modelNotAllowed('m'), 403, 'key_model_access_denied', 'model'],
    [missingModel(), 400, 'invalid_request_error', 'model'],
    [budgetExceeded('key', '1', '1'), 422, 'budget_exceeded', null],
    [rateLimited('x', {}), 429, 'throttling_error', null],
    [limitsUnavailable(), 503, 'service_unavailable_error', null],
    [upstreamUnavailable('x'), 502, 'upstream_error', null],
    [upstreamTimeout(), 504, 'timeout', null],
    [shuttingDown(), 503, 'service_unavailable_error', null],
  ])('%s: status, type, param and code agree', (error, status, type, param) => {
    expect(error.statusCode).toBe(status);
    expect(error.toBody().error).toMatchObject({ type, param, code: String(status) });
  });

  it('names only the model asked for when it is not allowed', () => {
    const error = modelNotAllowed('gpt-4o');
    expect(error.message).toContain("'gpt-4o'");
    expect(error.toBody().error.param).toBe('model');
    // Nothing about the key's other models (they could be confidential).
    expect(error.message).not.toMatch(/allowed models|\[/i);
    expect(error.message.match(/'[^']*'/g)).toEqual(["'gpt-4o'"]);
  });

  it('says why a key is suspended only when there is a reason', () => {
    expect(suspendedKey('user left team ml').message).toContain('(user left team ml)');
    expect(suspendedKey(undefined).message).not.toContain('(');
  });

  it('reports when an expired key expired and what time it is', () => {
    const message = expiredKey('2030-01-01T00:00:00Z', new Date(Date.UTC(2030, 0, 2))).message;
    expect(message).toContain('2030-01-01T00:00:00Z');
    expect(message).toContain('2030-01-02T00:00:00.000Z');
  });

  it('asks callers to retry soon when the gateway cannot decide', () => {
    for (const error of [keyUnverifiable(), limitsUnavailable(), shuttingDown()]) {
      expect(error.headers['retry-after']).toBe('1');
    }
    expect(shuttingDown().headers.connection).toBe('close');
  });

  it('carries the rate-limit headers it is given', () => {
    const headers = { 'retry-after': '12', 'x-ratelimit-remaining-requests': '0' };
    expect(rateLimited('Rate limit reached', headers).headers).toEqual(headers);
  });

  it('puts the budget scope and amounts in the message, as LiteLLM does', () => {
    expect(budgetExceeded('Team=ml-research', '10.5', '10').message).toBe(
      'Budget has been exceeded! Team=ml-research Current cost: 10.5, Max budget: 10',
    );
  });
});
