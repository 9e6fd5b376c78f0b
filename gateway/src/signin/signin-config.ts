// The people side's settings (sign-in, sessions, the master key), from environment variables
// like the rest of gateway/src/config.ts; secrets are files (mounted Secrets), read at start
// (the master key is re-read when its file changes: master-key.ts).
//
//   SIGNIN_PROVIDER          oidc | openshift | off (off): how people sign in
//   PUBLIC_URL               the gateway's URL as browsers reach it (https://llm.example.com);
//                            required with a provider: the callback is PUBLIC_URL/auth/callback
//                            and the post-logout redirect URI PUBLIC_URL/ui/ (register both)
//   OIDC_REDIRECT_URL        the callback URL registered at the provider, when it is not
//                            PUBLIC_URL/auth/callback
//   OIDC_ISSUER_URL          the OpenID provider's issuer (discovery: /.well-known/openid-configuration)
//   OPENSHIFT_API_URL        the OpenShift API server (OAuth server discovered from its
//                            /.well-known/oauth-authorization-server; the identity from users/~)
//   OIDC_CLIENT_ID           the client (OpenShift: the OAuthClient's name)
//   OIDC_CLIENT_SECRET_FILE  a file holding its secret
//   OIDC_SCOPES              space-separated (oidc: "openid email profile groups";
//                            openshift: "user:info")
//   OIDC_USERNAME_CLAIM      the ID-token claim that is the login name (email); an e-mail
//                            claim counts only when email_verified is not false
//   OIDC_GROUPS_CLAIM        the ID-token claim holding the groups (groups)
//   SIGNIN_ALLOW_HTTP        accept an http:// issuer or API server (false; development only)
//   SESSION_SECRET_FILE      a file holding at least 32 bytes that sign the cookies (required
//                            with a provider)
//   SESSION_COOKIE_SECURE    mark cookies Secure (true; false only for local http)
//   SESSION_IDLE_LIFETIME    a session unused this long ends (8h)
//   SESSION_ABSOLUTE_LIFETIME a session ends this long after its login, used or not (24h)
//   ROLE_GROUPS              group → role: "admin=platform-admins,ops;manager=team-leads";
//                            the highest role of any of a person's groups wins
//   DEFAULT_ROLE             the role of a person in none of those groups (user)
//   AUTO_PROVISION           create a User at a person's first login (true); false: only
//                            people who already have a User may sign in
//   SIGNIN_AUTO_CREATE_TEAMS create a Team for each of a person's groups matching
//                            SIGNIN_TEAM_GROUPS that has none yet, at their login (false)
//   SIGNIN_TEAM_GROUPS       comma-separated glob patterns ("*": any run of characters) of the
//                            groups that get a Team (required with SIGNIN_AUTO_CREATE_TEAMS)
//   USER_READY_TIMEOUT       how long a login waits for its User to be Ready in LiteLLM (30s)
//   USERNAME_PREFIX          prefixed to the login for Kubernetes impersonation, as the API
//                            server's own OIDC authenticator does (oidc: "", openshift: "")
//   GROUPS_PREFIX            prefixed to each group for impersonation ("")
//   LITELLM_MASTER_KEY_FILE  the LiteLLM master key's file, the Secret the operator mounts:
//                            "Authorization: Bearer <master key>" is an admin on the people
//                            side (unset: no master-key access)
//   MASTER_KEY_GROUPS        comma-separated groups the master key acts as (llm-tenancy-admins)
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_ADMIN_GROUPS } from '../../../crds/admission/virtual-key-user.ts';
import { UserRole } from '../../../crds/api/user.ts';
import { bool, duration, text, unsetIfEmpty } from '../../../contracts/config/env-fields.ts';
import { parseTeamGroupPatterns, type TeamGroupPatterns } from './team-group-patterns.ts';

export type SigninProvider = 'oidc' | 'openshift' | 'off';

export interface SigninConfig {
  provider: SigninProvider;
  /** Set when provider is not off. */
  login?: LoginConfig;
  sessions: SessionConfig;
  roleGroups: Partial<Record<UserRole, readonly string[]>>;
  defaultRole: UserRole;
  autoProvision: boolean;
  /** Groups whose Teams a login creates; undefined when SIGNIN_AUTO_CREATE_TEAMS is off. */
  teamGroups: TeamGroupPatterns | undefined;
  userReadyTimeoutMs: number;
  usernamePrefix: string;
  groupsPrefix: string;
  masterKeyFile: string | undefined;
  masterKeyGroups: readonly string[];
}

export interface LoginConfig {
  /** OIDC: the issuer; OpenShift: the API server. */
  serverUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUrl: string;
  publicUrl: string;
  scopes: string;
  usernameClaim: string;
  groupsClaim: string;
  allowHttp: boolean;
}

