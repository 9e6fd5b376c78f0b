// /v1/models, /model/info and /health/* (CONTRACT-VERIFIED.md §6).
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { authenticate, type Caller } from './auth.ts';
import type { ResolvedModel, ServerContext } from './context.ts';

/** The models a caller may use: all for the master key; else the key's, else its team's, else all. */
export function modelsFor(ctx: ServerContext, caller: Caller): ResolvedModel[] {
  if (caller.admin) return [...ctx.models];
  const allowed = allowedModelNames(ctx, caller);
  return allowed === 'all' ? [...ctx.models] : ctx.models.filter((m) => allowed.has(m.model_name));
}

/** 'all', or the model names the key (then its team) restricts it to. */
export function allowedModelNames(ctx: ServerContext, caller: Caller): 'all' | Set<string> {
  if (caller.admin) return 'all';
  const restrict = (names: readonly string[]) =>
    names.length === 0 || names.includes('all-proxy-models') ? undefined : new Set(names);
  const byKey = restrict(caller.key.models);
  if (byKey) return byKey;
  const team = caller.key.team_id ? ctx.store.teams.get(caller.key.team_id) : undefined;
  return (team && restrict(team.models)) || 'all';
}

export function deploymentId(model: ResolvedModel): string {
  return createHash('sha256').update(`${model.model_name}:${model.upstream_model}`).digest('hex');
}

export function registerModelRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const list = async (request: Parameters<typeof authenticate>[1]) => {
    const caller = authenticate(ctx, request);
    return {
      data: modelsFor(ctx, caller).map((m) => ({
        id: m.model_name,
        object: 'model',
        created: 1677610602,
        owned_by: 'openai',
        mode: m.mode,
        max_input_tokens: m.max_input_tokens ?? null,
        max_output_tokens: m.max_tokens ?? null,
      })),
      object: 'list',
    };
  };
  app.get('/v1/models', list);
  app.get('/models', list);

  const info = async (request: Parameters<typeof authenticate>[1]) => {
    const caller = authenticate(ctx, request);
    return {
      data: modelsFor(ctx, caller).map((m) => ({
        model_name: m.model_name,
        litellm_params: { model: `openai/${m.upstream_model}`, api_base: ctx.upstreamUrl },
        model_info: {
          id: deploymentId(m),
          db_model: false,
          key: m.upstream_model,
          mode: m.mode,
          litellm_provider: 'openai',
          max_tokens: m.max_tokens ?? null,
          max_input_tokens: m.max_input_tokens ?? null,
          max_output_tokens: m.max_tokens ?? null,
          input_cost_per_token: m.input_cost_per_token,
          output_cost_per_token: m.output_cost_per_token,
          supports_function_calling: null,
          supported_openai_params: null,
        },
      })),
    };
  };
  app.get('/model/info', info);
  app.get('/v1/model/info', info);

  // _health_endpoints.py: liveliness is a JSON string; readiness is {status, db}.
  app.get('/health/liveliness', async () => "I'm alive!");
  app.get('/health/liveness', async () => "I'm alive!");
  app.get('/health/readiness', async () => ({ status: 'healthy', db: 'connected' }));
}
