import { describe, expect, it } from 'vitest';
import {
  escapeExtraKey,
  impersonationHeaders,
  ImpersonationRefused,
} from './impersonation-headers.ts';

const person = {
  user: 'oidc:alice',
  groups: ['oidc:ml', 'oidc:ops'],
  extra: { 'llmtenancy.dev/user-name': ['alice'] },
};

describe('impersonationHeaders', () => {
  it('sends the user once, one header per group and the extra key percent-encoded', () => {
    expect(impersonationHeaders(person)).toEqual({
      'impersonate-user': 'oidc:alice',
      'impersonate-group': ['oidc:ml', 'oidc:ops'],
      'impersonate-extra-llmtenancy.dev%2Fuser-name': ['alice'],
    });
  });

  it('keeps a comma inside one group: the API server never splits a header line', () => {
    const headers = impersonationHeaders({ ...person, groups: ['devs,llm-tenancy-admins'] });
    expect(headers['impersonate-group']).toEqual(['devs,llm-tenancy-admins']);
  });

  it.each([
    ['a newline', 'devs\nImpersonate-Group: llm-tenancy-admins'],
    ['a carriage return', 'devs\rx'],
    ['a NUL', 'devs\u0000'],
    ['leading white space', ' llm-tenancy-admins'],
    ['trailing white space', 'llm-tenancy-admins\t'],
    ['nothing', ''],
  ])('refuses a group holding %s', (_what, group) => {
    expect(() => impersonationHeaders({ ...person, groups: [group] })).toThrow(
      ImpersonationRefused,
    );
  });

  it('refuses a user name with a newline', () => {
    expect(() => impersonationHeaders({ ...person, user: 'alice\nImpersonate-User: x' })).toThrow(
      ImpersonationRefused,
    );
  });

  it('sends non-ASCII names as their UTF-8 bytes', () => {
    const headers = impersonationHeaders({ ...person, user: 'josé' });
    expect(Buffer.from(headers['impersonate-user'] as string, 'latin1').toString('utf8')).toBe(
      'josé',
    );
  });

  it("escapes '%' and non-token bytes in extra keys, so no two keys meet", () => {
    expect(escapeExtraKey('a/b')).toBe('a%2Fb');
    expect(escapeExtraKey('a%2Fb')).toBe('a%252Fb');
    expect(escapeExtraKey('é (x)')).toBe('%C3%A9%20%28x%29');
  });
});
