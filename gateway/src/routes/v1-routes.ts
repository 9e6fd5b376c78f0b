// The served routes (route-table.ts; the route guard has already refused every other one):
// every route needs a key (checked in onRequest, before the body is read:
// auth/authenticate-hook.ts), GET /v1/models answers from the key's policy alone, and
// everything else is checked — its route group enabled for the key, every model it names
// (body, form, path, query) one the key reaches, its limits — and forwarded.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
} from 'fastify';
import type { KeyPolicy, ModelRoutes } from '../../../contracts/routing/schema.ts';
import {
  invalidBody,
  limitsUnavailable,
  missingModel,
  modelNotAllowed,
  rateLimited,
  OpenAIError,
} from '../errors/openai-error.ts';
import { batchRequestOf, checkBatchInput } from '../body/batch-input-models.ts';
import { bodyGate } from '../body/body-gate.ts';
import { sniffJsonObject } from '../body/json-object-sniff.ts';
import { isFormContentType, readFormModel } from '../body/multipart-model.ts';
import { rateLimitHeaders, refusalMessage } from '../limits/limit-headers.ts';
import { limitScopes } from '../limits/limits-from-policy.ts';
import {
  DEFAULT_OUTPUT_TOKENS,
  tokenReservation,
  tokensToSettle,
} from '../limits/token-estimate.ts';
import {
  BudgetSpent,
  type Admission,
  type AdmissionRequest,
  type RateLimiter,
} from '../limits/rate-limiter.ts';
import { budgetChecks, type BudgetCheck } from '../budget/budget-check.ts';
import { budgetRefusal } from '../budget/budget-refusal.ts';
import { BUDGET_WARNING_HEADER, softBudgetWarning } from '../budget/soft-budget-warning.ts';
import { formatMicroDollars } from '../../../contracts/routing/micro-dollars.ts';
import type { GatewayMetrics } from '../observability/gateway-metrics.ts';
import { forward } from '../proxy/forward.ts';
import type { Upstream } from '../proxy/upstream.ts';
import type { RequestState } from '../request-state.ts';
import type { RoutingView } from '../routing/routing-view.ts';
import {
  keyReachesNoModel,
  routeNotEnabled,
  unknownRoute,
  unsupportedBody,
} from './route-errors.ts';
import type { GatewayRoute } from './route-guard.ts';
import type { RouteSpec } from './route-table.ts';

export interface V1RoutesOptions {
  view: RoutingView;
  limiter: RateLimiter;
  upstream: Upstream;
  metrics: GatewayMetrics;
  /** TPM_RESERVE_DEFAULT_OUTPUT_TOKENS: what a request without max_tokens reserves for output. */
  tpmReserveDefaultOutputTokens?: number | undefined;
  /** BODY_LIMIT, counted on bodies that stream through (forward). */
  bodyLimitBytes: number;
  /** Checks the key and sets request.state.key and .policy (authenticateOnRequest). */
  authenticate: onRequestHookHandler;
}

/** LiteLLM's `created` for every model in /v1/models. */
const CREATED = 1677610602;

export const v1Routes: FastifyPluginAsync<V1RoutesOptions> = async (app, options) => {
  const { view, limiter, metrics } = options;

  // Only routes of the table reach here; a people-side path (/auth, /api, /ui) no people
  // route serves falls through to the catch-all below and is answered 404, not proxied.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.gatewayRoute !== undefined) return done();
    done(unknownRoute(request.method, request.url.split('?')[0]!));
  });
  app.addHook('onRequest', options.authenticate);
  // Then what else needs no body (its encoding), and only then is the body asked for.
  app.addHook('onRequest', bodyGate);

  const listModels = (policy: KeyPolicy) => ({
    object: 'list',
    data: policy.models.map((id) => modelEntry(id, view.models)),
  });
  const getModel = (policy: KeyPolicy, model: string) => {
    if (!policy.models.includes(model)) {
      throw new OpenAIError({
        status: 404,
        type: 'invalid_request_error',
        reason: 'model_not_found',
        param: 'model',
        message: `The model '${model}' does not exist or is not available for this API key.`,
      });
    }
    return modelEntry(model, view.models);
  };

  app.get('/v1/models', async (request) => listModels(request.state.policy!));

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) =>
    getModel(request.state.policy!, request.params.model),
  );

  const proxy = async (request: FastifyRequest, reply: FastifyReply) => {
    const state = request.state;
    const policy = state.policy!;
    const route = request.gatewayRoute;
    // The guard runs first on every request; without its match nothing is forwarded.
    if (route === undefined) throw unknownRoute(request.method, request.url.split('?', 1)[0]!);
    const { group } = route.route;
    if (group === 'models') {
      // A models path the router did not place (an escaped letter): answered here all the same.
      const [, , , model] = request.url.split('?', 1)[0]!.split('/');
      return model === undefined ? listModels(policy) : getModel(policy, decodeURIComponent(model));
    }
    if (policy.models.length === 0) throw keyReachesNoModel();
    if (group !== 'inference' && !(policy.enabledRoutes ?? []).includes(group)) {
      throw routeNotEnabled(group);
    }
    // Synchronous unless a body must be read (a form, a sniffed stream) or a batch's input
    // looked at: `await` on a plain value would still cost a turn of the microtask queue.
    const checking = checkedModel(request, route, policy, options);
    const model = checking instanceof Promise ? await checking : checking;
    if (model !== undefined) state.model = model;
    await admit(request, reply, policy, model, limiter, metrics, options);
    return forward(request, reply, options);
  };

  // Every path: the route guard decided which are served.
  app.all('*', proxy);
};

