// Test-only stand-in for the sign-in plugin: sets request.principal from a principal the test
// registered, named by the x-test-principal header or the test-principal cookie (for the
// browser). Never part of gateway/src: the real plugin resolves sessions and the master key.
import { randomBytes } from 'node:crypto';
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

  /**
   * An onRequest hook on `app` (not encapsulated: register before the plugins under test).
   * For a cookie session it also does what the sign-in plugin does for the page: GET
   * /auth/session gives the CSRF token, and a state-changing call without it is refused.
   */
  install(app: FastifyInstance): void {
    app.decorateRequest('principal', undefined);
    app.addHook('onRequest', async (request, reply) => {
      const header = request.headers[TEST_PRINCIPAL_HEADER];
      const cookie = /(?:^|;\s*)test-principal=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
      const id = typeof header === 'string' ? header : cookie;
      request.principal = id ? this.#byId.get(id) : undefined;
      const stateChanging = !['GET', 'HEAD', 'OPTIONS'].includes(request.method);
      if (cookie && !header && stateChanging) {
        if (request.headers['x-csrf-token'] !== request.principal?.csrfToken) {
          return reply.code(403).send({
            error: {
              message: 'CSRF token missing or wrong (test hook).',
              type: 'permission_error',
              param: null,
              code: '403',
            },
          });
        }
      }
    });
    app.get('/auth/session', async (request) => ({
      signedIn: request.principal !== undefined,
      csrfToken: request.principal?.csrfToken ?? null,
    }));
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
    csrfToken: randomBytes(16).toString('base64url'),
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
