// Every refusal the gateway makes, in the shape OpenAI SDKs parse:
// {"error": {"message", "type", "param", "code"}}. Types and status codes follow LiteLLM's
// (operator/src/litellm/CONTRACT-VERIFIED.md §5) so a client sees the same errors whether a
// request was refused here or by LiteLLM behind us.

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

export class OpenAIError extends Error {
  override readonly name = 'OpenAIError';
  readonly statusCode: number;
  readonly type: string;
  readonly param: string | null;
  /** Extra response headers (retry-after, x-ratelimit-*). */
  readonly headers: Record<string, string>;
  /** Why, for metrics: a small fixed set of values. */
  readonly reason: string;

  constructor(options: {
    status: number;
    type: string;
    message: string;
    reason: string;
    param?: string | null;
    headers?: Record<string, string>;
  }) {
    super(options.message);
    this.statusCode = options.status;
    this.type = options.type;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.reason = options.reason;
  }

  toBody(): OpenAIErrorBody {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.param,
        code: String(this.statusCode),
      },
    };
  }
}

export const missingKey = () =>
  new OpenAIError({
    status: 401,
    type: 'auth_error',
    reason: 'missing_key',
    message:
      'Authentication Error, No api key passed in. Send it as "Authorization: Bearer sk-..." or in the api-key header.',
  });

/** A credential header that holds no key (an Authorization that is not "Bearer sk-…"). */
export const malformedKey = (header: string) =>
  new OpenAIError({
    status: 401,
    type: 'auth_error',
    reason: 'malformed_key',
    message: `Authentication Error, the ${header} header holds no API key. Send it as "Authorization: Bearer sk-...".`,
  });

/** Credential headers that name different keys: which one to bill would be a guess. */
export const conflictingKeys = (headers: readonly [string, string]) =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'conflicting_keys',
    message: `The request carries more than one credential (${headers[0]} and ${headers[1]} differ). Send one API key, as "Authorization: Bearer sk-...".`,
  });

export const unknownKey = () =>
  new OpenAIError({
    status: 401,
    type: 'token_not_found_in_db',
    reason: 'unknown_key',
    param: 'key',
    message: 'Authentication Error, Invalid API key provided.',
  });

export const expiredKey = (expiresAt: string, now: Date) =>
  new OpenAIError({
    status: 401,
    type: 'expired_key',
    reason: 'expired_key',
    message: `Authentication Error - Expired Key. Key Expiry time ${expiresAt} and current time ${now.toISOString()}`,
  });

export const suspendedKey = (why: string | undefined) =>
  new OpenAIError({
    status: 401,
    type: 'auth_error',
    reason: 'suspended_key',
    message: `Authentication Error, Key is blocked${why ? ` (${why})` : ''}. Ask the owner of its VirtualKey to resume it.`,
  });

/** The key cannot be checked: the routing config store is unreachable and the key not cached. */
export const keyUnverifiable = () =>
  new OpenAIError({
    status: 503,
    type: 'service_unavailable_error',
    reason: 'routing_unavailable',
    headers: { 'retry-after': '1' },
    message:
      'The gateway cannot verify this API key right now (its routing config store is unreachable). Retry shortly.',
  });

/** Names the model asked for and none of the key's others. */
export const modelNotAllowed = (model: string) =>
  new OpenAIError({
    status: 403,
    type: 'key_model_access_denied',
    reason: 'model_not_allowed',
    param: 'model',
    message: `The requested model '${model}' is not available for this API key, or the model name is invalid. Check the models available to you and try again.`,
  });

export const missingModel = () =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'missing_model',
    param: 'model',
    message: 'The request body must name a model ("model": "...").',
  });

export const bodyTooLarge = (limitBytes?: number, headers?: Record<string, string>) =>
  new OpenAIError({
    status: 413,
    type: 'invalid_request_error',
    reason: 'body_too_large',
    headers,
    message: `The request body is larger than the gateway accepts${limitBytes ? ` (${limitBytes} bytes)` : ''}.`,
  });

/** The request (headers and body) took longer than BODY_TIMEOUT to arrive. */
export const bodyTimeout = (timeoutMs: number) =>
  new OpenAIError({
    status: 408,
    type: 'invalid_request_error',
    reason: 'body_timeout',
    headers: { connection: 'close' },
    message: `The request did not arrive within ${timeoutMs / 1000}s.`,
  });

/** A compressed request body: the gateway reads the model in it, and LiteLLM decodes none. */
export const encodedBody = (encoding: string) =>
  new OpenAIError({
    status: 415,
    type: 'invalid_request_error',
    reason: 'encoded_body',
    message: `The gateway accepts request bodies without a content-encoding, not ${JSON.stringify(encoding)}.`,
  });

export const invalidBody = (message: string) =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'invalid_body',
    message,
  });

/** LiteLLM 1.108.7 answers an exhausted budget with 422 budget_exceeded. */
export const budgetExceeded = (scope: string, spend: string, maxBudget: string) =>
  new OpenAIError({
    status: 422,
    type: 'budget_exceeded',
    reason: 'budget_exceeded',
    message: `Budget has been exceeded! ${scope} Current cost: ${spend}, Max budget: ${maxBudget}`,
  });

export const rateLimited = (message: string, headers: Record<string, string>) =>
  new OpenAIError({
    status: 429,
    type: 'throttling_error',
    reason: 'rate_limited',
    headers,
    message,
  });

export const limitsUnavailable = () =>
  new OpenAIError({
    status: 503,
    type: 'service_unavailable_error',
    reason: 'limits_unavailable',
    headers: { 'retry-after': '1' },
    message:
      'The gateway cannot check rate limits right now (its counter store is unreachable). Retry shortly.',
  });

export const upstreamUnavailable = (why: string) =>
  new OpenAIError({
    status: 502,
    type: 'upstream_error',
    reason: 'upstream_unavailable',
    message: `The model service did not answer: ${why}`,
  });

export const upstreamTimeout = () =>
  new OpenAIError({
    status: 504,
    type: 'timeout',
    reason: 'upstream_timeout',
    message: 'The model service did not answer in time.',
  });

export const shuttingDown = () =>
  new OpenAIError({
    status: 503,
    type: 'service_unavailable_error',
    reason: 'shutting_down',
    headers: { 'retry-after': '1', connection: 'close' },
    message: 'The gateway is shutting down. Retry; another instance will answer.',
  });
