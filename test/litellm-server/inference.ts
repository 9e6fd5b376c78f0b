// The OpenAI-compatible routes: /v1/chat/completions, /v1/completions, /v1/embeddings (and
// the same without /v1). The virtual key is checked as LiteLLM does (CONTRACT-VERIFIED.md §5:
// 401 unknown/expired/blocked, 403 key_model_access_denied, 422 budget_exceeded), then the
// request goes to the fake OpenAI upstream; spend is booked on the key, its user and team, and
// on their daily rows (daily-spend.ts), from the upstream's `usage`. Streaming is passed through as it comes.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type Caller } from './auth.ts';
import { LITELLM_VERSION, type ResolvedModel, type ServerContext } from './context.ts';
import { bodyOf } from './fields.ts';
import { HttpError, proxyError } from './http-errors.ts';
import { allowedModelNames, deploymentId } from './models.ts';

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

function accessDenied(ctx: ServerContext, caller: Caller, model: string): HttpError | undefined {
  if (caller.admin) return undefined;
  const allowed = allowedModelNames(ctx, caller);
  if (allowed === 'all' || allowed.has(model)) return undefined;
  const byKey = caller.key.models.length > 0 && !caller.key.models.includes('all-proxy-models');
  return byKey
    ? proxyError(
        403,
        `The requested model '${model}' is not available for this API key, or the model name is invalid. Check the models available to you and try again.`,
        'key_model_access_denied',
        'model',
      )
    : proxyError(
        403,
        `The requested model '${model}' is not available for this team, or the model name is invalid. Check the models available to you and try again.`,
        'team_model_access_denied',
        'model',
      );
}

function budgetExceeded(ctx: ServerContext, caller: Caller): HttpError | undefined {
  if (caller.admin) return undefined;
  const key = caller.key;
  const exceeded = (spend: number, max: number | null) => max !== null && spend >= max;
  if (exceeded(key.spend, key.max_budget)) {
    return proxyError(
      422,
      `Budget has been exceeded! Key=${key.token} Current cost: ${key.spend}, Max budget: ${key.max_budget}`,
      'budget_exceeded',
      null,
    );
  }
  const team = key.team_id ? ctx.store.teams.get(key.team_id) : undefined;
  if (team && exceeded(team.spend, team.max_budget)) {
    return proxyError(
      422,
      `Budget has been exceeded! Team=${team.team_id} Current cost: ${team.spend}, Max budget: ${team.max_budget}`,
      'budget_exceeded',
      null,
    );
  }
  const user = key.user_id ? ctx.store.users.get(key.user_id) : undefined;
  if (user && exceeded(user.spend, user.max_budget)) {
    return proxyError(
      422,
      `Budget has been exceeded! User=${user.user_id} Current cost: ${user.spend}, Max budget: ${user.max_budget}`,
      'budget_exceeded',
      null,
    );
  }
  return undefined;
}

function bookSpend(
  ctx: ServerContext,
  caller: Caller,
  model: ResolvedModel,
  usage: Usage | undefined,
): number {
  const cost =
    (usage?.prompt_tokens ?? 0) * model.input_cost_per_token +
    (usage?.completion_tokens ?? 0) * model.output_cost_per_token;
  if (caller.admin || cost === 0) return cost;
  const key = caller.key;
  key.spend += cost;
  key.model_spend[model.model_name] =
    ((key.model_spend[model.model_name] as number | undefined) ?? 0) + cost;
  const team = key.team_id ? ctx.store.teams.get(key.team_id) : undefined;
  if (team) team.spend += cost;
  const user = key.user_id ? ctx.store.users.get(key.user_id) : undefined;
  if (user) user.spend += cost;
  ctx.store.dailySpend.book({
    at: ctx.store.now(),
    user_id: key.user_id,
    team_id: key.team_id,
    api_key: key.token,
    model: model.upstream_model,
    model_group: model.model_name,
    prompt_tokens: usage?.prompt_tokens ?? 0,
    completion_tokens: usage?.completion_tokens ?? 0,
    spend: cost,
  });
  return cost;
}

