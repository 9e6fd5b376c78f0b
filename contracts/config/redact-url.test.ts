import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.ts';

describe('redactUrl', () => {
  it('keeps a URL without credentials as it is', () => {
    expect(redactUrl('redis://redis:6379/0')).toBe('redis://redis:6379/0');
  });

  it('drops user name and password', () => {
    expect(redactUrl('redis://default:s3cret@redis.ns.svc:6379/2')).toBe(
      'redis://redis.ns.svc:6379/2',
    );
    expect(redactUrl('rediss://:s3cret@redis:6380')).toBe('rediss://redis:6380');
  });

  it('never echoes an unparseable URL (it might hold a password)', () => {
    expect(redactUrl('redis://:pa ss@[bad')).toBe('[unparseable URL]');
    expect(redactUrl('not a url redis://u:s3cret@')).not.toContain('s3cret');
  });
});