export interface SessionConfig {
  /** Signs cookies; undefined when sign-in is off (no cookie is ever set then). */
  secret: string | undefined;
  cookieSecure: boolean;
  idleLifetimeMs: number;
  absoluteLifetimeMs: number;
  /** A `kubectl llm login` token's lifetime (CLI_SESSION_LIFETIME), used or not. */
  cliLifetimeMs: number;
}

const url = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .trim()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), {
      message: 'must be an http(s) URL',
    })
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
);

const second = { ms: 1000, what: '1s' };

const SigninEnv = z.object({
  SIGNIN_PROVIDER: z.preprocess(
    unsetIfEmpty,
    z
      .enum(['oidc', 'openshift', 'off'], { message: 'must be oidc, openshift or off' })
      .default('off'),
  ),
  PUBLIC_URL: url,
  OIDC_REDIRECT_URL: url,
  OIDC_ISSUER_URL: url,
  OPENSHIFT_API_URL: url,
  OIDC_CLIENT_ID: text(),
  OIDC_CLIENT_SECRET_FILE: text(),
  OIDC_SCOPES: text(),
  OIDC_USERNAME_CLAIM: text(),
  OIDC_GROUPS_CLAIM: text(),
  SIGNIN_ALLOW_HTTP: bool(false),
  SESSION_SECRET_FILE: text(),
  SESSION_COOKIE_SECURE: bool(true),
  SESSION_IDLE_LIFETIME: duration('8h', second),
  SESSION_ABSOLUTE_LIFETIME: duration('24h', second),
  CLI_SESSION_LIFETIME: duration('7d', second),
  ROLE_GROUPS: text(),
  DEFAULT_ROLE: z.preprocess(
    unsetIfEmpty,
    z.enum(UserRole.options, { message: 'must be admin, manager, user or viewer' }).default('user'),
  ),
  AUTO_PROVISION: bool(true),
  SIGNIN_AUTO_CREATE_TEAMS: bool(false),
  SIGNIN_TEAM_GROUPS: text(),
  USER_READY_TIMEOUT: duration('30s', { ms: 100, what: '100ms' }),
  USERNAME_PREFIX: z.preprocess((v) => v ?? '', z.string()),
  GROUPS_PREFIX: z.preprocess((v) => v ?? '', z.string()),
  LITELLM_MASTER_KEY_FILE: text(),
  MASTER_KEY_GROUPS: text(),
});

/** "admin=a,b;manager=c" → { admin: [a, b], manager: [c] }; problems for the rest. */
export function parseRoleGroups(
  value: string,
  problems: string[],
): Partial<Record<UserRole, string[]>> {
  const result: Partial<Record<UserRole, string[]>> = {};
  for (const entry of value
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const role = UserRole.safeParse(eq > 0 ? entry.slice(0, eq).trim() : '');
    const groups = entry
      .slice(eq + 1)
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    if (eq <= 0 || !role.success || groups.length === 0) {
      problems.push(
        `ROLE_GROUPS: ${JSON.stringify(entry)} is not role=group,group with a role of admin, manager, user, viewer (like "admin=platform-admins;manager=team-leads")`,
      );
      continue;
    }
    result[role.data] = [...(result[role.data] ?? []), ...groups];
  }
  return result;
}

