// Bearer authentication as LiteLLM does it (CONTRACT-VERIFIED.md §0, §5): the master key is
// the proxy admin (user_id default_user_id); anything else must be a live virtual key.
// The 401 shapes are LiteLLM's: auth_error / token_not_found_in_db / expired_key, param
// "None" or "key".
import type { FastifyRequest } from 'fastify';
import { PROXY_ADMIN_ID, type ServerContext } from './context.ts';
import { proxyError } from './http-errors.ts';
import { abbreviate, hashToken, type KeyRecord } from './store.ts';

export type Caller =
  | { admin: true; user_id: string; key?: undefined }
  | { admin: false; user_id: string | null; key: KeyRecord };

export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (match) return match[1]!.trim();
    return header.trim() || undefined;
  }
  const apiKey = request.headers['x-litellm-api-key'] ?? request.headers['api-key'];
  return typeof apiKey === 'string' && apiKey ? apiKey : undefined;
}

export function authenticate(ctx: ServerContext, request: FastifyRequest): Caller {
  const bearer = bearerOf(request);
  if (!bearer)
    throw proxyError(401, 'Authentication Error, No api key passed in.', 'auth_error', 'None');
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
  if (key.expires && Date.parse(key.expires) <= ctx.store.now().getTime()) {
    throw proxyError(
      401,
      `Authentication Error - Expired Key. Key Expiry time ${key.expires} and current time ${ctx.store.timestamp()}`,
      'expired_key',
      abbreviate(bearer),
    );
  }
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

/** Management routes are the proxy admin's (route_checks.py › _raise_admin_only_route_exception). */
export function requireAdmin(ctx: ServerContext, request: FastifyRequest): Caller {
  const caller = authenticate(ctx, request);
  if (!caller.admin) {
    const route = request.url.split('?')[0];
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
