import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isTerminalError } from '../runtime/result.ts';
import { maskCredentials, RoutingUnavailableError } from './routing-errors.ts';

describe('RoutingUnavailableError.from', () => {
  it('says Redis is unreachable for a connection failure, keeping the cause', () => {
    const cause = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    const err = RoutingUnavailableError.from('put_key', cause);
    expect(err).toBeInstanceOf(RoutingUnavailableError);
    expect(err.message).toBe(
      "routing config put_key: Redis is unreachable: Stream isn't writeable and enableOfflineQueue options is false",
    );
    expect(err.cause).toBe(cause);
    expect(err.operation).toBe('put_key');
    expect(isTerminalError(err)).toBe(false);
  });

  it('says Redis refused the change when it answered with an error', () => {
    const err = RoutingUnavailableError.from(
      'remove_key',
      new ReplyError('OOM command not allowed when used memory > maxmemory'),
    );
    expect(err.message).toMatch(/^routing config remove_key: Redis refused the change: OOM /);
  });

  it('never carries a password from a URL in the cause', () => {
    const err = RoutingUnavailableError.from(
      'put_models',
      new Error('connect to redis://default:hunter2@redis:6379 failed'),
    );
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('redis://***@redis:6379');
  });
});

describe('maskCredentials', () => {
  it('masks user info in every URL and leaves other text alone', () => {
    expect(maskCredentials('a rediss://u:p@h:1/0 and redis://:pw@x b')).toBe(
      'a rediss://***@h:1/0 and redis://***@x b',
    );
    expect(maskCredentials('redis://h:1 user@example.com')).toBe('redis://h:1 user@example.com');
  });
});
