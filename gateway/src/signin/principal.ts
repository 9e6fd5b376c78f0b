// Who is calling the gateway's people side (/auth, /api, the page): a person signed in with
// SSO, or an admin holding the LiteLLM master key before SSO is configured. The sign-in plugin
// resolves it once per request; the self-service API only reads it and acts as the person
// through Kubernetes impersonation (`impersonation`), so RBAC and the admission policy decide
// exactly as for that person's kubectl.
import type { UserRole } from '../../../crds/api/user.ts';

/** What the gateway puts on an impersonated request to the API server. */
export interface Impersonation {
  /** Impersonate-User: the person's Kubernetes user name (USERNAME_PREFIX + login). */
  user: string;
  /** Impersonate-Group: the person's groups as the API server knows them (GROUPS_PREFIX + group). */
  groups: readonly string[];
  /**
   * Impersonate-Extra-*: always `llmtenancy.dev/user-name` = the User object's name, which the
   * VirtualKey admission policy accepts as the person's own name.
   */
  extra: Readonly<Record<string, readonly string[]>>;
}

export interface Principal {
  /** How the caller proved who they are: a browser's cookie, a CLI token, the master key. */
  via: 'session' | 'cli' | 'master-key';
  /** The User object's name (contracts' login → User-name rule); empty for the master key. */
  userName: string;
  /** The login name at the identity provider (preferred_username / OpenShift user name). */
  login: string;
  /** Role from the group → role mapping (the master key is `admin`). */
  role: UserRole;
  /** Groups the identity provider reported at this login. */
  groups: readonly string[];
  impersonation: Impersonation;
  /** For a cookie session: its CSRF token, which state-changing calls must echo (x-csrf-token). */
  csrfToken?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the sign-in plugin's onRequest hook on the people side; undefined = anonymous. */
    principal: Principal | undefined;
  }
}
