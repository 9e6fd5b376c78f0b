// The route allowlist, first thing on every request (an onRequest hook registered before the
// key is checked): the path is normalised (normalise-path.ts) and looked up in the route table
// (route-table.ts). A refused path gets 400, a route the gateway does not serve 404, both before
// the key is looked at or a byte of the body is read, and neither is ever forwarded. A served
// request goes on with its normalised path as its URL (so it is forwarded on that path) and its
// route on `request.gatewayRoute`. The people side's paths (signin/people-side.ts: /auth,
// /api, /ui) pass the same normalisation and then go to fastify's own router, never to
// LiteLLM; one it does not serve gets the same OpenAI-shaped 404 (app.ts's not-found handler).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalisePath, type NormalisedPath } from './normalise-path.ts';
import { invalidPath, unknownRoute } from './route-errors.ts';
import { RouteTable, type RouteMatch } from './route-table.ts';

export interface GatewayRoute extends RouteMatch {
  /** The query string as received, with its "?" (or ""). */
  query: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The served route this request is (set by the route guard before anything else reads it). */
    gatewayRoute: GatewayRoute | undefined;
  }
}

/** "/auth", "/auth/…": a path under one of `prefixes`. */
export function isUnder(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some(
    (prefix) =>
      path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '/'),
  );
}

export function addRouteGuard(
  app: FastifyInstance,
  table = new RouteTable(),
  peoplePrefixes: readonly string[] = [],
): void {
  app.decorateRequest('gatewayRoute', undefined);
  // Callback style, like the gateway's other hooks: no promise per request.
  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.raw.url ?? '/';
    const normalised = normalisedFor(url, peoplePrefixes);
    if (!normalised.ok) return done(invalidPath(normalised.problem));
    const { path, query } = normalised;
    if (isUnder(path, peoplePrefixes)) {
      if (path + query !== url) request.raw.url = path + query;
      return done();
    }
    const match = table.match(request.method, path);
    if (match === undefined) return done(unknownRoute(request.method, path));
    // One object per request (no spread): the match itself may be the table's shared one.
    request.gatewayRoute =
      match.pathModel === undefined
        ? { route: match.route, query }
        : { route: match.route, pathModel: match.pathModel, query };
    // From here on request.url is the normalised path: forwarded, logged and routed as checked.
    const checked = path + query;
    if (checked !== url) request.raw.url = checked;
    done();
  });
}

/**
 * The normalised path, where only a people path may end in "/": the page is a directory
 * ("/ui/", its index.html, where fastify-static redirects "/ui"). Everything else about it is
 * normalised as any path is; "/v1/models/" stays refused.
 */
function normalisedFor(url: string, peoplePrefixes: readonly string[]): NormalisedPath {
  const normalised = normalisePath(url);
  if (normalised.ok || peoplePrefixes.length === 0) return normalised;
  const q = url.indexOf('?');
  const raw = q === -1 ? url : url.slice(0, q);
  if (raw.length < 2 || !raw.endsWith('/')) return normalised;
  const directory = normalisePath(raw.slice(0, -1) + (q === -1 ? '' : url.slice(q)));
  if (!directory.ok || !isUnder(directory.path, peoplePrefixes)) return normalised;
  return { ok: true, path: `${directory.path}/`, query: directory.query };
}

/**
 * fastify's `frameworkErrors`: the refusals fastify makes before any hook runs (a path its
 * router cannot decode, "%zz") in OpenAI's shape, like the guard's own.
 */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const refusal =
    error.code === 'FST_ERR_BAD_URL'
      ? invalidPath('the path has a malformed percent-encoding')
      : invalidPath(error.message);
  void reply.code(refusal.statusCode).send(refusal.toBody());
}
