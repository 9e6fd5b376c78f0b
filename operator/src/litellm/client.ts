// The LiteLLM admin client: one typed method per endpoint the operator uses, following
// CONTRACT-VERIFIED.md (schemas.ts is its record). Every call has a timeout; failures come
// out as LiteLLMError (errors.ts) naming the call and the Kubernetes object; a circuit
// breaker fails calls fast while LiteLLM is down; metrics count every request.
//
// Retries. The client retries by itself only calls that are safe to send twice, and only
// for failures that a second attempt can fix (retry.ts). Safe: every GET, and the POSTs
// marked `idempotent` below (updates that set absolute values, block/unblock). NOT safe,
// never retried here (the reconciler's next run observes and converges instead):
//
//   /user/new, /team/new        a repeat after a lost response answers 409 / 400 "already exists"
//   /key/generate               a repeated `key` value answers 200 and CHANGES NOTHING (even
//                               if the first request's settings differed); a repeated alias
//                               answers 400. A 200 is no proof: verify with keyInfo(hash).
//   /team/member_add            a repeat answers 400 team_member_already_in_team
//   /team/member_delete         a repeat answers 400 "User not found in team" (and the first
//                               one also deleted the member's keys in that team)
//   /user|team|key/delete       a repeat answers 404 (callers treat notFound as "gone")
//   /key/update with `duration` the expiry is "now + duration", so every repeat moves it
//
// After a timeout on any of these, the request may or may not have taken effect: observe
// (userInfo / teamInfo / keyInfo) before trying again.
//
// Key material: plaintext keys are sent only to /key/generate. Everywhere LiteLLM accepts the
// hash, the client converts a plaintext key to its hash first, so no key value travels in a
// URL or appears in LiteLLM's error messages; messages are redacted besides (errors.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { Logger } from '../runtime/logger.ts';
import { silentLogger } from '../runtime/logger.ts';
import { parseRetryAfter } from '../runtime/result.ts';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';
import type { MasterKeySource } from './config.ts';
import { classifyResponse, LiteLLMError, normaliseErrorBody, redact } from './errors.ts';
import { keyToken } from './hash.ts';
import { circuitStateValue, clientMetrics, type ClientMetrics } from './metrics.ts';
import { defaultRetryPolicy, retryDelay, type RetryPolicy } from './retry.ts';
import * as s from './schemas.ts';

export interface LiteLLMClientOptions {
  /** e.g. `http://litellm:4000` (a path prefix is kept: `http://host/litellm`). */
  baseUrl: string;
  masterKey: MasterKeySource;
  /** Per attempt, until the whole response is read. Default 10 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** A breaker to share, or options for the client's own. */
  circuitBreaker?: CircuitBreaker | CircuitBreakerOptions;
  /** Where to register the litellm_client_* metrics; none when absent. */
  registry?: Registry;
  logger?: Logger;
  /** Waits between retries; injectable so tests need not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

export interface CallOptions {
  /** The Kubernetes object the call is made for, named in errors: `Team ml-research`. */
  object?: string;
  /** Aborts the call (and its retries); the abort reason is thrown as is. */
  signal?: AbortSignal;
}

type Method = 'GET' | 'POST';
type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

interface Call<T> {
  method: Method;
  endpoint: string;
  query?: Query;
  body?: unknown;
  response: z.ZodType<T>;
  /** Safe to send twice (see the top of this file). GETs always are. */
  idempotent: boolean;
  /** Send no Authorization header (the unauthenticated health routes). */
  anonymous?: boolean;
  /** Values to redact from error messages besides the master key (a plaintext key). */
  secrets?: readonly string[];
}

export class LiteLLMClient {
  readonly baseUrl: string;
  readonly breaker: CircuitBreaker;
  readonly #masterKey: MasterKeySource;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #metrics: ClientMetrics | undefined;
  readonly #logger: Logger;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  /** The last failure that counted against the circuit, quoted when it is open. */
  #lastFailure = '';

