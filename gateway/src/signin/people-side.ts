// The people side of the gateway, one fastify scope apart from /v1 (whose key auth it does
// not touch): the sign-in routes (/auth/login, /auth/callback, /auth/session, /auth/logout)
// and `kubectl llm login`'s (/auth/cli/login, /auth/cli/token: cli-login.ts), and whatever
// else serves people (/api, /ui: `routes`, registered inside this scope so they see
// `request.principal`). Its onRequest hook resolves the principal from the session cookie,
// from "Authorization: Bearer llmt_cli_…" (a CLI session) or from "Authorization: Bearer
// <LiteLLM master key>", and refuses a state-changing request of a cookie session that does
// not echo the session's CSRF token (x-csrf-token). A bearer token is never sent by a browser
// on its own, so it needs no CSRF token; a cookie always does.
import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import {
  noAudit,
  succeeded,
  type AuditResult,
  type AuditSink,
} from '../../../contracts/audit/audit-record.ts';
import { personRecord, refusedWith } from '../audit/person-audit.ts';
import { OpenAIError } from '../errors/openai-error.ts';
import { CLI_LOGIN_PATH, CLI_TOKEN_PREFIX } from '../../../contracts/cli-login/cli-login.ts';
import { sameSecret } from '../../../contracts/cli-login/same-secret.ts';
import { cliLoginRequest, cliTokenRoute, loopbackWithCode } from './cli-login.ts';
import type { IdentityProvider, SignedIn } from './identity-provider.ts';
import type { MasterKey } from './master-key.ts';
import {
  cliTokenRefused,
  csrfRefused,
  loginRefused,
  notSignedIn,
  sessionsUnavailable,
  signinOff,
  wrongMasterKey,
} from './people-errors.ts';
import { masterKeyPrincipal, sessionPrincipal } from './principal-of.ts';
import './principal.ts';
import { roleFor } from './role-mapping.ts';
import type { PendingLogin, SessionData, SessionStore } from './session-store.ts';
import { PENDING_LOGIN_TTL_MS } from './session-store.ts';
import type { SigninConfig } from './signin-config.ts';
import type { UserProvisioner } from './user-provisioner.ts';

export const SESSION_COOKIE = 'llmt_session';
export const LOGIN_COOKIE = 'llmt_login';
/** The paths the people side serves; the route guard lets them through to fastify's router. */
export const PEOPLE_PREFIXES = ['/auth', '/api', '/ui'] as const;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface PeopleSideOptions {
  config: SigninConfig;
  sessions: SessionStore;
  logger: Logger;
  /** Undefined when SIGNIN_PROVIDER=off. */
  identityProvider?: IdentityProvider | undefined;
  provisioner?: UserProvisioner | undefined;
  /** Undefined when LITELLM_MASTER_KEY_FILE is unset. */
  masterKey?: MasterKey | undefined;
  /** The /api and /ui plugins, registered inside this scope. */
  routes?: readonly FastifyPluginAsync[];
  /** Where sign-ins, sign-outs and master-key use are recorded. Default: nowhere. */
  audit?: AuditSink | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The session cookie's id, when the principal came from a live session. */
    sessionId: string | undefined;
  }
}

/** A path on this gateway to go back to after the login; anything else is "/". */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) return '/';
  if (/[\\\s]/.test(value)) return '/';
  return value.slice(0, 2048);
}

export function registerPeopleSide(app: FastifyInstance, options: PeopleSideOptions): void {
  app.register(peopleSide, options);
}

