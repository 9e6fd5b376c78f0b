// An OpenShift-OAuth-shaped server for sign-in tests (node:http, in this process): the API
// server's /.well-known/oauth-authorization-server, the OAuth server's /oauth/authorize and
// /oauth/token (authorization code, PKCE S256 checked when the request had a challenge, as
// OpenShift does; codes used once, client secret by
// HTTP Basic) and user.openshift.io/v1 users/~ answered for its access tokens. OpenShift
// shows a login form at /oauth/authorize; here the person is named by a `login` query
// parameter the test adds (authorizeAsOpenShift), and must be one of `users`.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpenShiftUser {
  name: string;
  fullName?: string;
  groups?: string[];
}

export interface OpenShiftOAuthClient {
  /** The OAuthClient's name. */
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface OpenShiftOAuthServer {
  /** The "API server" URL (discovery and users/~). */
  url: string;
  /** The OAuth server's issuer, as the discovery document says. */
  issuer: string;
  client: OpenShiftOAuthClient;
  /** People by name; read at each login and each users/~. */
  users: Map<string, OpenShiftUser>;
  /** Revokes every access token (users/~ answers 401 for them). */
  revokeTokens(): void;
  stop(): Promise<void>;
}

interface Grant {
  user: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
}

export async function startOpenShiftOAuth(
  options: { client?: Partial<OpenShiftOAuthClient>; users?: OpenShiftUser[] } = {},
): Promise<OpenShiftOAuthServer> {
  const client: OpenShiftOAuthClient = {
    clientId: 'llm-tenancy-gateway',
    clientSecret: 'openshift-oauth-client-secret',
    redirectUri: 'http://127.0.0.1/auth/callback',
    ...options.client,
  };
  const users = new Map((options.users ?? []).map((u) => [u.name, u]));
  const uids = new Map<string, string>();
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, string>();
  const server = createServer((req, res) => void handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${url}/oauth`;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', url);
    if (req.method === 'GET' && u.pathname === '/.well-known/oauth-authorization-server') {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        scopes_supported: ['user:full', 'user:info', 'user:check-access', 'user:list-projects'],
        response_types_supported: ['code', 'token'],
        grant_types_supported: ['authorization_code', 'implicit'],
        code_challenge_methods_supported: ['plain', 'S256'],
      });
    }
    if (req.method === 'GET' && u.pathname === '/oauth/authorize') {
      const q = u.searchParams;
      if (q.get('client_id') !== client.clientId || q.get('redirect_uri') !== client.redirectUri) {
        return json(res, 400, {
          error: 'invalid_request',
          error_description: 'unknown client or redirect_uri',
        });
      }
      const back = new URL(client.redirectUri);
      if (q.get('state')) back.searchParams.set('state', q.get('state')!);
      const login = q.get('login') ?? '';
      if (!users.has(login)) {
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', 'the user denied the request');
      } else if (q.get('code_challenge') && q.get('code_challenge_method') !== 'S256') {
        return json(res, 400, { error: 'invalid_request', error_description: 'only S256 here' });
      } else {
        const code = randomBytes(16).toString('base64url');
        codes.set(code, {
          user: login,
          clientId: client.clientId,
          redirectUri: client.redirectUri,
          challenge: q.get('code_challenge') ?? '',
        });
        back.searchParams.set('code', code);
      }
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (req.method === 'POST' && u.pathname === '/oauth/token') {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const form = new URLSearchParams(body);
      const basic = Buffer.from(
        (req.headers.authorization ?? '').replace(/^Basic /, ''),
        'base64',
      ).toString();
      const [id, secret] = basic.split(':').map((p) => decodeURIComponent(p));
      if (id !== client.clientId || secret !== client.clientSecret) {
        return json(res, 401, { error: 'unauthorized_client' });
      }
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (
        !grant ||
        grant.redirectUri !== form.get('redirect_uri') ||
        (grant.challenge !== '' && grant.challenge !== challenge)
      ) {
        return json(res, 400, {
          error: 'invalid_grant',
          error_description:
            'The provided authorization grant is invalid, expired, revoked, or does not match',
        });
      }
      const token = `sha256~${randomBytes(24).toString('base64url')}`;
      tokens.set(token, grant.user);
      return json(res, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 86_400,
        scope: 'user:info',
      });
    }
    if (req.method === 'GET' && u.pathname === '/apis/user.openshift.io/v1/users/~') {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const name = tokens.get(token);
      const user = name === undefined ? undefined : users.get(name);
      if (!user)
        return json(res, 401, {
          kind: 'Status',
          status: 'Failure',
          reason: 'Unauthorized',
          code: 401,
        });
      if (!uids.has(user.name)) uids.set(user.name, randomUUID());
      return json(res, 200, {
        kind: 'User',
        apiVersion: 'user.openshift.io/v1',
        metadata: { name: user.name, uid: uids.get(user.name) },
        fullName: user.fullName,
        identities: [`htpasswd:${user.name}`],
        groups: user.groups ?? [],
      });
    }
    json(res, 404, { error: 'not found' });
  }

  return {
    url,
    issuer,
    client,
    users,
    revokeTokens: () => tokens.clear(),
    async stop() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The browser's side at OpenShift: the authorization request as `login`; returns the callback URL. */
export async function authorizeAsOpenShift(
  authorizationUrl: string | URL,
  login: string,
): Promise<URL> {
  const url = new URL(authorizationUrl);
  url.searchParams.set('login', login);
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location)
    throw new Error(`OpenShift authorize answered ${res.status}: ${await res.text()}`);
  return new URL(location);
}