  constructor(options: LiteLLMClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#masterKey = options.masterKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retry = { ...defaultRetryPolicy, ...options.retry };
    this.#metrics = options.registry ? clientMetrics(options.registry) : undefined;
    this.#logger = options.logger ?? silentLogger;
    this.#sleep = options.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal }));
    this.#random = options.random ?? Math.random;
    const metrics = this.#metrics;
    const breaker = options.circuitBreaker;
    this.breaker =
      breaker instanceof CircuitBreaker
        ? breaker
        : new CircuitBreaker({
            ...breaker,
            onStateChange: (state) => {
              metrics?.circuitState.set(circuitStateValue[state]);
              this.#logger.warn(
                { circuit: state, litellm: this.baseUrl },
                'LiteLLM circuit breaker %s',
                state,
              );
              breaker?.onStateChange?.(state);
            },
          });
  }

  // ---- users ---------------------------------------------------------------------------

  /** POST /user/new. Sends auto_create_key=false unless the request says otherwise. Not retried. */
  async newUser(request: s.NewUserRequest, options?: CallOptions): Promise<s.NewUserResponse> {
    const body = this.#validate(
      s.NewUserRequest,
      { auto_create_key: false, ...request },
      'POST',
      '/user/new',
      options,
    );
    return this.#request(
      {
        method: 'POST',
        endpoint: '/user/new',
        body,
        response: s.NewUserResponse,
        idempotent: false,
      },
      options,
    );
  }

  /** GET /user/info. Unknown user → LiteLLMError notFound. */
  async userInfo(userId: string, options?: CallOptions): Promise<s.UserInfoResponse> {
    return this.#request(
      {
        method: 'GET',
        endpoint: '/user/info',
        query: { user_id: userId },
        response: s.UserInfoResponse,
        idempotent: true,
      },
      options,
    );
  }

  /** POST /user/update. UPSERTS an unknown user. Retried (sets absolute values). */
  async updateUser(
    request: s.UpdateUserRequest,
    options?: CallOptions,
  ): Promise<s.UpdateUserResponse> {
    const body = this.#validate(s.UpdateUserRequest, request, 'POST', '/user/update', options);
    return this.#request(
      {
        method: 'POST',
        endpoint: '/user/update',
        body,
        response: s.UpdateUserResponse,
        idempotent: true,
      },
      options,
    );
  }

  /** POST /user/delete. Also deletes their keys. One unknown id → notFound, nothing deleted. Not retried. */
  async deleteUsers(userIds: readonly string[], options?: CallOptions): Promise<unknown> {
    const body = this.#validate(
      s.DeleteUsersRequest,
      { user_ids: [...userIds] },
      'POST',
      '/user/delete',
      options,
    );
    return this.#request(
      {
        method: 'POST',
        endpoint: '/user/delete',
        body,
        response: s.DeleteUsersResponse,
        idempotent: false,
      },
      options,
    );
  }

  /** GET /user/list (page_size ≤ 100). */
  async listUsers(
    query: s.ListUsersQuery = {},
    options?: CallOptions,
  ): Promise<s.ListUsersResponse> {
    const q = this.#validate(s.ListUsersQuery, query, 'GET', '/user/list', options);
    return this.#request(
      {
        method: 'GET',
        endpoint: '/user/list',
        query: q,
        response: s.ListUsersResponse,
        idempotent: true,
      },
      options,
    );
  }

  // ---- teams ---------------------------------------------------------------------------

  /** POST /team/new. Existing id → conflict. Not retried. */
  async newTeam(request: s.NewTeamRequest, options?: CallOptions): Promise<s.TeamRow> {
    const body = this.#validate(s.NewTeamRequest, request, 'POST', '/team/new', options);
    return this.#request(
      {
        method: 'POST',
        endpoint: '/team/new',
        body,
        response: s.NewTeamResponse,
        idempotent: false,
      },
      options,
    );
  }

  /** GET /team/info. Unknown team → notFound. */
  async teamInfo(teamId: string, options?: CallOptions): Promise<s.TeamInfoResponse> {
    return this.#request(
      {
        method: 'GET',
        endpoint: '/team/info',
        query: { team_id: teamId },
        response: s.TeamInfoResponse,
        idempotent: true,
      },
      options,
    );
  }

  /** POST /team/update (never changes members). Retried. */
  async updateTeam(
    request: s.UpdateTeamRequest,
    options?: CallOptions,
  ): Promise<s.UpdateTeamResponse> {
    const body = this.#validate(s.UpdateTeamRequest, request, 'POST', '/team/update', options);
    return this.#request(
      {
        method: 'POST',
        endpoint: '/team/update',
        body,
        response: s.UpdateTeamResponse,
        idempotent: true,
      },
      options,
    );
  }

  /** POST /team/delete. Also deletes the teams' keys. Not retried. */
  async deleteTeams(
    teamIds: readonly string[],
    options?: CallOptions,
  ): Promise<z.infer<typeof s.DeleteTeamsResponse>> {
    const body = this.#validate(
      s.DeleteTeamsRequest,
      { team_ids: [...teamIds] },
      'POST',
      '/team/delete',
      options,
    );
    return this.#request(
      {
        method: 'POST',
        endpoint: '/team/delete',
        body,
        response: s.DeleteTeamsResponse,
        idempotent: false,
      },
      options,
    );
  }

  /** GET /team/list: every team (or a user's). */
  async listTeams(query: s.ListTeamsQuery = {}, options?: CallOptions): Promise<s.TeamRow[]> {
    const q = this.#validate(s.ListTeamsQuery, query, 'GET', '/team/list', options);
    return this.#request(
      {
        method: 'GET',
        endpoint: '/team/list',
        query: q,
        response: s.ListTeamsResponse,
        idempotent: true,
      },
      options,
    );
  }

  /** POST /team/member_add. role admin → enterpriseOnly without a licence. Not retried. */
  async addTeamMembers(
    request: s.AddTeamMembersRequest,
    options?: CallOptions,
  ): Promise<z.infer<typeof s.AddTeamMembersResponse>> {
    const body = this.#validate(
      s.AddTeamMembersRequest,
      request,
      'POST',
      '/team/member_add',
      options,
    );
    return this.#request(
      {
        method: 'POST',
        endpoint: '/team/member_add',
        body,
        response: s.AddTeamMembersResponse,
        idempotent: false,
      },
      options,
    );
  }

  /** POST /team/member_delete. ALSO DELETES the member's keys in the team. Not retried. */
  async deleteTeamMember(
    request: s.DeleteTeamMemberRequest,
    options?: CallOptions,
  ): Promise<z.infer<typeof s.DeleteTeamMemberResponse>> {
    const body = this.#validate(
      s.DeleteTeamMemberRequest,
      request,
      'POST',
      '/team/member_delete',
      options,
    );
    return this.#request(
      {
        method: 'POST',
        endpoint: '/team/member_delete',
        body,
        response: s.DeleteTeamMemberResponse,
        idempotent: false,
      },
      options,
    );
  }

  /** POST /team/member_update. role admin → enterpriseOnly without a licence. Retried. */
  async updateTeamMember(
    request: s.UpdateTeamMemberRequest,
    options?: CallOptions,
  ): Promise<z.infer<typeof s.UpdateTeamMemberResponse>> {
    const body = this.#validate(
      s.UpdateTeamMemberRequest,
      request,
      'POST',
      '/team/member_update',
      options,
    );
    return this.#request(
      {
        method: 'POST',
        endpoint: '/team/member_update',
        body,
        response: s.UpdateTeamMemberResponse,
        idempotent: true,
      },
      options,
    );
  }

  /** POST /team/block: the team's keys get 401 at request time. Retried. */
  async blockTeam(teamId: string, options?: CallOptions): Promise<s.TeamRow> {
    return this.#request(
      {
        method: 'POST',
        endpoint: '/team/block',
        body: { team_id: teamId },
        response: s.BlockTeamResponse,
        idempotent: true,
      },
      options,
    );
  }

  /** POST /team/unblock. Retried. */
  async unblockTeam(teamId: string, options?: CallOptions): Promise<s.TeamRow> {
    return this.#request(
      {
        method: 'POST',
        endpoint: '/team/unblock',
        body: { team_id: teamId },
        response: s.BlockTeamResponse,
        idempotent: true,
      },
      options,
    );
  }

  // ---- keys ----------------------------------------------------------------------------

  /**
   * POST /key/generate with our own key value. Not retried, and a 200 is not proof: a key
   * value LiteLLM already has answers 200 with nothing changed. Check `keyInfo(hashKey(key))`
   * before (does it exist?) and compare its settings after.
   */
  async generateKey(
    request: s.GenerateKeyRequest,
    options?: CallOptions,
  ): Promise<s.GenerateKeyResponse> {
    const body = this.#validate(s.GenerateKeyRequest, request, 'POST', '/key/generate', options);
    return this.#request(
      {
        method: 'POST',
        endpoint: '/key/generate',
        body,
        response: s.GenerateKeyResponse,
        idempotent: false,
        secrets: [request.key],
      },
      options,
    );
  }

  /**
   * GET /key/info by hash (a plaintext key is hashed first). A deleted key answers with
   * info.status "deleted"; a key that never existed → notFound.
   */
  async keyInfo(keyOrHash: string, options?: CallOptions): Promise<s.KeyInfoResponse> {
    return this.#request(
      {
        method: 'GET',
        endpoint: '/key/info',
        query: { key: keyToken(keyOrHash) },
        response: s.KeyInfoResponse,
        idempotent: true,
        secrets: [keyOrHash],
      },
      options,
    );
  }

  /** POST /key/update (merge-patch; null clears). Retried unless it carries `duration`. */
  async updateKey(
    request: s.UpdateKeyRequest,
    options?: CallOptions,
  ): Promise<s.UpdateKeyResponse> {
    const parsed = this.#validate(s.UpdateKeyRequest, request, 'POST', '/key/update', options);
    const body = { ...parsed, key: keyToken(parsed.key) };
    return this.#request(
      {
        method: 'POST',
        endpoint: '/key/update',
        body,
        response: s.UpdateKeyResponse,
        idempotent: request.duration === undefined,
        secrets: [request.key],
      },
      options,
    );
  }

  /** POST /key/delete by hashes (plaintext keys are hashed) or aliases. None found → notFound. Not retried. */
  async deleteKeys(
    request: s.DeleteKeysRequest,
    options?: CallOptions,
  ): Promise<z.infer<typeof s.DeleteKeysResponse>> {
    const parsed = this.#validate(s.DeleteKeysRequest, request, 'POST', '/key/delete', options);
    const body = parsed.keys ? { ...parsed, keys: parsed.keys.map(keyToken) } : parsed;
    return this.#request(
      {
        method: 'POST',
        endpoint: '/key/delete',
        body,
        response: s.DeleteKeysResponse,
        idempotent: false,
        secrets: request.keys ?? [],
      },
      options,
    );
  }

  /** GET /key/list (`size` ≤ 100; `keys` are hashes unless return_full_object). */
  async listKeys(query: s.ListKeysQuery = {}, options?: CallOptions): Promise<s.ListKeysResponse> {
    const q = this.#validate(s.ListKeysQuery, query, 'GET', '/key/list', options);
    return this.#request(
      {
        method: 'GET',
        endpoint: '/key/list',
        query: q,
        response: s.ListKeysResponse,
        idempotent: true,
      },
      options,
    );
  }

  /** POST /key/block (by hash): the key gets 401 at request time. Retried. */
  async blockKey(keyOrHash: string, options?: CallOptions): Promise<s.KeyRow> {
    return this.#request(
      {
        method: 'POST',
        endpoint: '/key/block',
        body: { key: keyToken(keyOrHash) },
        response: s.BlockKeyResponse,
        idempotent: true,
        secrets: [keyOrHash],
      },
      options,
    );
  }

  /** POST /key/unblock (by hash). Retried. */
  async unblockKey(keyOrHash: string, options?: CallOptions): Promise<s.KeyRow> {
    return this.#request(
      {
        method: 'POST',
        endpoint: '/key/unblock',
        body: { key: keyToken(keyOrHash) },
        response: s.BlockKeyResponse,
        idempotent: true,
        secrets: [keyOrHash],
      },
      options,
    );
  }

  // ---- models and health ---------------------------------------------------------------

  /** GET /v1/models: every model the proxy serves (the master key sees all). */
  async listModels(options?: CallOptions): Promise<s.ModelListResponse> {
    return this.#request(
      { method: 'GET', endpoint: '/v1/models', response: s.ModelListResponse, idempotent: true },
      options,
    );
  }

  /** GET /model/info: deployments with their litellm_params and model_info. */
  async modelInfo(options?: CallOptions): Promise<s.ModelInfoResponse> {
    return this.#request(
      { method: 'GET', endpoint: '/model/info', response: s.ModelInfoResponse, idempotent: true },
      options,
    );
  }

  /** GET /health/readiness (unauthenticated). 503 → unavailable. */
  async readiness(options?: CallOptions): Promise<s.ReadinessResponse> {
    return this.#request(
      {
        method: 'GET',
        endpoint: '/health/readiness',
        response: s.ReadinessResponse,
        idempotent: true,
        anonymous: true,
      },
      options,
    );
  }

  // ---- the machinery -------------------------------------------------------------------

  /** Parses a request with its schema; a mismatch is `invalid` and nothing is sent. */
  #validate<S extends z.ZodType>(
    schema: S,
    value: unknown,
    method: Method,
    endpoint: string,
    options?: CallOptions,
  ): z.output<S> {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issues = result.error.issues.map((i) =>
      i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message,
    );
    throw new LiteLLMError({
      kind: 'invalid',
      method,
      endpoint,
      detail: `request not sent, it does not match the LiteLLM contract: ${issues.join('; ')}`,
      object: options?.object,
    });
  }

  async #request<T>(call: Call<T>, options: CallOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(call, options);
      } catch (err) {
        if (!(err instanceof LiteLLMError)) throw err;
        const delay = retryDelay(this.#retry, attempt, err, call.idempotent, this.#random);
        if (delay === undefined) throw err;
        this.#logger.debug(
          {
            endpoint: call.endpoint,
            method: call.method,
            attempt,
            delayMs: delay,
            kind: err.kind,
            status: err.status,
          },
          'retrying LiteLLM call',
        );
        await this.#sleep(delay, options.signal);
      }
    }
  }

  async #attempt<T>(call: Call<T>, options: CallOptions): Promise<T> {
    const { method, endpoint } = call;
    const labels = { endpoint, method };
    const fail = (
      init: Omit<ConstructorParameters<typeof LiteLLMError>[0], 'method' | 'endpoint' | 'object'>,
    ) => new LiteLLMError({ ...init, method, endpoint, object: options.object });

    options.signal?.throwIfAborted();
    const permit = this.breaker.acquire();
    if (!permit.allowed) {
      this.#metrics?.requests.inc({ ...labels, code: 'circuit_open' });
      throw fail({
        kind: 'unavailable',
        circuitOpen: true,
        retryAfterMs: permit.retryAfterMs,
        detail: `not sent: circuit breaker open after ${this.breaker.failureThreshold} consecutive failures to reach LiteLLM at ${this.baseUrl} (last: ${this.#lastFailure})`,
      });
    }

    const masterKey =
      typeof this.#masterKey === 'string' ? this.#masterKey : await this.#masterKey();
    const secrets = [masterKey, ...(call.secrets ?? [])];
    const headers: Record<string, string> = { accept: 'application/json' };
    if (!call.anonymous) headers.authorization = `Bearer ${masterKey}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json';

    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const started = performance.now();
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.#url(endpoint, call.query), {
        method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal,
      });
      text = await response.text();
    } catch (err) {
      this.#metrics?.duration.observe(labels, (performance.now() - started) / 1000);
      if (options.signal?.aborted) {
        this.breaker.release();
        this.#metrics?.requests.inc({ ...labels, code: 'aborted' });
        throw options.signal.reason;
      }
      const timedOut = timeout.aborted;
      this.#metrics?.requests.inc({ ...labels, code: timedOut ? 'timeout' : 'network_error' });
      const error = fail({
        kind: 'unavailable',
        detail: timedOut
          ? `no response within ${this.#timeoutMs} ms`
          : `could not reach LiteLLM at ${this.baseUrl}: ${redact(describeNetworkError(err), secrets)}`,
        cause: err,
      });
      this.#recordFailure(error);
      throw error;
    }
    this.#metrics?.duration.observe(labels, (performance.now() - started) / 1000);
    this.#metrics?.requests.inc({ ...labels, code: String(response.status) });

    if (!response.ok) {
      const body = normaliseErrorBody(text);
      const kind = classifyResponse(response.status, body);
      const retryAfterMs =
        kind === 'rateLimited' || kind === 'unavailable'
          ? parseRetryAfter(response.headers.get('retry-after'))
          : undefined;
      const error = fail({
        kind,
        status: response.status,
        detail: redact(body.message, secrets),
        type: body.type,
        code: body.code,
        param: body.param,
        retryAfterMs,
      });
      // Only a proxy that does not answer counts against the circuit; a 4xx/500 is an answer.
      if ([502, 503, 504].includes(response.status)) this.#recordFailure(error);
      else this.breaker.recordSuccess();
      throw error;
    }
    this.breaker.recordSuccess();

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw fail({
        kind: 'server',
        status: response.status,
        detail: `response is not JSON: ${redact(text.slice(0, 200), secrets)}`,
      });
    }
    const parsed = call.response.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw fail({
        kind: 'server',
        status: response.status,
        detail: `response does not match the LiteLLM contract: ${issues.join('; ')}`,
      });
    }
    return parsed.data;
  }

  #recordFailure(error: LiteLLMError): void {
    const status = error.status === undefined ? '' : `${error.status} `;
    this.#lastFailure = `${error.call}: ${status}${error.detail}`;
    this.breaker.recordFailure();
  }

  #url(endpoint: string, query: Query | undefined): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      params.set(name, Array.isArray(value) ? value.join(',') : String(value));
    }
    const qs = params.toString();
    return `${this.baseUrl}${endpoint}${qs ? `?${qs}` : ''}`;
  }
}

/** undici's `fetch failed` hides the reason in `cause` (ECONNREFUSED, UND_ERR_SOCKET, …). */
function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    parts.push(code && !e.message.includes(code) ? `${e.message} (${code})` : e.message);
  }
  return parts.join(': ') || String(err);
}
