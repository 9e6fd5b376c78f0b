// Key authentication as LiteLLM does it (CONTRACT-VERIFIED.md §0, §5): which header carries
// the key (bearerOf), the master key is the proxy admin (user_id default_user_id); anything
// else must be a live virtual key (not blocked, not expired, its team not blocked) whose
// allowed_routes admit the route (routes.ts), checked before any handler runs.
// The 401 shapes are LiteLLM's: auth_error / token_not_found_in_db / expired_key, param
// "None" or "key".
import type { FastifyRequest } from 'fastify';
import { PROXY_ADMIN_ID, type ServerContext } from './context.ts';
import { proxyError } from './http-errors.ts';
import { checkAllowedRoutes } from './routes.ts';
import { abbreviate, hashToken, type KeyRecord } from './store.ts';

export type Caller =
  | { admin: true; user_id: string; key?: undefined }
  | { admin: false; user_id: string | null; key: KeyRecord };

/**
 * The key a request carries, as LiteLLM 1.108.7 picks it (UAK › get_api_key): the first of
 * these headers that is present and non-empty wins, whatever the others say —
 *
 *   x-litellm-api-key          "Bearer "/"bearer "/"Basic " stripped, else taken as it is
 *   Authorization              "Bearer "/"bearer "/"Basic " stripped; anything else (no
 *                              prefix, "BEARER x", "Token x") is a malformed key, and the
 *                              headers below are NOT consulted
 *   API-Key, x-api-key, x-goog-api-key, Ocp-Apim-Subscription-Key   taken as they are
 *
 * Returns undefined when none is present, "" for a malformed Authorization header.
 */
export function bearerOf(request: FastifyRequest): string | undefined {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    return first ? first : undefined; // FastAPI's APIKeyHeader: an empty header is no header
  };
  const custom = header('x-litellm-api-key');
  if (custom !== undefined) return stripPrefix(custom) ?? custom;
  const authorization = header('authorization');
  if (authorization !== undefined) return stripPrefix(authorization) ?? '';
  for (const name of ['api-key', 'x-api-key', 'x-goog-api-key', 'ocp-apim-subscription-key']) {
    const value = header(name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** UAK › get_bearer_token: Python's str.replace, so every occurrence of the prefix goes. */
function stripPrefix(value: string): string | undefined {
  for (const prefix of ['Bearer ', 'Basic ', 'bearer ']) {
    if (value.startsWith(prefix)) return value.replaceAll(prefix, '');
  }
  return undefined;
}

export function authenticate(ctx: ServerContext, request: FastifyRequest): Caller {
  const bearer = bearerOf(request);
  if (bearer === undefined)
    throw proxyError(401, 'Authentication Error, No api key passed in.', 'auth_error', 'None');
  if (bearer === '') {
    throw proxyError(
      401,
      'Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` prefix.',
      'auth_error',
      'None',
    );
  }
  if (bearer === ctx.masterKey) return { admin: true, user_id: PROXY_ADMIN_ID };
  if (!bearer.startsWith('sk-')) {
    throw proxyError(
      401,
      `Authentication Error, LiteLLM Virtual Key expected. Received=${abbreviate(bearer)}, expected to start with 'sk-'.`,
      'auth_error',
      'None',
    );
  }
  const key = ctx.store.keys.get(hashToken(bearer));
  if (!key) {
    throw proxyError(
      401,
      'Authentication Error, Invalid API key provided.',
      'token_not_found_in_db',
      'key',
    );
  }
  if (key.blocked) {
    throw proxyError(
      401,
      "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
      'auth_error',
      'None',
    );
  }
  // UAK: `expiry_time < current_time`; a key is still valid at its expiry instant.
  if (key.expires && Date.parse(key.expires) < ctx.store.now().getTime()) {
    throw proxyError(
      401,
      `Authentication Error - Expired Key. Key Expiry time ${key.expires} and current time ${ctx.store.timestamp()}`,
      'expired_key',
      abbreviate(bearer),
    );
  }
  // route_checks › should_call_route runs before common_checks (the team's block, the
  // admin-only routes): a key limited to the LLM API routes gets this 403 first.
  checkAllowedRoutes(key, routeOf(request));
  const team = key.team_id ? ctx.store.teams.get(key.team_id) : undefined;
  if (team?.blocked) {
    throw proxyError(
      401,
      `Authentication Error, Team=${team.team_id} is blocked. Update via /team/unblock if you're an admin.`,
      'auth_error',
      'None',
    );
  }
  return { admin: false, user_id: key.user_id, key };
}

export function routeOf(request: FastifyRequest): string {
  return request.url.split('?')[0]!;
}

/** Management routes are the proxy admin's (route_checks.py › _raise_admin_only_route_exception). */
export function requireAdmin(ctx: ServerContext, request: FastifyRequest): Caller {
  const caller = authenticate(ctx, request);
  if (!caller.admin) {
    const route = routeOf(request);
    const userId = caller.user_id ? `${caller.user_id.slice(0, 2)}***` : 'unknown';
    throw proxyError(
      401,
      `Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=${route}. Your role=internal_user. Your user_id=${userId}`,
      'auth_error',
      'None',
    );
  }
  return caller;
}