export function registerInferenceRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const handler =
    (route: 'chat/completions' | 'completions' | 'embeddings') =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const caller = authenticate(ctx, request);
      const body = bodyOf(request);
      const name = typeof body.model === 'string' ? body.model : undefined;
      const denied = name === undefined ? undefined : accessDenied(ctx, caller, name);
      if (denied) throw denied;
      const overBudget = budgetExceeded(ctx, caller);
      if (overBudget) throw overBudget;
      const model = ctx.models.find((m) => m.model_name === name);
      if (!model) {
        throw proxyError(
          400,
          `/${route}: Invalid model name passed in model=${name ?? 'None'}. Call \`/v1/models\` to view available models for your key.`,
          'invalid_request_error',
          null,
        );
      }
      const callId = randomUUID();
      if (model.mock_response !== undefined && route !== 'embeddings') {
        return mockResponse(ctx, caller, model, body, route, reply, callId);
      }
      const upstream = await fetch(`${ctx.upstreamUrl}/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-fake-upstream' },
        body: JSON.stringify({ ...body, model: model.upstream_model }),
      });
      const headers: Record<string, string> = {
        'x-litellm-call-id': callId,
        'x-litellm-model-id': deploymentId(model),
        'x-litellm-version': LITELLM_VERSION,
        'x-litellm-model-api-base': ctx.upstreamUrl,
      };
      if (!upstream.ok) {
        const text = await upstream.text();
        throw new HttpError(
          upstream.status,
          {
            error: {
              message: `litellm.APIError: ${text}`,
              type: null,
              param: null,
              code: String(upstream.status),
            },
          },
          headers,
        );
      }
      if (body.stream === true && route !== 'embeddings') {
        return streamThrough(ctx, caller, model, upstream, reply, headers);
      }
      const json = (await upstream.json()) as { usage?: Usage };
      const cost = bookSpend(ctx, caller, model, json.usage);
      reply.headers({
        ...headers,
        'x-litellm-response-cost': String(cost),
        'x-litellm-key-spend': String(caller.admin ? 0 : caller.key.spend),
      });
      return json;
    };

  for (const prefix of ['/v1', '']) {
    app.post(`${prefix}/chat/completions`, handler('chat/completions'));
    app.post(`${prefix}/completions`, handler('completions'));
    app.post(`${prefix}/embeddings`, handler('embeddings'));
  }
}

/** Passes SSE through chunk by chunk, booking spend from the chunk that carries `usage`. */
async function streamThrough(
  ctx: ServerContext,
  caller: Caller,
  model: ResolvedModel,
  upstream: Response,
  reply: FastifyReply,
  headers: Record<string, string>,
): Promise<FastifyReply> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
  });
  const decoder = new TextDecoder();
  let pending = '';
  let usage: Usage | undefined;
  for await (const chunk of upstream.body ?? []) {
    res.write(chunk);
    pending += decoder.decode(chunk as Uint8Array, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      try {
        const event = JSON.parse(line.slice(6)) as { usage?: Usage };
        if (event.usage) usage = event.usage;
      } catch {
        // not JSON: passed through as is
      }
    }
  }
  bookSpend(ctx, caller, model, usage);
  res.end();
  return reply;
}

/**
 * litellm_params.mock_response: LiteLLM answers without calling the upstream, with a fixed
 * usage (litellm/main.py › mock_completion: 10 prompt + 20 completion tokens).
 */
function mockResponse(
  ctx: ServerContext,
  caller: Caller,
  model: ResolvedModel,
  body: Record<string, unknown>,
  route: 'chat/completions' | 'completions',
  reply: FastifyReply,
  callId: string,
): unknown {
  const usage = { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 };
  const content = model.mock_response!;
  const id = `chatcmpl-${callId}`;
  const created = Math.floor(ctx.store.now().getTime() / 1000);
  // The cost is known before the first byte here, so it comes with the head, streams too, as
  // the gateway's budget counters read it (gateway/src/budget/charge-cost.ts).
  const cost = bookSpend(ctx, caller, model, usage);
  const headers = {
    'x-litellm-call-id': callId,
    'x-litellm-model-id': deploymentId(model),
    'x-litellm-version': LITELLM_VERSION,
    'x-litellm-response-cost': String(cost),
  };
  if (route === 'completions') {
    reply.headers(headers);
    return {
      id,
      object: 'text_completion',
      created,
      model: model.upstream_model,
      choices: [{ index: 0, text: content, finish_reason: 'stop' }],
      usage,
    };
  }
  if (body.stream === true) {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
    });
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: model.upstream_model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    res.write(chunk({ role: 'assistant', content }, null));
    const includeUsage =
      (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    res.write(chunk({}, 'stop', includeUsage ? { usage } : {}));
    res.end('data: [DONE]\n\n');
    return reply;
  }
  reply.headers(headers);
  return {
    id,
    object: 'chat.completion',
    created,
    model: model.upstream_model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage,
  };
}
