// The gateway as a fastify application (the shape of fastify/demo's app.ts): request state
// and timing first, then body parsing, one error handler producing OpenAI-shaped errors, the
// access log and metrics, then the /v1 routes, whose key is checked in onRequest before any
// body is read. Its dependencies (Redis-backed routing view, rate limiter, upstream pool) are
// built by server.ts and passed in, so tests can build it around their own.
import proxyAddr from '@fastify/proxy-addr';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { authenticateOnRequest } from './auth/authenticate-hook.ts';
import type { KeyReader } from './auth/key-from-request.ts';
import { clientErrorHandler, type AnsweredEarly } from './errors/client-error-handler.ts';
import { OpenAIError, bodyTooLarge, invalidBody, shuttingDown } from './errors/openai-error.ts';
import type { RateLimiter } from './limits/rate-limiter.ts';
import type { GatewayMetrics } from './observability/gateway-metrics.ts';
import type { Upstream } from './proxy/upstream.ts';
import { overheadMs } from './request-state.ts';
import type { RoutingView } from './routing/routing-view.ts';
import { addRouteGuard, answerFrameworkError } from './routes/route-guard.ts';
import { unknownRoute } from './routes/route-errors.ts';
import { settleAdmission, v1Routes } from './routes/v1-routes.ts';
import {
  PEOPLE_PREFIXES,
  registerPeopleSide,
  type PeopleSideOptions,
} from './signin/people-side.ts';

export const OVERHEAD_HEADER = 'x-llmtenancy-overhead-ms';

export interface GatewayAppOptions {
  view: RoutingView;
  limiter: RateLimiter;
  upstream: Upstream;
  metrics: GatewayMetrics;
  logger: Logger;
  bodyLimitBytes: number;
  /** TPM_RESERVE_DEFAULT_OUTPUT_TOKENS (token-estimate.ts). */
  tpmReserveDefaultOutputTokens?: number | undefined;
  /** Longest a request (headers and body) may take to arrive; then 408. */
  bodyTimeoutMs: number;
  /** Peers whose X-Forwarded-* are believed (proxy-addr's syntax). */
  trustedProxies: readonly string[];
  keyReader: KeyReader;
  /** True once the gateway is stopping: new requests get 503. */
  isClosing: () => boolean;
  /** The people side (sign-in, sessions, /api, /ui); absent: only /v1 is served. */
  peopleSide?: PeopleSideOptions | undefined;
}