/**
 * Checks every model the request names — where its route carries it (JSON body, form field,
 * path) and a `model` query parameter — against the key's models, and returns the one its
 * limits are counted under (the path's, where the route has one: LiteLLM uses that). Reads a
 * form body here, keeping its bytes as the body to forward. A Promise only when a body is
 * read or a batch's input checked.
 */
function checkedModel(
  request: FastifyRequest,
  route: GatewayRoute,
  policy: KeyPolicy,
  options: V1RoutesOptions,
): string | undefined | Promise<string | undefined> {
  const named: string[] = [];
  if (route.pathModel !== undefined) named.push(route.pathModel);
  const reading = readBodyModels(request, route.route, named, options.bodyLimitBytes);
  if (reading === undefined) return checkNamed(request, route, policy, named, options);
  return reading.then(() => checkNamed(request, route, policy, named, options));
}

/**
 * Adds the models the body names to `named`, or refuses a body LiteLLM would read unchecked;
 * a Promise when the body must be read first (a form, a stream sniffed for JSON).
 */
function readBodyModels(
  request: FastifyRequest,
  spec: RouteSpec,
  named: string[],
  bodyLimitBytes: number,
): Promise<void> | undefined {
  const contentType = request.headers['content-type'];
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  // LiteLLM reads a body as a form whenever its content type contains "form"
  // (_read_request_body): a multipart form is read here on every route that does not want
  // JSON, any other form is refused.
  if (hasBody && !isFormContentType(contentType) && /form/i.test(contentType ?? '')) {
    throw unsupportedBody(spec.path, 'application/json');
  }
  const anyForm =
    hasBody &&
    (spec.model === 'upload' || spec.model === 'none' || spec.model === 'optional') &&
    isFormContentType(contentType);
  const form = spec.model === 'form' || (spec.model === 'path' && spec.body === 'form') || anyForm;
  if (form) {
    if (request.rawBody !== undefined || !isFormContentType(request.headers['content-type'])) {
      throw unsupportedBody(spec.path, 'multipart/form-data');
    }
    return readForm(request, spec, named, bodyLimitBytes);
  }
  if (request.rawBody !== undefined) {
    const model = modelOf(request.body);
    if (model !== undefined) named.push(model);
    else if (spec.model === 'json') throw missingModel();
    named.push(...otherBodyModels(request.body));
  } else if (spec.model === 'json' || spec.model === 'path' || spec.model === 'batch') {
    // LiteLLM reads any body that is not a form as JSON: only JSON is checked, so only JSON
    // goes through.
    if (request.method !== 'GET') throw unsupportedBody(spec.path, 'application/json');
  } else if (typeof request.body === 'string') {
    // A text/plain body (fastify's own parser read it): LiteLLM would read it as JSON, unseen.
    throw unsupportedBody(spec.path, 'application/json');
  } else if (hasBody) {
    // A body that streams on: LiteLLM reads it as JSON too when it is one, so it must not be.
    return sniffJsonObject(request.raw).then((sniffed) => {
      if (sniffed === 'json-object') throw unsupportedBody(spec.path, 'application/json');
      if (sniffed === 'blank') throw invalidBody('The request body holds whitespace only.');
    });
  }
  return undefined;
}

/** Reads a multipart form's model fields; its bytes become the body to forward. */
async function readForm(
  request: FastifyRequest,
  spec: RouteSpec,
  named: string[],
  bodyLimitBytes: number,
): Promise<void> {
  const read = await readFormModel(request.raw, request.headers, bodyLimitBytes);
  // Forwarded as they came (forward.ts sends rawBody when the body is parsed).
  request.rawBody = read.body;
  request.body = read.model === undefined ? {} : { model: read.model };
  if (read.model !== undefined) named.push(read.model);
  else if (spec.model === 'form') throw missingModel();
  for (const names of read.targetModelNames) named.push(...modelList(names));
}

/**
 * Adds the query's and the x-litellm-model header's models, checks every one named against
 * the key's, then a batch's input (a Promise); returns the model limits count under.
 */
function checkNamed(
  request: FastifyRequest,
  route: GatewayRoute,
  policy: KeyPolicy,
  named: string[],
  options: V1RoutesOptions,
): string | undefined | Promise<string | undefined> {
  if (route.query.length > 1) {
    const query = new URLSearchParams(route.query.slice(1));
    named.push(...query.getAll('model'));
    for (const names of query.getAll('target_model_names')) named.push(...modelList(names));
  }
  const header = request.headers['x-litellm-model'];
  if (header !== undefined) named.push(...[header].flat().flatMap(modelList));
  for (const model of named) {
    if (!policy.models.includes(model)) throw modelNotAllowed(model);
  }
  if (route.route.model === 'batch') {
    const batch = batchRequestOf(request.body);
    return checkBatchInput(
      batch,
      request.state.key!,
      policy.models,
      options.upstream,
      options.bodyLimitBytes,
    ).then(() => named[0]);
  }
  return named[0];
}

