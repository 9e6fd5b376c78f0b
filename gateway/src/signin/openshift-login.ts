// Login with OpenShift's OAuth server, which is OAuth 2 and not OpenID Connect: no ID token.
// Its endpoints are discovered from the API server (/.well-known/oauth-authorization-server;
// the OAuth server's own issuer differs from the API server's URL, so the document is read
// here and handed to openid-client as the server's metadata). Authorization code with PKCE
// S256 and state; the person is then `GET /apis/user.openshift.io/v1/users/~` with the access
// token: the User's name is the login, its uid the subject, its groups the groups.
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import type { LoginConfig } from './signin-config.ts';
import type { IdentityProvider, SignedIn } from './identity-provider.ts';
import { identityProviderUnavailable, loginRefused } from './people-errors.ts';
import type { PendingLogin } from './session-store.ts';
import { validationProblem } from './oidc-login.ts';

interface OpenShiftUser {
  metadata?: { name?: string; uid?: string };
  fullName?: string;
  groups?: string[] | null;
}

const TIMEOUT_MS = 10_000;

export class OpenShiftLogin implements IdentityProvider {
  readonly #config: LoginConfig;
  readonly #log: Logger;
  #discovered: Promise<oidc.Configuration> | undefined;

  constructor(config: LoginConfig, logger: Logger) {
    this.#config = config;
    this.#log = logger.child({ component: 'openshift-login' });
  }

  #configuration(): Promise<oidc.Configuration> {
    this.#discovered ??= this.#discover().catch((err: unknown) => {
      this.#discovered = undefined;
      this.#log.error(
        { err: { message: (err as Error).message }, server: this.#config.serverUrl },
        'OpenShift OAuth discovery failed',
      );
      throw identityProviderUnavailable();
    });
    return this.#discovered;
  }

  async #discover(): Promise<oidc.Configuration> {
    const res = await fetch(`${this.#config.serverUrl}/.well-known/oauth-authorization-server`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`the discovery document answered HTTP ${res.status}`);
    const metadata = (await res.json()) as oidc.ServerMetadata;
    if (!metadata.issuer || !metadata.authorization_endpoint || !metadata.token_endpoint) {
      throw new Error(
        'the discovery document lacks issuer, authorization_endpoint or token_endpoint',
      );
    }
    const config = new oidc.Configuration(
      metadata,
      this.#config.clientId,
      undefined,
      oidc.ClientSecretBasic(this.#config.clientSecret),
    );
    config.timeout = TIMEOUT_MS / 1000;
    if (this.#config.allowHttp) oidc.allowInsecureRequests(config);
    return config;
  }

  async authorizationUrl(pending: PendingLogin): Promise<URL> {
    const config = await this.#configuration();
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#config.redirectUrl,
      scope: this.#config.scopes,
      state: pending.state,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  async callback(callbackUrl: URL, pending: PendingLogin): Promise<SignedIn> {
    const config = await this.#configuration();
    let accessToken: string;
    let expiresIn: number | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
      });
      accessToken = tokens.access_token;
      expiresIn = tokens.expiresIn();
    } catch (err) {
      if (err instanceof oidc.AuthorizationResponseError) {
        throw loginRefused(
          401,
          'provider_error',
          `OpenShift refused the login: ${err.error_description ?? err.error}.`,
        );
      }
      if (err instanceof oidc.ResponseBodyError) {
        throw loginRefused(
          401,
          'token_refused',
          `OpenShift refused the authorization code: ${err.error_description ?? err.error}. Sign in again.`,
        );
      }
      if (err instanceof oidc.ClientError) {
        throw loginRefused(
          401,
          'invalid_callback',
          `The login response failed validation: ${validationProblem(err)}. Sign in again.`,
        );
      }
      this.#log.error(
        { err: { message: (err as Error).message } },
        'the OpenShift token request failed',
      );
      throw identityProviderUnavailable();
    }
    const user = await this.#whoAmI(accessToken);
    const login = user.metadata?.name;
    const uid = user.metadata?.uid;
    if (!login || !uid)
      throw loginRefused(401, 'no_username', 'OpenShift returned a user without a name or uid.');
    return {
      issuer: config.serverMetadata().issuer,
      subject: uid,
      login,
      displayName: user.fullName || undefined,
      groups: (user.groups ?? []).filter((g) => typeof g === 'string'),
      tokensExpireAt: Date.now() + (expiresIn ?? 86_400) * 1000,
    };
  }

  async #whoAmI(accessToken: string): Promise<OpenShiftUser> {
    let res: Response;
    try {
      res = await fetch(`${this.#config.serverUrl}/apis/user.openshift.io/v1/users/~`, {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      this.#log.error({ err: { message: (err as Error).message } }, 'users/~ failed');
      throw identityProviderUnavailable();
    }
    if (res.status === 401 || res.status === 403) {
      throw loginRefused(
        401,
        'token_refused',
        'OpenShift did not accept the access token it issued. Sign in again.',
      );
    }
    if (!res.ok) {
      this.#log.error({ status: res.status }, 'users/~ answered an error');
      throw identityProviderUnavailable();
    }
    return (await res.json()) as OpenShiftUser;
  }
}
