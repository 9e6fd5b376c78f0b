// The Principal (principal.ts) of a session or of the master key: who the people side acts as
// when it calls the API server through impersonation.
import { USER_NAME_EXTRA } from '../../../crds/admission/virtual-key-user.ts';
import type { Principal } from './principal.ts';
import type { SessionData } from './session-store.ts';

export interface ImpersonationPrefixes {
  /** USERNAME_PREFIX, as the API server's own authenticator prefixes these people. */
  usernamePrefix: string;
  groupsPrefix: string;
}

/** A browser's session (with its CSRF token) or a CLI's (a bearer token: no CSRF). */
export function sessionPrincipal(session: SessionData, prefixes: ImpersonationPrefixes): Principal {
  return {
    via: session.kind === 'cli' ? 'cli' : 'session',
    userName: session.userName,
    login: session.login,
    role: session.role,
    groups: session.groups,
    impersonation: {
      user: prefixes.usernamePrefix + session.login,
      groups: session.groups.map((g) => prefixes.groupsPrefix + g),
      extra: { [USER_NAME_EXTRA]: [session.userName] },
    },
    ...(session.kind !== 'cli' && { csrfToken: session.csrfToken }),
  };
}

/** The Kubernetes user name the master key acts as (audit logs show it). */
export const MASTER_KEY_USER = 'llm-tenancy:master-key';

export function masterKeyPrincipal(groups: readonly string[]): Principal {
  return {
    via: 'master-key',
    userName: '',
    login: MASTER_KEY_USER,
    role: 'admin',
    groups,
    impersonation: { user: MASTER_KEY_USER, groups, extra: {} },
  };
}