/**
 * Counts the request in its limits, or refuses it with 429 (or 503 when limits fail closed),
 * or with LiteLLM's budget_exceeded when the key's or its team's budget is spent (checked in
 * the same script: no round trip of its own).
 */
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
  const budgets = budgetChecks(policy);
  if (scopes.length === 0 && budgets.length === 0) return;
  const reserveTokens = tokenReservation(
    request.gatewayRoute?.route.generatesOutput === true,
    request.rawBody === undefined ? undefined : request.body,
    scopes,
    options.tpmReserveDefaultOutputTokens ?? DEFAULT_OUTPUT_TOKENS,
  );
  const admission: AdmissionRequest = {
    requestId: randomUUID(),
    team: policy.team,
    scopes,
    reserveTokens,
    // Always set (undefined without budgets): one object shape on the hot path.
    budgets: budgets.length > 0 ? budgets : undefined,
  };
  let decision: Admission;
  try {
    decision = await limiter.admit(admission);
  } catch (err) {
    if (!(err instanceof BudgetSpent)) throw err;
    const { scope, id, maxBudget } = err.budget;
    throw budgetRefusal(policy, scope, id, formatMicroDollars(err.spentMicros), maxBudget!);
  }
  if (!decision.allowed) {
    if ('unavailable' in decision) throw limitsUnavailable();
    throw rateLimited(refusalMessage(decision, admission), rateLimitHeaders(decision));
  }
  if (decision.countedBy !== 'redis') metrics.rateLimitFallbacks.inc({ mode: decision.countedBy });
  const state = request.state;
  // Whatever happens next (answer, error, caller gone), the slot is freed and the reservation
  // settled, on 'close': app.ts's one listener calls settleAdmission.
  state.admission = admission;
  state.countedBy = decision.countedBy;
  state.window = decision.window;
  reply.headers(rateLimitHeaders(decision));
  if (decision.spentMicros !== undefined)
    warnPastSoftBudget(budgets, decision.spentMicros, reply, metrics);
}

/** Past a soft budget the request passes, with a warning header (and a metric) per scope. */
function warnPastSoftBudget(
  budgets: readonly BudgetCheck[],
  spentMicros: readonly number[],
  reply: FastifyReply,
  metrics: GatewayMetrics,
): void {
  const warnings: string[] = [];
  budgets.forEach((budget, i) => {
    const spent = spentMicros[i] ?? 0;
    if (budget.softMicros === undefined || spent < budget.softMicros) return;
    metrics.softBudgetWarnings.inc({ scope: budget.scope });
    warnings.push(softBudgetWarning(budget, spent));
  });
  if (warnings.length > 0) reply.header(BUDGET_WARNING_HEADER, warnings.join(', '));
}

/**
 * Frees an admitted request's slot and settles its reservation: to the usage, or kept when
 * none arrived (token-estimate.ts, tokensToSettle). Once per request, when its answer is over.
 */
export function settleAdmission(
  state: RequestState,
  raw: ServerResponse,
  limiter: RateLimiter,
): void {
  const admission = state.admission;
  if (admission === undefined || state.settled) return;
  state.settled = true;
  const tokens = tokensToSettle({
    usedTokens: state.usage?.totalTokens,
    reserved: admission.reserveTokens ?? 0,
    answered: raw.writableFinished,
    statusCode: raw.statusCode,
  });
  void limiter.settle(admission, tokens, state.countedBy!, state.window);
}

/** A comma-separated list of model names, as LiteLLM splits one. */
function modelList(names: string): string[] {
  return names
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

const NO_MODELS: readonly string[] = Object.freeze([]);

/** Models a JSON body names besides `model`: managed files' targets, a realtime session's. */
function otherBodyModels(body: unknown): readonly string[] {
  if (typeof body !== 'object' || body === null) return NO_MODELS;
  const { target_model_names: targets, session } = body as Record<string, unknown>;
  // The usual body names neither: no arrays to build.
  if (targets === undefined && session === undefined) return NO_MODELS;
  const models: string[] = [];
  for (const target of [targets].flat()) {
    if (typeof target === 'string') models.push(...modelList(target));
    else if (target !== undefined && target !== null) models.push(String(target));
  }
  if (typeof session === 'object' && session !== null) {
    const model = (session as { model?: unknown }).model;
    if (model !== undefined && model !== null) models.push(String(model));
  }
  return models;
}

function modelOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const model = (body as { model?: unknown }).model;
  // A list is LiteLLM's batch completion (one call per model in it), a number or an object
  // some other reading: none of them is one model name this check could pass, so none passes.
  if (model !== undefined && model !== null && typeof model !== 'string') {
    throw invalidBody('The body\'s "model" must be a model name (a string).');
  }
  return model !== undefined && model !== null && model !== '' ? model : undefined;
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