const peopleSide: FastifyPluginAsync<PeopleSideOptions> = async (scope, options) => {
  const { config, sessions, logger } = options;
  const audit = options.audit ?? noAudit;
  const log = logger.child({ component: 'people-side' });
  const cookieBase = {
    httpOnly: true,
    secure: config.sessions.cookieSecure,
    sameSite: 'lax' as const,
    signed: true,
  };
  // Without sign-in no cookie is ever set; a random secret makes any cookie sent invalid.
  await scope.register(fastifyCookie, {
    secret: config.sessions.secret ?? randomBytes(32).toString('base64url'),
  });
  scope.decorateRequest('principal', undefined);
  scope.decorateRequest('sessionId', undefined);

  const store = <T>(work: Promise<T>): Promise<T> =>
    work.catch((err: unknown) => {
      if (err instanceof OpenAIError) throw err;
      log.warn({ err: { message: (err as Error).message } }, 'the session store failed');
      throw sessionsUnavailable();
    });

  const cookieValue = (request: FastifyRequest, name: string): string | undefined => {
    const raw = request.cookies[name];
    if (!raw) return undefined;
    const unsigned = request.unsignCookie(raw);
    return unsigned.valid && unsigned.value ? unsigned.value : undefined;
  };

  /** A session whose provider tokens expired is refreshed; a refused refresh ends it. */
  const refreshed = async (id: string, session: SessionData): Promise<SessionData | undefined> => {
    const idp = options.identityProvider;
    if (
      !session.refreshToken ||
      !idp?.refresh ||
      (session.tokensExpireAt ?? Infinity) > Date.now()
    ) {
      return session;
    }
    const tokens = await idp.refresh(session.refreshToken).catch(() => session);
    if (tokens === undefined) {
      log.info(
        { user: session.userName },
        'the identity provider refused the refresh: session ended',
      );
      await store(sessions.destroy(id));
      return undefined;
    }
    if (tokens === session) return session; // the provider unreachable: try again later
    const next: SessionData = { ...session, ...tokens };
    await store(sessions.update(id, next));
    return next;
  };

  /** The live session of `id`, refreshed when its provider tokens expired. */
  const liveSession = async (id: string): Promise<SessionData | undefined> => {
    const session = await store(sessions.get(id));
    return session === undefined ? undefined : refreshed(id, session);
  };

  scope.addHook('onRequest', async (request) => {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const bearer = /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
      if (bearer?.startsWith(CLI_TOKEN_PREFIX)) {
        const id = bearer.slice(CLI_TOKEN_PREFIX.length);
        const session = await liveSession(id);
        // A browser session's id is no CLI token (it would skip the CSRF check).
        if (session?.kind !== 'cli') throw cliTokenRefused();
        request.sessionId = id;
        request.principal = sessionPrincipal(session, config);
        return;
      }
      const principal = masterKeyPrincipal(config.masterKeyGroups);
      const used = (result: AuditResult) =>
        audit.write(
          personRecord(principal, {
            action: 'signin.master-key',
            changes: { method: request.method, path: request.url.split('?')[0] },
            result,
          }),
        );
      if (
        bearer === undefined ||
        !options.masterKey ||
        !(await options.masterKey.matches(bearer))
      ) {
        const refusal = wrongMasterKey();
        used(refusedWith(refusal));
        throw refusal;
      }
      used(succeeded);
      request.principal = principal;
      return;
    }
    const id = cookieValue(request, SESSION_COOKIE);
    if (id === undefined) return;
    const session = await liveSession(id);
    if (session === undefined || session.kind === 'cli') return;
    request.sessionId = id;
    request.principal = sessionPrincipal(session, config);
    if (!SAFE_METHODS.has(request.method)) {
      const token = request.headers['x-csrf-token'];
      if (typeof token !== 'string' || !sameSecret(token, session.csrfToken)) throw csrfRefused();
    }
  });

  await scope.register(authRoutes, { ...options, cookieBase, cookieValue, store });
  await scope.register(cliTokenRoute, {
    sessions,
    store,
    lifetimeMs: config.sessions.cliLifetimeMs,
  });
  for (const routes of options.routes ?? []) await scope.register(routes);
};

interface AuthRouteOptions extends PeopleSideOptions {
  cookieBase: { httpOnly: boolean; secure: boolean; sameSite: 'lax'; signed: boolean };
  cookieValue: (request: FastifyRequest, name: string) => string | undefined;
  store: <T>(work: Promise<T>) => Promise<T>;
}

