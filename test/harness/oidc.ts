// An OpenID Provider in this process: panva's oidc-provider (certified), on a free loopback
// port, with one confidential client for the gateway and accounts taken from a table the
// test fills in. The built-in development login form (devInteractions) accepts any login
// name; the account behind it is whatever `users` holds for that name, and a name missing
// there fails the login (oidc-provider answers `server_error`). oidc-login.ts plays the
// browser's part of that form.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import Provider, { type Account, type JWK } from 'oidc-provider';

export interface OidcUser {
  /** Login name and subject. */
  sub: string;
  email?: string;
  name?: string;
  groups?: string[];
}

export interface OidcClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface OidcOptions {
  client?: Partial<OidcClient>;
  /** More clients of the same provider (a forged callback brings a code issued to one). */
  extraClients?: readonly OidcClient[];
  users?: readonly OidcUser[];
}

export interface OidcServer {
  /** http://127.0.0.1:PORT, exactly as in the discovery document. */
  issuer: string;
  client: OidcClient;
  /** Accounts by `sub`; change it at any time, logins read it when they happen. */
  users: Map<string, OidcUser>;
  provider: Provider;
  stop(): Promise<void>;
}

export const DEFAULT_CLIENT: OidcClient = {
  clientId: 'llm-tenancy-gateway',
  clientSecret: 'llm-tenancy-gateway-secret',
  redirectUri: 'http://127.0.0.1/auth/callback',
};

/** A fresh RS256 signing key (RS256 is the algorithm every client must support). */
async function signingKey(): Promise<JWK> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: 'testenv',
    alg: 'RS256',
    use: 'sig',
  } as JWK;
}

function account(user: OidcUser): Account {
  return {
    accountId: user.sub,
    claims: () => ({
      sub: user.sub,
      email: user.email,
      email_verified: user.email !== undefined,
      name: user.name,
      groups: user.groups ?? [],
    }),
  };
}

export async function startOidcProvider(options: OidcOptions = {}): Promise<OidcServer> {
  const client = { ...DEFAULT_CLIENT, ...options.client };
  const users = new Map((options.users ?? []).map((u) => [u.sub, u]));
  const key = await signingKey();
  // Listen first: the issuer must name the port, and port 0 cannot be stolen by another process.
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: [client, ...(options.extraClients ?? [])].map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: [c.redirectUri],
      // Where the gateway asks the provider's logout to send the browser (people-side.ts).
      post_logout_redirect_uris: [new URL('/ui/', c.redirectUri).href],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })),
    jwks: { keys: [key] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    // Fixed lifetimes (seconds) and JSON error pages: what a test wants, and without them
    // oidc-provider prints a notice each time it falls back to its defaults.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 86_400,
      Grant: 86_400,
      Session: 86_400,
    },
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
    findAccount: (_ctx, sub) => {
      const user = users.get(sub);
      return user && account(user);
    },
  });
  const handle = provider.callback();
  // Koa's handler answers errors itself; its promise carries nothing for us.
  server.on('request', (req, res) => void handle(req, res));

  return {
    issuer,
    client,
    users,
    provider,
    async stop() {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
