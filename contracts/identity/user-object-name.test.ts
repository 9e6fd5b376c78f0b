import { describe, expect, it } from 'vitest';
import { userObjectName } from './user-object-name.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('userObjectName', () => {
  it('keeps names that are already valid object names', () => {
    expect(userObjectName('alice')).toBe('alice');
    expect(userObjectName('alice.smith')).toBe('alice.smith');
  });

  it('turns other login names into valid, distinct object names', () => {
    const a = userObjectName('Alice@Example.com');
    const b = userObjectName('alice-example.com');
    expect(a).toMatch(/^alice-example\.com-[0-9a-f]{8}$/);
    expect(b).toBe('alice-example.com');
    expect(a).not.toBe(b);
  });

  it.each([
    'CN=Bob,OU=People',
    '..weird..',
    '日本語',
    '-x-',
    'a'.repeat(300),
    'kube:admin',
    'system:serviceaccount:ns:sa',
  ])('gives a valid object name for %j, the same every time', (login) => {
    const name = userObjectName(login);
    expect(name).toMatch(DNS_SUBDOMAIN);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(userObjectName(login)).toBe(name);
  });
});