const authRoutes: FastifyPluginAsync<AuthRouteOptions> = async (scope, options) => {
  const { config, sessions, cookieBase, cookieValue, store } = options;
  const audit = options.audit ?? noAudit;
  const log = options.logger.child({ component: 'sign-in' });
  const idp = () => {
    if (!options.identityProvider || !config.login) throw signinOff();
    return options.identityProvider;
  };

  // A browser gets its refusal as a page; a CLI (and the page's fetch) as JSON.
  scope.setErrorHandler((error, request, reply) => {
    if (!(error instanceof OpenAIError) || !wantsHtml(request)) throw error;
    return reply
      .code(error.statusCode)
      .headers(error.headers)
      .type('text/html; charset=utf-8')
      .send(errorPage(error));
  });

  /** Sends the browser to the provider, the login's secrets kept under the pre-login cookie. */
  const beginLogin = async (
    reply: FastifyReply,
    intent: Pick<PendingLogin, 'returnTo' | 'cli'>,
  ) => {
    const provider = idp();
    const pending: PendingLogin = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      ...intent,
    };
    const url = await provider.authorizationUrl(pending);
    const id = await store(sessions.startLogin(pending));
    void reply.setCookie(LOGIN_COOKIE, id, {
      ...cookieBase,
      path: '/auth',
      maxAge: PENDING_LOGIN_TTL_MS / 1000,
    });
    return reply.redirect(url.href, 302);
  };

  scope.get<{ Querystring: { returnTo?: string } }>('/auth/login', (request, reply) =>
    beginLogin(reply, { returnTo: safeReturnTo(request.query.returnTo) }),
  );

  // kubectl llm login: the same login, ending at the CLI's loopback address (cli-login.ts).
  scope.get<{ Querystring: Record<string, unknown> }>(CLI_LOGIN_PATH, (request, reply) => {
    idp();
    const cli = cliLoginRequest(request.query);
    return beginLogin(reply, { returnTo: '/', cli });
  });

  scope.get('/auth/callback', async (request, reply) => {
    const provider = idp();
    const loginId = cookieValue(request, LOGIN_COOKIE);
    void reply.clearCookie(LOGIN_COOKIE, { path: '/auth' });
    const pending = loginId === undefined ? undefined : await store(sessions.takeLogin(loginId));
    if (pending === undefined) {
      throw loginRefused(
        400,
        'no_login',
        'This sign-in has expired or was already used (or the browser refused its cookie). Start again at /auth/login.',
      );
    }
    const callbackUrl = new URL(config.login!.redirectUrl);
    const query = request.url.indexOf('?');
    callbackUrl.search = query === -1 ? '' : request.url.slice(query);
    let identity: SignedIn | undefined;
    const signedIn = (result: AuditResult, userName?: string, role?: string) =>
      audit.write(
        personRecord(
          {
            type: 'person',
            name: userName ?? identity?.login ?? '(unknown)',
            groups: identity?.groups ?? [],
            via: pending.cli ? 'cli' : 'session',
          },
          {
            action: 'signin.login',
            ...(userName && { object: { kind: 'User', name: userName } }),
            ...(identity && { changes: { login: identity.login, issuer: identity.issuer, role } }),
            result,
          },
        ),
      );
    let userName: string;
    let role: ReturnType<typeof roleFor>;
    try {
      identity = await provider.callback(callbackUrl, pending);
      role = roleFor(identity.groups, config.roleGroups, config.defaultRole);
      userName = await options.provisioner!.provision(identity, role);
    } catch (err) {
      signedIn(refusedWith(err));
      throw err;
    }
    const session = {
      userName,
      login: identity.login,
      role,
      groups: [...identity.groups],
      issuer: identity.issuer,
      subject: identity.subject,
      ...(identity.idToken && { idToken: identity.idToken }),
      ...(identity.refreshToken && { refreshToken: identity.refreshToken }),
      ...(identity.tokensExpireAt && { tokensExpireAt: identity.tokensExpireAt }),
    };
    if (pending.cli) {
      // The browser's own session is left alone: this login is the CLI's.
      const { redirectUri, codeChallenge } = pending.cli;
      const code = await store(sessions.issueCliCode({ redirectUri, codeChallenge, session }));
      log.info({ user: userName, role, groups: identity.groups.length }, 'signed in (CLI)');
      signedIn(succeeded, userName, role);
      return reply.redirect(loopbackWithCode(pending.cli, code), 303);
    }
    // A new session id at every login (against session fixation): an old one ends here.
    const previous = cookieValue(request, SESSION_COOKIE);
    if (previous !== undefined) await store(sessions.destroy(previous));
    const { id } = await store(sessions.create(session));
    log.info({ user: userName, role, groups: identity.groups.length }, 'signed in');
    signedIn(succeeded, userName, role);
    void reply.setCookie(SESSION_COOKIE, id, {
      ...cookieBase,
      path: '/',
      maxAge: Math.floor(config.sessions.absoluteLifetimeMs / 1000),
    });
    return reply.redirect(pending.returnTo, 303);
  });

  scope.get('/auth/session', async (request) => {
    const principal = request.principal;
    if (principal === undefined) throw notSignedIn();
    return {
      via: principal.via,
      user: principal.userName,
      login: principal.login,
      role: principal.role,
      groups: principal.groups,
      ...(principal.csrfToken && { csrfToken: principal.csrfToken }),
    };
  });

  scope.post('/auth/logout', async (request, reply) => {
    let endSessionUrl: string | undefined;
    if (request.sessionId !== undefined) {
      const session = await store(sessions.get(request.sessionId));
      await store(sessions.destroy(request.sessionId));
      const provider = options.identityProvider;
      // The provider's logout is a browser's business; a CLI token just ends.
      if (provider?.endSessionUrl && config.login && request.principal?.via === 'session') {
        endSessionUrl = (
          await provider
            .endSessionUrl(session?.idToken, postLogoutRedirect(config.login.publicUrl))
            .catch(() => undefined)
        )?.href;
      }
      log.info({ user: request.principal?.userName }, 'signed out');
      if (request.principal) {
        audit.write(
          personRecord(request.principal, { action: 'signin.logout', result: succeeded }),
        );
      }
    }
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { signedOut: true, ...(endSessionUrl && { endSessionUrl }) };
  });
};

/**
 * Where the provider sends the browser after its logout: the page, signed out (the gateway
 * serves nothing at "/"). Register it at the provider as a post-logout redirect URI.
 */
export const postLogoutRedirect = (publicUrl: string) => `${publicUrl}/ui/`;

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return request.method === 'GET' && /text\/html/.test(accept);
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function errorPage(error: OpenAIError): string {
  const title = error.statusCode === 503 ? 'Please wait a moment' : 'Sign-in did not complete';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${title}</h1><p role="alert">${escapeHtml(error.message)}</p>
<p><a href="/auth/login">Sign in again</a></p></main></body></html>
`;
}
