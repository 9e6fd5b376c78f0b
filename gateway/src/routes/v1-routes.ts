// The OpenAI API under /v1: every route needs a key (checked in onRequest, before the body is
// read: auth/authenticate-hook.ts), GET /v1/models answers
// from the key's policy alone, and everything else is checked (model, limits) and forwarded.
import { randomUUID } from 'node:crypto';
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
} from 'fastify';
import type { KeyPolicy, ModelRoutes } from '../../../crds/routing/schema.ts';
import {
  limitsUnavailable,
  missingModel,
  modelNotAllowed,
  rateLimited,
  OpenAIError,
} from '../errors/openai-error.ts';
import { rateLimitHeaders, refusalMessage } from '../limits/limit-headers.ts';
import { limitScopes } from '../limits/limits-from-policy.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { GatewayMetrics } from '../observability/gateway-metrics.ts';
import { forward } from '../proxy/forward.ts';
import type { Upstream } from '../proxy/upstream.ts';
import type { RoutingView } from '../routing/routing-view.ts';

export interface V1RoutesOptions {
  view: RoutingView;
  limiter: RateLimiter;
  upstream: Upstream;
  metrics: GatewayMetrics;
  /** BODY_LIMIT, counted on bodies that stream through (forward). */
  bodyLimitBytes: number;
  /** Checks the key and sets request.state.key and .policy (authenticateOnRequest). */
  authenticate: onRequestHookHandler;
}

/** Routes whose body must name a model. */
const MODEL_REQUIRED = new Set(['/v1/chat/completions', '/v1/completions', '/v1/embeddings']);

/** LiteLLM's `created` for every model in /v1/models. */
const CREATED = 1677610602;

export const v1Routes: FastifyPluginAsync<V1RoutesOptions> = async (app, options) => {
  const { view, limiter, metrics } = options;

  app.addHook('onRequest', options.authenticate);

  app.get('/v1/models', async (request) => ({
    object: 'list',
    data: request.state.policy!.models.map((id) => modelEntry(id, view.models)),
  }));

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) => {
    const model = request.params.model;
    if (!request.state.policy!.models.includes(model)) {
      throw new OpenAIError({
        status: 404,
        type: 'invalid_request_error',
        reason: 'model_not_found',
        param: 'model',
        message: `The model '${model}' does not exist or is not available for this API key.`,
      });
    }
    return modelEntry(model, view.models);
  });

  const proxy = async (request: FastifyRequest, reply: FastifyReply) => {
    const state = request.state;
    const policy = state.policy!;
    const model = modelOf(request.body);
    if (model === undefined && MODEL_REQUIRED.has(routeOf(request.url))) throw missingModel();
    if (model !== undefined) {
      if (!policy.models.includes(model)) throw modelNotAllowed(model);
      state.model = model;
    }
    await admit(request, reply, policy, model, limiter, metrics);
    return forward(request, reply, options);
  };

  app.all('/v1/*', proxy);
};

/** Counts the request in its limits, or refuses it with 429 (or 503 when limits fail closed). */
async function admit(
  request: FastifyRequest,
  reply: FastifyReply,
  policy: KeyPolicy,
  model: string | undefined,
  limiter: RateLimiter,
  metrics: GatewayMetrics,
): Promise<void> {
  const scopes = limitScopes(policy, model ?? '');
  if (scopes.length === 0) return;
  const admission = { requestId: randomUUID(), team: policy.team, scopes };
  const decision = await limiter.admit(admission);
  if (!decision.allowed) {
    if ('unavailable' in decision) throw limitsUnavailable();
    throw rateLimited(refusalMessage(decision, admission), rateLimitHeaders(decision));
  }
  if (decision.countedBy !== 'redis') metrics.rateLimitFallbacks.inc({ mode: decision.countedBy });
  const state = request.state;
  state.admission = admission;
  state.countedBy = decision.countedBy;
  reply.headers(rateLimitHeaders(decision));
  // Whatever happens next (answer, error, caller gone), the slot is freed and tokens debited.
  reply.raw.once('close', () => {
    if (state.settled) return;
    state.settled = true;
    void limiter.settle(admission, state.usage?.totalTokens ?? 0, decision.countedBy);
  });
}

function modelOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const model = (body as { model?: unknown }).model;
  return typeof model === 'string' && model !== '' ? model : undefined;
}

function routeOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function modelEntry(id: string, routes: ModelRoutes | undefined) {
  const route = routes?.models[id];
  return {
    id,
    object: 'model',
    created: CREATED,
    owned_by: route?.provider ?? 'llm-tenancy',
    ...(route?.mode ? { mode: route.mode } : {}),
  };
}
