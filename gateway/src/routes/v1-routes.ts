// The OpenAI API under /v1: every route needs a key (the preHandler), GET /v1/models answers
// from the key's policy alone, and everything else is checked (model, limits) and forwarded.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { KeyPolicy, ModelRoutes } from '../../../crds/routing/schema.ts';
import { authenticate } from '../auth/authenticate.ts';
import {
  limitsUnavailable,
  missingModel,
  modelNotAllowed,
  rateLimited,
  OpenAIError,
} from '../errors/openai-error.ts';
import { rateLimitHeaders, refusalMessage } from '../limits/limit-headers.ts';
import { limitScopes } from '../limits/limits-from-policy.ts';
import {
  DEFAULT_OUTPUT_TOKENS,
  tokenReservation,
  tokensToSettle,
} from '../limits/token-estimate.ts';
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
  /** TPM_RESERVE_DEFAULT_OUTPUT_TOKENS: what a request without max_tokens reserves for output. */
  tpmReserveDefaultOutputTokens?: number | undefined;
}

/** Routes whose body must name a model. */
const MODEL_REQUIRED = new Set(['/v1/chat/completions', '/v1/completions', '/v1/embeddings']);

/** LiteLLM's `created` for every model in /v1/models. */
const CREATED = 1677610602;

export const v1Routes: FastifyPluginAsync<V1RoutesOptions> = async (app, options) => {
  const { view, limiter, metrics } = options;

  app.addHook('preHandler', async (request) => {
    const caller = await authenticate(request.headers, view);
    request.state.key = caller.key;
    request.state.policy = caller.policy;
  });

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
    await admit(request, reply, policy, model, limiter, metrics, options);
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
  options: V1RoutesOptions,
): Promise<void> {
  const scopes = limitScopes(policy, model ?? '');
  if (scopes.length === 0) return;
  const reserveTokens = tokenReservation(
    routeOf(request.url),
    request.rawBody === undefined ? undefined : request.body,
    scopes,
    options.tpmReserveDefaultOutputTokens ?? DEFAULT_OUTPUT_TOKENS,
  );
  const admission = { requestId: randomUUID(), team: policy.team, scopes, reserveTokens };
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
  // Whatever happens next (answer, error, caller gone), the slot is freed and the reservation
  // settled: to the usage, or kept when none arrived (token-estimate.ts, tokensToSettle).
  reply.raw.once('close', () => {
    if (state.settled) return;
    state.settled = true;
    const tokens = tokensToSettle({
      usedTokens: state.usage?.totalTokens,
      reserved: reserveTokens,
      answered: reply.raw.writableFinished,
      statusCode: reply.raw.statusCode,
    });
    void limiter.settle(admission, tokens, decision.countedBy, decision.window);
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
