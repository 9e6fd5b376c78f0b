// Sends an admitted request on to LiteLLM and its answer back, as it comes: undici's body
// stream is piped to the caller with back-pressure, through a UsageTap that reads the token
// usage on the way. A caller that goes away aborts the upstream request (and so the model's
// work); an upstream that fails before answering becomes an OpenAI-shaped 502/504. Headers
// cross by allowlist both ways (request-headers.ts, response-headers.ts).
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors, type Dispatcher } from 'undici';
import { chargeResponseCost } from '../budget/charge-cost.ts';
import { upstreamTimeout, upstreamUnavailable } from '../errors/openai-error.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { GatewayMetrics } from '../observability/gateway-metrics.ts';
import { ByteLimit } from './byte-limit.ts';
import { forwardingOf } from './forwarded-headers.ts';
import { MCP_REQUEST_HEADERS, requestHeadersFor } from './request-headers.ts';
import { MCP_RESPONSE_HEADERS, publicLocation, responseHeadersFor } from './response-headers.ts';
import type { Upstream } from './upstream.ts';
import { UsageScanner, UsageTap } from './usage-tap.ts';

export interface ForwardDeps {
  upstream: Upstream;
  metrics: GatewayMetrics;
  bodyLimitBytes: number;
  /** Charges the answer's cost to the request's budgets (budget/charge-cost.ts). */
  limiter?: RateLimiter | undefined;
}

/** The body to send: the caller's bytes, or a rewritten JSON body asking for stream usage. */
function outgoingBody(
  request: FastifyRequest,
  limitBytes: number,
): {
  body: Buffer | string | Readable | null;
  stripUsage: boolean;
  streamed?: ByteLimit;
} {
  if (request.method === 'GET' || request.method === 'HEAD')
    return { body: null, stripUsage: false };
  const json = request.rawBody === undefined ? undefined : request.body;
  if (json === undefined) {
    const streamed = new ByteLimit(limitBytes);
    request.raw.pipe(streamed);
    // A caller gone mid-body (or cut off at BODY_TIMEOUT) ends the upstream request too: pipe
    // would leave it waiting for the rest.
    request.raw.once('close', () => {
      if (!request.raw.complete) streamed.destroy(new Error('the request body was cut off'));
    });
    return { body: streamed, stripUsage: false, streamed };
  }
  const body = json as { stream?: unknown; stream_options?: { include_usage?: unknown } } | null;
  if (
    // Routes whose streams carry usage only when `stream_options.include_usage` asks (the
    // route table marks them: /v1's, the deployments' and the engines' alike).
    request.gatewayRoute?.route.usageInStream === true &&
    body !== null &&
    typeof body === 'object' &&
    body.stream === true &&
    body.stream_options?.include_usage !== true
  ) {
    // Usage arrives only in a last chunk the caller must ask for; ask for it, strip it again.
    const options = typeof body.stream_options === 'object' ? body.stream_options : {};
    return {
      body: JSON.stringify({ ...body, stream_options: { ...options, include_usage: true } }),
      stripUsage: true,
    };
  }
  return { body: request.rawBody ?? null, stripUsage: false };
}

export async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: ForwardDeps,
): Promise<FastifyReply> {
  const state = request.state;
  const { upstream } = deps;
  const { body, stripUsage, streamed } = outgoingBody(request, deps.bodyLimitBytes);
  // Aborted on 'close' with the answer unfinished (the caller went away, or the gateway is
  // stopping): by app.ts's one 'close' listener, no listener of its own per request.
  const abort = new AbortController();
  state.upstreamAbort = abort;
  // MCP's session headers cross on its routes (served only where the Team enabled them).
  const mcp = request.gatewayRoute?.route.group === 'mcp';
  const headers = requestHeadersFor(
    request.headers,
    state.key!,
    forwardingOf(request),
    mcp ? MCP_REQUEST_HEADERS : undefined,
  );
  state.key = undefined;
  state.forwardedAt = performance.now();
  let response: Dispatcher.ResponseData;
  try {
    response = await upstream.pool.request({
      method: request.method as 'POST',
      path: upstream.basePath + request.url,
      headers,
      body,
      signal: abort.signal,
      headersTimeout: upstream.headersTimeoutMs,
      bodyTimeout: upstream.idleTimeoutMs,
    });
  } catch (err) {
    // Nobody left to answer, or answered already (a body that did not arrive in time).
    if (abort.signal.aborted || reply.sent) return reply;
    const tooLarge = streamed?.exceeded;
    if (tooLarge) {
      request.raw.unpipe(streamed);
      throw tooLarge;
    }
    if (err instanceof errors.HeadersTimeoutError) throw upstreamTimeout();
    throw upstreamUnavailable(describeUpstreamError(err));
  }
  state.upstreamHeadersAt = performance.now();
  if (deps.limiter) chargeResponseCost(state, response.headers, deps.limiter, deps.metrics);
  deps.metrics.upstreamLatency.observe(
    { model: state.model ?? '' },
    (state.upstreamHeadersAt - state.forwardedAt) / 1000,
  );

  const contentType = String(response.headers['content-type'] ?? '');
  const sse = contentType.startsWith('text/event-stream');
  const ok = response.statusCode >= 200 && response.statusCode < 300;
  // A compressed answer (never asked for: accept-encoding is not forwarded) is passed as is.
  const encoded = response.headers['content-encoding'] !== undefined;
  const readable = ok && !encoded && (sse || contentType.includes('json'));
  const rewrite = readable && sse && stripUsage;
  reply.code(response.statusCode);
  const passed = responseHeadersFor(
    response.headers,
    rewrite,
    mcp ? MCP_RESPONSE_HEADERS : undefined,
  );
  const location = response.headers.location;
  if (typeof location === 'string') {
    const rewritten = publicLocation(location, {
      upstreamOrigin: upstream.origin,
      upstreamBasePath: upstream.basePath,
      requestUrl: request.url,
      publicOrigin: () => (request.host === '' ? '' : `${request.protocol}://${request.host}`),
    });
    if (rewritten !== undefined) passed.location = rewritten;
  }
  reply.headers(passed);
  const answer = response.body;
  if (!readable) return reply.send(answer);
  if (!rewrite) {
    // The bytes pass unchanged: listen to them beside fastify's pipe, no stream in between.
    const scanner = new UsageScanner(sse ? 'sse' : 'json');
    answer.on('data', (chunk: Buffer) => scanner.write(chunk));
    answer.once('end', () => {
      scanner.end();
      state.usage = scanner.usage;
    });
    return reply.send(answer);
  }
  const tap = new UsageTap('sse', true);
  tap.once('end', () => {
    state.usage = tap.usage;
  });
  // pipe() rather than pipeline(): pipeline allocates an AbortController (and a DOMException
  // when done) per call, measurable per request. Errors and early ends are wired by hand.
  answer.pipe(tap);
  answer.once('error', (err: Error) => tap.destroy(err));
  tap.once('close', () => {
    if (!answer.readableEnded) answer.destroy();
  });
  return reply.send(tap);
}

function describeUpstreamError(err: unknown): string {
  if (err instanceof errors.ConnectTimeoutError) return 'connection timed out';
  const code = (err as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (err instanceof errors.SocketError) return 'connection closed';
  return err instanceof Error ? err.message : String(err);
}
