// A virtual key's allowed_routes, enforced as LiteLLM 1.108.7 does before any handler runs
// (route_checks › RouteChecks.should_call_route → is_virtual_key_allowed_to_call_route):
// empty or null allows every route its role may call; otherwise the route must equal an
// entry, lie under one ("/x" admits "/x/…"), or belong to a named route group of
// _types › LiteLLMRoutes. Else 403 as a bare FastAPI HTTPException: {detail: "Virtual key is
// not allowed to call this route. …"} (raised outside handle_exception_on_proxy).
//
// The groups list the routes of LiteLLM's groups that this server serves, nothing more.
import { detailError } from './http-errors.ts';
import type { KeyRecord } from './store.ts';

const INFERENCE = ['/chat/completions', '/completions', '/embeddings'].flatMap((r) => [
  r,
  `/v1${r}`,
]);

/** _types › LiteLLMRoutes (openai_routes + … + model_info_routes ⊂ llm_api_routes). */
export const ROUTE_GROUPS: Readonly<Record<string, readonly string[]>> = {
  openai_routes: INFERENCE,
  llm_api_routes: [...INFERENCE, '/models', '/v1/models', '/model/info', '/v1/model/info'],
  info_routes: [
    '/key/info',
    '/team/info',
    '/team/list',
    '/user/info',
    '/model/info',
    '/v1/model/info',
    '/key/list',
    '/models',
    '/v1/models',
  ],
  management_routes: [
    '/user/new',
    '/user/update',
    '/user/delete',
    '/user/info',
    '/user/list',
    '/team/new',
    '/team/update',
    '/team/delete',
    '/team/list',
    '/team/info',
    '/team/block',
    '/team/unblock',
    '/team/member_add',
    '/team/member_delete',
    '/team/member_update',
    '/key/generate',
    '/key/update',
    '/key/delete',
    '/key/info',
    '/key/regenerate',
    '/key/list',
    '/key/block',
    '/key/unblock',
  ],
};

/** KME › handle_key_type: the allowed_routes a key_type preset sets (default: none). */
export function presetRoutes(keyType: string | null | undefined): string[] | undefined {
  switch (keyType) {
    case 'llm_api':
      return ['llm_api_routes'];
    case 'management':
      return ['management_routes'];
    case 'read_only':
      return ['info_routes'];
    default:
      return undefined;
  }
}

export function routeAllowed(allowed: readonly string[], route: string): boolean {
  if (allowed.length === 0) return true;
  return allowed.some(
    (entry) =>
      route === entry ||
      route.startsWith(`${entry}/`) ||
      (ROUTE_GROUPS[entry]?.includes(route) ?? false),
  );
}

/** Python's repr of a list of strings, as the message shows allowed_routes. */
function pyList(items: readonly string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}

export function checkAllowedRoutes(key: KeyRecord, route: string): void {
  const allowed = key.allowed_routes ?? [];
  if (routeAllowed(allowed, route)) return;
  throw detailError(
    403,
    `Virtual key is not allowed to call this route. Only allowed to call routes: ${pyList(allowed)}. Tried to call route: ${route}`,
  );
}
