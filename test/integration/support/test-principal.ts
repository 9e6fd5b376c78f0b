// Test-only stand-in for the sign-in plugin: sets request.principal from a principal the test
// registered, named by the x-test-principal header or the test-principal cookie (for the
// browser). Never part of gateway/src: the real plugin resolves sessions and the master key.
import type { FastifyInstance } from 'fastify';
import { USER_NAME_EXTRA } from '../../../crds/admission/virtual-key-user.ts';
import type { UserRole } from '../../../crds/api/user.ts';
import type { Principal } from '../../../gateway/src/signin/principal.ts';

export const TEST_PRINCIPAL_HEADER = 'x-test-principal';
export const TEST_PRINCIPAL_COOKIE = 'test-principal';

export class TestPrincipals {
  readonly #byId = new Map<string, Principal>();

  /** Registers `principal` and returns the id a request names it by. */
  add(id: string, principal: Principal): string {
    this.#byId.set(id, principal);
    return id;
  }

  /** An onRequest hook on `app` (not encapsulated: register before the plugins under test). */
  install(app: FastifyInstance): void {
    app.decorateRequest('principal', undefined);
    app.addHook('onRequest', async (request) => {
      const header = request.headers[TEST_PRINCIPAL_HEADER];
      const cookie = /(?:^|;\s*)test-principal=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
      const id = typeof header === 'string' ? header : cookie;
      request.principal = id ? this.#byId.get(id) : undefined;
    });
  }
}

/** A signed-in person as the sign-in plugin would resolve them (no user/group prefixes). */
export function person(options: {
  login: string;
  userName?: string;
  groups: string[];
  role?: UserRole;
}): Principal {
  const userName = options.userName ?? options.login;
  return {
    via: 'session',
    userName,
    login: options.login,
    role: options.role ?? 'user',
    groups: options.groups,
    impersonation: {
      user: options.login,
      groups: options.groups,
      extra: { [USER_NAME_EXTRA]: [userName] },
    },
    csrfToken: 'test-csrf',
  };
}

/** The master key: a bootstrap admin impersonated in the admin group. */
export function masterKey(adminGroup: string): Principal {
  return {
    via: 'master-key',
    userName: '',
    login: 'llm-tenancy:bootstrap-admin',
    role: 'admin',
    groups: [adminGroup],
    impersonation: { user: 'llm-tenancy:bootstrap-admin', groups: [adminGroup], extra: {} },
  };
}
