// What the login routes need from an identity provider, OpenID Connect (oidc-login.ts) or
// OpenShift OAuth (openshift-login.ts): where to send the browser, and who came back.
import type { PendingLogin } from './session-store.ts';
import type { LoginIdentity } from './user-provisioner.ts';

export interface SignedIn extends LoginIdentity {
  /** Kept for RP-initiated logout. */
  idToken?: string | undefined;
  refreshToken?: string | undefined;
  /** Epoch ms when the provider's tokens expire. */
  tokensExpireAt?: number | undefined;
}

export interface IdentityProvider {
  /** The authorization request for a login under way (state, nonce, PKCE S256 challenge). */
  authorizationUrl(pending: PendingLogin): Promise<URL>;
  /**
   * The identity in a callback (`callbackUrl`: the registered redirect URL with the query the
   * browser brought). Throws an OpenAIError: loginRefused for anything wrong with the
   * callback, identityProviderUnavailable when the provider cannot be reached.
   */
  callback(callbackUrl: URL, pending: PendingLogin): Promise<SignedIn>;
  /**
   * Fresh tokens for a session whose tokens expired; undefined when the provider no longer
   * vouches for the person (the session must end).
   */
  refresh?(
    refreshToken: string,
  ): Promise<Pick<SignedIn, 'refreshToken' | 'tokensExpireAt' | 'idToken'> | undefined>;
  /** Where to send the browser to end the provider's session too, when it supports that. */
  endSessionUrl?(idToken: string | undefined, postLogoutRedirect: string): Promise<URL | undefined>;
}