export function buildGatewayApp(options: GatewayAppOptions): FastifyInstance {
  const { metrics, logger } = options;
  const answeredEarly: AnsweredEarly = new WeakMap();
  const app = Fastify({
    // fastify's own request logging is off (no child logger per request either): one access
    // line per request is written below, without headers or query strings.
    logger: false,
    bodyLimit: options.bodyLimitBytes,
    return503OnClosing: false,
    // Streams may run for minutes; the gateway's own SHUTDOWN_GRACE ends them.
    forceCloseConnections: 'idle',
    frameworkErrors: answerFrameworkError,
    // Node's own timer on receiving a request (headers and body), answered by
    // clientErrorHandler: no per-request cost, and the answer's time is not limited by it.
    requestTimeout: options.bodyTimeoutMs,
    http: {
      requestTimeout: options.bodyTimeoutMs,
      headersTimeout: Math.min(60_000, options.bodyTimeoutMs),
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(1_000, Math.floor(options.bodyTimeoutMs / 10)),
      ),
    },
    clientErrorHandler: clientErrorHandler(
      options.bodyTimeoutMs,
      (reason) => metrics.rejections.inc({ reason }),
      answeredEarly,
    ),
    // Compiled once. With no proxies configured nobody is trusted, and fastify's plain request
    // (no trustProxy) says so without proxy-addr walking X-Forwarded-* on every access:
    // request.ips is then undefined, .protocol the socket's, .host the Host header
    // (proxy/forwarded-headers.ts).
    trustProxy:
      options.trustedProxies.length > 0 ? proxyAddr.compile([...options.trustedProxies]) : false,
  });

  // Node answers `Expect: 100-continue` itself unless 'checkContinue' has a listener: this
  // one hands the request to fastify unanswered, and body/body-gate.ts sends the 100 Continue
  // once the route and the key passed. A request refused before it is answered without one
  // (and Node then closes the connection: the body never comes).
  app.server.on('checkContinue', (request, response) => {
    app.server.emit('request', request, response);
  });

  app.decorateRequest('rawBody', undefined);
  app.decorateRequest('state', null as never);

  // Callback-style hooks: an async hook costs a promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    request.state = { startedAt: performance.now() };
    metrics.requestStarted();
    // 'close' comes for every request, also one whose caller went away mid-stream (fastify's
    // onResponse does not). The request's one listener: what admit and forward leave on the
    // state is ended here too, with no listener of their own.
    reply.raw.once('close', () => {
      metrics.requestEnded();
      // Answered before its body ended (refused unread): Node reads past the rest, and a
      // timeout on it must not answer it twice (errors/client-error-handler.ts).
      const raw = request.raw;
      if (!raw.complete && raw.socket) answeredEarly.set(raw.socket, raw);
      recordRequest(request, reply, metrics, logger);
      const state = request.state;
      settleAdmission(state, reply.raw, options.limiter);
      // The answer unfinished: the caller went away (or the gateway is stopping).
      if (state.upstreamAbort !== undefined && !reply.raw.writableFinished) {
        state.upstreamAbort.abort();
      }
    });
    done(options.isClosing() ? shuttingDown() : undefined);
  });
  // The route allowlist: unknown routes and refused paths are answered before anything else.
  addRouteGuard(app, undefined, options.peopleSide ? PEOPLE_PREFIXES : []);

  // JSON bodies: parsed to read the model, and kept as bytes to forward unchanged.
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request, body: Buffer, done) => {
      request.rawBody = body;
      if (body.length === 0) return done(null, undefined);
      try {
        done(null, JSON.parse(body.toString('utf8')));
      } catch {
        done(invalidBody('The request body is not valid JSON.'), undefined);
      }
    },
  );
  // Anything else (multipart uploads, audio) streams through untouched: a declared length over
  // the limit is refused before anything is read, and the bytes of one that declares none
  // (chunked) are counted on the way (proxy/byte-limit.ts).
  app.addContentTypeParser('*', (request, _payload, done) => {
    const length = Number(request.headers['content-length'] ?? 0);
    done(length > options.bodyLimitBytes ? bodyTooLarge(options.bodyLimitBytes) : null, undefined);
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header(OVERHEAD_HEADER, overheadMs(request.state, performance.now()).toFixed(3));
    done(null, payload);
  });

  app.setErrorHandler((error: FastifyError | OpenAIError, request, reply) => {
    const refusal = error instanceof OpenAIError ? error : fromFastifyError(error, logger);
    metrics.rejections.inc({ reason: refusal.reason });
    return reply.code(refusal.statusCode).headers(refusal.headers).send(refusal.toBody());
  });

  // Only people paths reach fastify's router unmatched (the guard answers every other one).
  app.setNotFoundHandler((request) => {
    throw unknownRoute(request.method, request.url.split('?')[0]!);
  });

  app.register(v1Routes, {
    ...options,
    authenticate: authenticateOnRequest(options.view, options.keyReader),
  });
  if (options.peopleSide) registerPeopleSide(app, options.peopleSide);
  return app;
}

/** The request's metrics and its access log line. */
function recordRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  metrics: GatewayMetrics,
  logger: Logger,
) {
  const state = request.state;
  const team = state.policy?.team ?? '';
  const model = state.model ?? '';
  const status = reply.statusCode;
  const aborted = !reply.raw.writableFinished;
  metrics.countRequest(team, model, status);
  const now = performance.now();
  if (state.upstreamHeadersAt !== undefined) {
    metrics.overhead.observe(overheadMs(state, now) / 1000);
  }
  if (state.usage) {
    metrics.countTokens(team, model, state.usage.promptTokens, state.usage.completionTokens);
  }
  const owner = state.policy?.owner;
  if (!logger.isLevelEnabled('info')) return;
  logger.info(
    {
      method: request.method,
      path: request.url.split('?')[0],
      status,
      ...(aborted ? { aborted: true } : {}),
      ...(owner ? { virtualKey: `${owner.namespace}/${owner.name}`, team } : {}),
      ...(state.model ? { model } : {}),
      ...(state.usage ? { tokens: state.usage.totalTokens } : {}),
      durationMs: Number((now - state.startedAt).toFixed(3)),
      overheadMs: Number(overheadMs(state, now).toFixed(3)),
    },
    'request',
  );
}

/** fastify's own errors (body too large, bad content) in OpenAI's shape. */
function fromFastifyError(error: FastifyError, log: Logger): OpenAIError {
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    log.error({ err: { name: error.name, message: error.message, stack: error.stack } }, 'failed');
    return new OpenAIError({
      status: 500,
      type: 'internal_server_error',
      reason: 'internal_error',
      message: 'The gateway failed to handle this request.',
    });
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge();
  return new OpenAIError({
    status,
    type: 'invalid_request_error',
    reason: 'invalid_request',
    message: error.message,
  });
}
