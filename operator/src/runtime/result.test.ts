import { describe, expect, it } from 'vitest';
import { defaultErrorPolicy } from './error-policy.ts';
import {
  isTerminalError,
  parseRetryAfter,
  retryAfterMsOf,
  RetryAfterError,
  TerminalError,
} from './result.ts';

const request = { name: 'a' };

describe('defaultErrorPolicy', () => {
  it('backs off on ordinary errors and on non-Error throws', () => {
    expect(defaultErrorPolicy(new Error('ECONNREFUSED'), request)).toEqual({ action: 'backoff' });
    expect(defaultErrorPolicy('a string', request)).toEqual({ action: 'backoff' });
  });

  it('does not retry terminal errors, also when wrapped as a cause', () => {
    expect(defaultErrorPolicy(new TerminalError('invalid'), request)).toEqual({
      action: 'terminal',
    });
    const wrapped = new Error('creating key', { cause: new TerminalError('400') });
    expect(isTerminalError(wrapped)).toBe(true);
    expect(defaultErrorPolicy(wrapped, request)).toEqual({ action: 'terminal' });
  });

  it('waits the requested delay for errors carrying retryAfterMs (any class)', () => {
    expect(defaultErrorPolicy(new RetryAfterError(2500), request)).toEqual({
      action: 'requeueAfter',
      ms: 2500,
    });
    const clientError = Object.assign(new Error('429 from LiteLLM'), { retryAfterMs: 7000 });
    expect(defaultErrorPolicy(new Error('sync', { cause: clientError }), request)).toEqual({
      action: 'requeueAfter',
      ms: 7000,
    });
    expect(retryAfterMsOf(Object.assign(new Error('bad'), { retryAfterMs: -1 }))).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or unparseable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