/** Reads a secret file; a problem naming the variable when it cannot be read or is empty. */
function secretFile(variable: string, path: string, problems: string[]): string | undefined {
  try {
    const value = readFileSync(path, 'utf8').trim();
    if (value === '') problems.push(`${variable}: the file ${path} is empty`);
    return value || undefined;
  } catch (err) {
    problems.push(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
    return undefined;
  }
}

/** The sign-in settings in `env`; appends problems (as "VARIABLE: problem") to `problems`. */
export function parseSigninConfig(
  env: NodeJS.ProcessEnv,
  problems: string[],
): SigninConfig | undefined {
  const parsed = SigninEnv.safeParse(env);
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push(`${i.path.join('.')}: ${i.message}`);
    return undefined;
  }
  const e = parsed.data;
  const before = problems.length;
  const roleGroups = parseRoleGroups(e.ROLE_GROUPS ?? '', problems);
  const teamGroups = parseTeamGroupPatterns(e.SIGNIN_TEAM_GROUPS ?? '', problems);
  if (e.SIGNIN_AUTO_CREATE_TEAMS && teamGroups.length === 0) {
    problems.push(
      'SIGNIN_TEAM_GROUPS: is required with SIGNIN_AUTO_CREATE_TEAMS=true: the groups that get a Team, like "team-*,ml-research" ("*" alone for every group)',
    );
  }
  if (e.SESSION_IDLE_LIFETIME > e.SESSION_ABSOLUTE_LIFETIME) {
    problems.push('SESSION_IDLE_LIFETIME: must not be longer than SESSION_ABSOLUTE_LIFETIME');
  }
  let login: LoginConfig | undefined;
  let sessionSecret: string | undefined;
  if (e.SIGNIN_PROVIDER !== 'off') {
    const need = (variable: string, value: string | undefined, why: string) => {
      if (value === undefined)
        problems.push(`${variable}: is required with SIGNIN_PROVIDER=${e.SIGNIN_PROVIDER}: ${why}`);
      return value ?? '';
    };
    const serverVariable = e.SIGNIN_PROVIDER === 'oidc' ? 'OIDC_ISSUER_URL' : 'OPENSHIFT_API_URL';
    const serverUrl = need(
      serverVariable,
      e.SIGNIN_PROVIDER === 'oidc' ? e.OIDC_ISSUER_URL : e.OPENSHIFT_API_URL,
      e.SIGNIN_PROVIDER === 'oidc'
        ? 'the OpenID provider, e.g. https://dex.example.com'
        : 'the OpenShift API server, e.g. https://api.cluster.example.com:6443',
    );
    const publicUrl = need('PUBLIC_URL', e.PUBLIC_URL, "the gateway's URL as browsers reach it");
    const clientId = need(
      'OIDC_CLIENT_ID',
      e.OIDC_CLIENT_ID,
      'the client registered at the provider',
    );
    const secretPath = need(
      'OIDC_CLIENT_SECRET_FILE',
      e.OIDC_CLIENT_SECRET_FILE,
      "a file holding the client's secret",
    );
    const sessionPath = need(
      'SESSION_SECRET_FILE',
      e.SESSION_SECRET_FILE,
      'a file of at least 32 random bytes that sign the session cookies',
    );
    const clientSecret = secretPath
      ? secretFile('OIDC_CLIENT_SECRET_FILE', secretPath, problems)
      : undefined;
    sessionSecret = sessionPath
      ? secretFile('SESSION_SECRET_FILE', sessionPath, problems)
      : undefined;
    if (sessionSecret !== undefined && Buffer.byteLength(sessionSecret) < 32) {
      problems.push('SESSION_SECRET_FILE: must hold at least 32 bytes (openssl rand -base64 48)');
    }
    for (const [variable, value] of [
      [serverVariable, serverUrl],
      ['PUBLIC_URL', publicUrl],
      ['OIDC_REDIRECT_URL', e.OIDC_REDIRECT_URL],
    ] as const) {
      if (value?.startsWith('http:') && !e.SIGNIN_ALLOW_HTTP) {
        problems.push(
          `${variable}: must be https (set SIGNIN_ALLOW_HTTP=true for local development)`,
        );
      }
    }
    login = {
      serverUrl,
      clientId,
      clientSecret: clientSecret ?? '',
      publicUrl,
      redirectUrl: e.OIDC_REDIRECT_URL ?? `${publicUrl}/auth/callback`,
      scopes:
        e.OIDC_SCOPES ??
        (e.SIGNIN_PROVIDER === 'oidc' ? 'openid email profile groups' : 'user:info'),
      usernameClaim: e.OIDC_USERNAME_CLAIM ?? 'email',
      groupsClaim: e.OIDC_GROUPS_CLAIM ?? 'groups',
      allowHttp: e.SIGNIN_ALLOW_HTTP,
    };
    if (e.SIGNIN_PROVIDER === 'oidc' && !login.scopes.split(/\s+/).includes('openid')) {
      problems.push('OIDC_SCOPES: must include openid');
    }
  }
  if (problems.length > before) return undefined;
  return {
    provider: e.SIGNIN_PROVIDER,
    ...(login && { login }),
    sessions: {
      secret: sessionSecret,
      cookieSecure: e.SESSION_COOKIE_SECURE,
      idleLifetimeMs: e.SESSION_IDLE_LIFETIME,
      absoluteLifetimeMs: e.SESSION_ABSOLUTE_LIFETIME,
      cliLifetimeMs: e.CLI_SESSION_LIFETIME,
    },
    roleGroups,
    defaultRole: e.DEFAULT_ROLE,
    autoProvision: e.AUTO_PROVISION,
    teamGroups: e.SIGNIN_AUTO_CREATE_TEAMS ? teamGroups : undefined,
    userReadyTimeoutMs: e.USER_READY_TIMEOUT,
    usernamePrefix: e.USERNAME_PREFIX,
    groupsPrefix: e.GROUPS_PREFIX,
    masterKeyFile: e.LITELLM_MASTER_KEY_FILE,
    masterKeyGroups: (e.MASTER_KEY_GROUPS ?? DEFAULT_ADMIN_GROUPS.join(','))
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean),
  };
}

/** The sign-in settings as logged at start: no secrets. */
export function describeSigninConfig(config: SigninConfig): Record<string, unknown> {
  return {
    provider: config.provider,
    ...(config.login && {
      server: config.login.serverUrl,
      clientId: config.login.clientId,
      redirectUrl: config.login.redirectUrl,
      scopes: config.login.scopes,
    }),
    autoProvision: config.autoProvision,
    autoCreateTeams: config.teamGroups ?? false,
    roleGroups: config.roleGroups,
    defaultRole: config.defaultRole,
    masterKey: config.masterKeyFile ? `from ${config.masterKeyFile}` : 'off',
  };
}
