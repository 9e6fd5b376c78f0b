// Login with an OpenID provider (Dex, Keycloak, …) through openid-client: discovery (lazily,
// and again after a failure, so a provider down at start does not keep sign-in down),
// authorization code with PKCE S256, state and nonce; openid-client validates the ID token
// (signature, issuer, audience, expiry, nonce). The login name and groups come from its
// claims (OIDC_USERNAME_CLAIM, OIDC_GROUPS_CLAIM).
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import type { LoginConfig } from './signin-config.ts';
import type { IdentityProvider, SignedIn } from './identity-provider.ts';
import { identityProviderUnavailable, loginRefused } from './people-errors.ts';
import type { PendingLogin } from './session-store.ts';
import { OpenAIError } from '../errors/openai-error.ts';

/** openid-client's ClientError says "invalid response encountered"; its cause says what. */
export function validationProblem(err: Error): string {
  const cause = err.cause;
  const message = cause instanceof Error ? cause.message : err.message;
  return message.replace(/\.$/, '');
}

export class OidcLogin implements IdentityProvider {
  readonly #config: LoginConfig;
  readonly #log: Logger;
  readonly #clockSkewSeconds: number;
  #discovered: Promise<oidc.Configuration> | undefined;

  /** clockSkewSeconds: how far ahead of ours the provider's clock is taken to be (tests). */
  constructor(config: LoginConfig, logger: Logger, options: { clockSkewSeconds?: number } = {}) {
    this.#config = config;
    this.#log = logger.child({ component: 'oidc-login' });
    this.#clockSkewSeconds = options.clockSkewSeconds ?? 0;
  }

  #configuration(): Promise<oidc.Configuration> {
    this.#discovered ??= oidc
      .discovery(
        new URL(this.#config.serverUrl),
        this.#config.clientId,
        this.#clockSkewSeconds === 0 ? undefined : { [oidc.clockSkew]: this.#clockSkewSeconds },
        oidc.ClientSecretBasic(this.#config.clientSecret),
        this.#config.allowHttp
          ? { execute: [oidc.allowInsecureRequests], timeout: 10 }
          : { timeout: 10 },
      )
      .catch((err: unknown) => {
        this.#discovered = undefined;
        this.#log.error(
          { err: { message: (err as Error).message }, issuer: this.#config.serverUrl },
          'OIDC discovery failed',
        );
        throw identityProviderUnavailable();
      });
    return this.#discovered;
  }

  async authorizationUrl(pending: PendingLogin): Promise<URL> {
    const config = await this.#configuration();
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#config.redirectUrl,
      scope: this.#config.scopes,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      // OpenID Connect Core 11: offline_access (a refresh token) is granted on consent only.
      ...(this.#config.scopes.split(/\s+/).includes('offline_access') && { prompt: 'consent' }),
    });
  }

  async callback(callbackUrl: URL, pending: PendingLogin): Promise<SignedIn> {
    const config = await this.#configuration();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw this.#refusal(err);
    }
    const idClaims = tokens.claims();
    if (!idClaims)
      throw loginRefused(401, 'no_id_token', 'The identity provider returned no ID token.');
    const claims = await this.#withUserInfo(config, tokens.access_token, idClaims);
    const login = this.#login(claims);
    const groupsClaim = claims[this.#config.groupsClaim];
    const groups = Array.isArray(groupsClaim)
      ? groupsClaim.filter((g): g is string => typeof g === 'string')
      : [];
    return {
      issuer: claims.iss,
      subject: claims.sub,
      login,
      email:
        typeof claims.email === 'string' && claims.email_verified !== false
          ? claims.email
          : undefined,
      displayName: typeof claims.name === 'string' ? claims.name : undefined,
      groups,
      idToken: tokens.id_token,
      refreshToken: tokens.refresh_token,
      tokensExpireAt: Date.now() + (tokens.expiresIn() ?? 3600) * 1000,
    };
  }

  /**
   * The ID token's claims completed by the UserInfo endpoint's (many providers put groups,
   * e-mail and name only there); the ID token's own claims win, its subject must match.
   */
  async #withUserInfo(
    config: oidc.Configuration,
    accessToken: string,
    claims: oidc.IDToken,
  ): Promise<oidc.IDToken> {
    if (!config.serverMetadata().userinfo_endpoint) return claims;
    try {
      const info = await oidc.fetchUserInfo(config, accessToken, claims.sub);
      return { ...info, ...claims };
    } catch (err) {
      throw this.#refusal(err);
    }
  }

  #login(claims: oidc.IDToken): string {
    const claim = this.#config.usernameClaim;
    const value = claims[claim];
    if (typeof value !== 'string' || value === '') {
      throw loginRefused(
        401,
        'no_username',
        `The identity provider's ID token has no "${claim}" claim (OIDC_USERNAME_CLAIM): ask for the matching scope or choose another claim.`,
      );
    }
    if (claim === 'email' && claims.email_verified === false) {
      throw loginRefused(
        401,
        'email_unverified',
        'Your e-mail address is not verified at the identity provider.',
      );
    }
    return value;
  }

  async refresh(refreshToken: string) {
    const config = await this.#configuration();
    try {
      const tokens = await oidc.refreshTokenGrant(config, refreshToken);
      return {
        idToken: tokens.id_token,
        refreshToken: tokens.refresh_token ?? refreshToken,
        tokensExpireAt: Date.now() + (tokens.expiresIn() ?? 3600) * 1000,
      };
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError) return undefined;
      throw this.#refusal(err);
    }
  }

  async endSessionUrl(idToken: string | undefined, postLogoutRedirect: string) {
    const config = await this.#configuration();
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(config, {
      post_logout_redirect_uri: postLogoutRedirect,
      ...(idToken && { id_token_hint: idToken }),
    });
  }

  /** openid-client's errors as what the person is told; network failures as 503. */
  #refusal(err: unknown) {
    if (err instanceof OpenAIError) return err;
    if (err instanceof oidc.AuthorizationResponseError) {
      return loginRefused(
        401,
        'provider_error',
        `The identity provider refused the login: ${err.error_description ?? err.error}.`,
      );
    }
    if (err instanceof oidc.ResponseBodyError) {
      return loginRefused(
        401,
        'token_refused',
        `The identity provider refused the authorization code: ${err.error_description ?? err.error}. Sign in again.`,
      );
    }
    if (err instanceof oidc.ClientError) {
      return loginRefused(
        401,
        'invalid_callback',
        `The login response failed validation: ${validationProblem(err)}. Sign in again.`,
      );
    }
    this.#log.error({ err: { message: (err as Error).message } }, 'the token request failed');
    return identityProviderUnavailable();
  }
}
