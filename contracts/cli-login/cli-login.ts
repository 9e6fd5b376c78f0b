// What `kubectl llm login` and the gateway agree on (the flow: gateway/src/signin/cli-login.ts):
// the routes, the PKCE S256 challenge of the CLI's verifier, and the token's prefix.
import { createHash } from 'node:crypto';

/** GET: starts a login that ends at the CLI's loopback address. */
export const CLI_LOGIN_PATH = '/auth/cli/login';
/** POST {code, codeVerifier, redirectUri}: the one-time code → a CLI token. */
export const CLI_TOKEN_PATH = '/auth/cli/token';

/** The CLI token's recognisable prefix (for secret scanners, and the gateway's bearer check). */
export const CLI_TOKEN_PREFIX = 'llmt_cli_';

/** base64url(SHA-256(verifier)), PKCE's S256 (RFC 7636). */
export const challengeOf = (verifier: string): string =>
  createHash('sha256').update(verifier, 'utf8').digest('base64url');
