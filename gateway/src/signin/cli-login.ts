// `kubectl llm login`: the browser flow of native apps (RFC 8252, as kubelogin and
// `gcloud auth login` do it), ending in a CLI session instead of a browser cookie.
//
//   1. The CLI listens on 127.0.0.1:<random>, makes a verifier and opens
//      /auth/cli/login?redirect_uri=http://127.0.0.1:<port>/callback&state=S&code_challenge=C
//      (C = base64url(SHA-256(verifier)), PKCE's S256).
//   2. The gateway runs its ordinary login with the identity provider (people-side.ts); at
//      the callback, with the person provisioned, it keeps the would-be session under a
//      one-time code (60 s, GETDEL: once) and redirects the browser to the loopback address
//      with the code and the CLI's state.
//   3. The CLI posts {code, codeVerifier, redirectUri} to /auth/cli/token and gets a token:
//      the id of a new session of kind 'cli' (CLI_SESSION_LIFETIME), sent afterwards as
//      "Authorization: Bearer llmt_cli_…". POST /auth/logout with it ends the session.
//
// Why this flow and not a device code: the person's browser and the CLI are on one machine
// for almost everyone who runs kubectl, the code never leaves that machine (the redirect
// goes to loopback only), and there is no code to type. A code is worthless without the
// verifier only the CLI holds, and is bound to the loopback address it was issued for.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  CLI_TOKEN_PATH,
  CLI_TOKEN_PREFIX,
  challengeOf,
} from '../../../contracts/cli-login/cli-login.ts';
import { sameSecret } from '../../../contracts/cli-login/same-secret.ts';
import { loginRefused } from './people-errors.ts';
import type { CliLoginRequest, SessionStore } from './session-store.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const BASE64URL_256 = /^[A-Za-z0-9_-]{43}$/;

/** `value` when it is an http URL on a loopback address (any port), else undefined. */
export function loopbackRedirect(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048 || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  if (url.username || url.password || url.hash || value.includes('#')) return undefined;
  return url.href;
}

/** The query of /auth/cli/login as a CliLoginRequest; a clear 400 for anything else. */
export function cliLoginRequest(query: Record<string, unknown>): CliLoginRequest {
  const redirectUri = loopbackRedirect(query.redirect_uri);
  if (redirectUri === undefined) {
    throw loginRefused(
      400,
      'cli_redirect',
      'redirect_uri must be http://127.0.0.1:PORT/… (or localhost, [::1]): a CLI login returns only to the machine it runs on.',
    );
  }
  const state = query.state;
  if (typeof state !== 'string' || !/^[\w-]{16,128}$/.test(state)) {
    throw loginRefused(400, 'cli_state', 'state must be 16 to 128 characters of [A-Za-z0-9_-].');
  }
  const challenge = query.code_challenge;
  if (
    query.code_challenge_method !== 'S256' ||
    typeof challenge !== 'string' ||
    !BASE64URL_256.test(challenge)
  ) {
    throw loginRefused(
      400,
      'cli_challenge',
      'code_challenge must be base64url(SHA-256(verifier)) with code_challenge_method=S256.',
    );
  }
  return { redirectUri, state, codeChallenge: challenge };
}

/** Where the browser goes at the end of a CLI login: the loopback address, with the code. */
export function loopbackWithCode(request: CliLoginRequest, code: string): string {
  const url = new URL(request.redirectUri);
  url.searchParams.set('code', code);
  url.searchParams.set('state', request.state);
  return url.href;
}

const TokenRequest = z.strictObject({
  code: z.string().min(1).max(256),
  codeVerifier: z.string().min(43).max(128),
  redirectUri: z.string().max(2048),
});

const codeRefused = () =>
  loginRefused(
    400,
    'cli_code',
    'This login code is unknown, expired (it lives 60 seconds) or already used: run kubectl llm login again.',
  );

export interface CliTokenOptions {
  sessions: SessionStore;
  lifetimeMs: number;
  store: <T>(work: Promise<T>) => Promise<T>;
}

/** POST /auth/cli/token (CLI_TOKEN_PATH): a one-time code and its verifier → a CLI session token. */
export const cliTokenRoute: FastifyPluginAsync<CliTokenOptions> = async (scope, options) => {
  const { sessions, store, lifetimeMs } = options;
  scope.post(CLI_TOKEN_PATH, async (request) => {
    const body = TokenRequest.safeParse(request.body);
    if (!body.success) {
      throw loginRefused(
        400,
        'cli_token_request',
        'The body must be {"code", "codeVerifier", "redirectUri"}.',
      );
    }
    const { code, codeVerifier, redirectUri } = body.data;
    // Taken before it is checked: a wrong verifier spends the code too.
    const issued = await store(sessions.takeCliCode(code));
    if (issued === undefined) throw codeRefused();
    if (!sameSecret(challengeOf(codeVerifier), issued.codeChallenge)) {
      throw loginRefused(
        400,
        'cli_verifier',
        'The code verifier does not match the login that issued this code.',
      );
    }
    if (redirectUri !== issued.redirectUri) {
      throw loginRefused(
        400,
        'cli_verifier',
        'The redirect URI is not the one this code was issued for.',
      );
    }
    const { id, session } = await store(
      sessions.create({ ...issued.session, kind: 'cli' }, lifetimeMs),
    );
    return {
      token: `${CLI_TOKEN_PREFIX}${id}`,
      expiresAt: new Date(session.absoluteDeadline).toISOString(),
      user: session.userName,
      login: session.login,
      role: session.role,
    };
  });
};
