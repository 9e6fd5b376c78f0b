// A LiteLLM-compatible test server (fastify) that follows CONTRACT-VERIFIED.md field for field:
// what the operator's LiteLLM client is tested against for everything a LiteLLM without a
// database cannot show (users, teams, keys), with fault injection and call counting for the
// fault and "how many LiteLLM calls" tests.
//
//   const litellm = await start({ masterKey: 'sk-master-…', models: ['gpt-test', 'emb-test'] });
//   … litellm.url, litellm.faults.add({...}), litellm.calls.snapshot() …
//   await litellm.stop();
//
// Deliberate simplifications (nothing the operator relies on): every management route needs
// the master key (LiteLLM also lets internal users manage their own keys); no organisations,
// projects, SSO, per-request spend logs (the daily rollups are kept), rate limiting (inject 429s with a fault instead) or budget resets.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { startFakeOpenAI, type FakeOpenAI } from '../fake-openai/server.ts';
import { registerActivityRoutes } from './activity.ts';
import { Calls } from './calls.ts';
import { resolveModel, type ModelConfig, type ServerContext } from './context.ts';
import { Faults, type FaultSpec } from './faults.ts';
import { HttpError } from './http-errors.ts';
import { registerInferenceRoutes } from './inference.ts';
import { registerKeyRoutes } from './keys.ts';
import { registerModelRoutes } from './models.ts';
import { Store } from './store.ts';
import { registerTeamRoutes } from './teams.ts';
import { registerUserRoutes } from './users.ts';

export type { FaultSpec, ModelConfig };

export interface LiteLLMServerOptions {
  /** Default: a free port. */
  port?: number;
  host?: string;
  masterKey: string;
  models: readonly (string | ModelConfig)[];
  /** OpenAI-compatible upstream (with /v1); default: a fake OpenAI started alongside. */
  upstreamUrl?: string;
  /** As with LITELLM_LICENSE set: Enterprise-only features work. Default false. */
  licensed?: boolean;
  /** general_settings.disable_auto_add_proxy_admin_to_teams. Default false (LiteLLM's default). */
  disableAutoAddProxyAdminToTeams?: boolean;
  /** Clock for expiry and timestamps. */
  now?: () => Date;
  /** fastify request logging. Default off. */
  logger?: boolean;
}

export interface LiteLLMTestServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  masterKey: string;
  store: Store;
  faults: Faults;
  calls: Calls;
  /** The fake upstream started with the server (undefined when upstreamUrl was given). */
  upstream: FakeOpenAI | undefined;
  app: FastifyInstance;
  /** Empties users, teams, keys, faults and call counts. */
  reset(): void;
  /** Replaces the models the proxy serves, as editing its config and reloading would. */
  setModels(models: readonly (string | ModelConfig)[]): void;
  stop(): Promise<void>;
}

const internalServerError = {
  error: {
    message: 'Internal server error',
    type: 'internal_server_error',
    param: null,
    code: '500',
  },
};

export function buildApp(
  ctx: ServerContext,
  faults: Faults,
  calls: Calls,
  logger = false,
): FastifyInstance {
  const app = Fastify({ logger, forceCloseConnections: true, bodyLimit: 10 * 1024 * 1024 });

  app.addHook('onRequest', async (request, reply) => {
    calls.record(request.method, request.url);
    return faults.apply(request, reply);
  });
  app.addHook('preHandler', async (request) => {
    calls.recordWrite(request.method, request.url, request.body);
    return faults.delay(request);
  });

  app.setErrorHandler((err: FastifyError | HttpError, _request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.status).headers(err.headers).send(err.body);
    }
    if (err.validation || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.statusCode === 400) {
      // FastAPI answers a body it cannot parse with 422 json_invalid.
      return reply.code(422).send({
        detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {} }],
      });
    }
    return reply.code(500).send(internalServerError);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ detail: 'Not Found' }));

  registerUserRoutes(app, ctx);
  registerTeamRoutes(app, ctx);
  registerKeyRoutes(app, ctx);
  registerModelRoutes(app, ctx);
  registerInferenceRoutes(app, ctx);
  registerActivityRoutes(app, ctx);

  // ---- test control (not part of LiteLLM) ----
  app.get('/__test/faults', async () => ({ faults: faults.list() }));
  app.post('/__test/faults', async (request) => {
    const body = request.body as FaultSpec | FaultSpec[] | undefined;
    const specs = Array.isArray(body) ? body : [body ?? {}];
    try {
      return { faults: specs.map((spec) => faults.add(spec)) };
    } catch (err) {
      throw new HttpError(400, { detail: (err as Error).message });
    }
  });
  app.delete('/__test/faults', async () => {
    faults.clear();
    return { cleared: true };
  });
  app.delete<{ Params: { id: string } }>('/__test/faults/:id', async (request) => {
    faults.clear(Number(request.params.id));
    return { cleared: true };
  });
  app.get('/__test/calls', async () => calls.snapshot());
  app.delete('/__test/calls', async () => {
    calls.reset();
    return calls.snapshot();
  });
  app.post('/__test/reset', async () => {
    ctx.store.clear();
    faults.clear();
    calls.reset();
    return { reset: true };
  });
  return app;
}

export async function startLiteLLMServer(
  options: LiteLLMServerOptions,
): Promise<LiteLLMTestServer> {
  if (!options.masterKey.startsWith('sk-'))
    throw new Error('LiteLLM requires a master key starting with sk-');
  const upstream = options.upstreamUrl ? undefined : await startFakeOpenAI();
  const store = new Store(options.now);
  const ctx: ServerContext = {
    store,
    masterKey: options.masterKey,
    models: options.models.map(resolveModel),
    upstreamUrl: (options.upstreamUrl ?? upstream!.url).replace(/\/+$/, ''),
    licensed: options.licensed ?? false,
    disableAutoAddProxyAdminToTeams: options.disableAutoAddProxyAdminToTeams ?? false,
  };
  const faults = new Faults();
  const calls = new Calls();
  const app = buildApp(ctx, faults, calls, options.logger);
  try {
    await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  } catch (err) {
    await upstream?.stop();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    masterKey: options.masterKey,
    store,
    faults,
    calls,
    upstream,
    app,
    reset() {
      store.clear();
      faults.clear();
      calls.reset();
    },
    setModels(models) {
      ctx.models = models.map(resolveModel);
    },
    async stop() {
      faults.clear();
      await app.close();
      await upstream?.stop();
    },
  };
}

/** The name the brief and tests use: start({port?, masterKey, models}). */
export const start = startLiteLLMServer;
