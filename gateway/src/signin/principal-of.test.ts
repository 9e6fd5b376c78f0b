import { describe, expect, it } from 'vitest';
import { masterKeyPrincipal, sessionPrincipal } from './principal-of.ts';
import type { SessionData } from './session-store.ts';

const session: SessionData = {
  userName: 'alice-example.com-1a2b3c4d',
  login: 'Alice@Example.com',
  role: 'manager',
  groups: ['ml', 'leads'],
  issuer: 'https://dex.example.com',
  subject: 'abc',
  csrfToken: 'token',
  createdAt: 0,
  absoluteDeadline: 1,
};

describe('the principal of a session and of the master key', () => {
  it('impersonates the person under the API server’s prefixes, naming their User', () => {
    expect(sessionPrincipal(session, { usernamePrefix: 'oidc:', groupsPrefix: 'oidc:' })).toEqual({
      via: 'session',
      userName: 'alice-example.com-1a2b3c4d',
      login: 'Alice@Example.com',
      role: 'manager',
      groups: ['ml', 'leads'],
      impersonation: {
        user: 'oidc:Alice@Example.com',
        groups: ['oidc:ml', 'oidc:leads'],
        extra: { 'llmtenancy.dev/user-name': ['alice-example.com-1a2b3c4d'] },
      },
      csrfToken: 'token',
    });
  });

  it('gives a CLI session no CSRF token: it is a bearer token, not a cookie', () => {
    const principal = sessionPrincipal(
      { ...session, kind: 'cli' },
      { usernamePrefix: '', groupsPrefix: '' },
    );
    expect(principal.via).toBe('cli');
    expect(principal).not.toHaveProperty('csrfToken');
  });

  it('makes the master key an admin in the admin groups, with no User name', () => {
    expect(masterKeyPrincipal(['llm-tenancy-admins'])).toMatchObject({
      via: 'master-key',
      userName: '',
      role: 'admin',
      impersonation: { user: 'llm-tenancy:master-key', groups: ['llm-tenancy-admins'], extra: {} },
    });
  });
});
