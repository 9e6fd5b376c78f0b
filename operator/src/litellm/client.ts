// The LiteLLM admin client: one typed method per endpoint the operator uses, each a line over
// the table of endpoints (endpoints.ts: method, path, request and response schema, whether a
// repeat is safe) and one call path. Every request is validated before it is sent and every
// response after; every call has a timeout; failures come out as LiteLLMError (errors.ts)
// naming the call and the Kubernetes object; a circuit breaker fails calls fast while LiteLLM
// is down; metrics count every request, by the table's path.
//
// Retries. The client retries by itself only endpoints the table marks idempotent, and only
// for failures that a second attempt can fix (retry.ts). After a timeout on any other call,
// the request may or may not have taken effect: observe (userInfo / teamInfo / keyInfo)
// before trying again. Why each endpoint is or is not idempotent: endpoints.ts.
//
// Key material: plaintext keys are sent only to /key/generate; everywhere else the table
// sends the hash, and error messages are redacted besides (errors.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { AuditObject } from '../../../contracts/audit/audit-record.ts';
import type { Logger } from '../runtime/logger.ts';
import { silentLogger } from '../runtime/logger.ts';
import { parseRetryAfter } from '../runtime/result.ts';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';
import type { MasterKeySource } from './config.ts';
import { endpoints, isIdempotent, type Endpoint } from './endpoints.ts';
import { classifyResponse, LiteLLMError, normaliseErrorBody, redact } from './errors.ts';
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
  /** Told of every write (POST) once its outcome is known: the audit trail's hook. */
  onWrite?: (write: LiteLLMWrite) => void;
}

/** A write the client sent (or tried to: it may have taken effect even when it failed). */
export interface LiteLLMWrite {
  path: string;
  /** What was sent: keys as hashes, except the plaintext `key` of /key/generate. */
  request: unknown;
  /** Values in `request` that must never be written anywhere (that plaintext key). */
  secrets: readonly string[];
  options: CallOptions;
  /** Absent when it succeeded. */
  error?: unknown;
}

export interface CallOptions {
  /** The Kubernetes object the call is made for, named in errors: `Team ml-research`. */
  object?: string;
  /** That object, as the audit trail names it (kind, namespace, name, uid). */
  subject?: AuditObject;
  /** Aborts the call (and its retries); the abort reason is thrown as is. */
  signal?: AbortSignal;
}

/** For the list-everything calls: the list's filters, and the page size (≤ 100, default 100). */
export interface ListAllOptions<Query> extends CallOptions {
  filter?: Omit<Query, 'page' | 'size' | 'page_size' | 'return_full_object'>;
  pageSize?: number;
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
  readonly #onWrite: ((write: LiteLLMWrite) => void) | undefined;
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
    this.#onWrite = options.onWrite;
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
    return this.#call(endpoints.newUser, request, options);
  }

  /** GET /user/info. Unknown user → LiteLLMError notFound. */
  async userInfo(userId: string, options?: CallOptions): Promise<s.UserInfoResponse> {
    return this.#call(endpoints.userInfo, { user_id: userId }, options);
  }

  /** POST /user/update. UPSERTS an unknown user. Retried (sets absolute values). */
  async updateUser(
    request: s.UpdateUserRequest,
    options?: CallOptions,
  ): Promise<s.UpdateUserResponse> {
    return this.#call(endpoints.updateUser, request, options);
  }

  /** POST /user/delete. Also deletes their keys. One unknown id → notFound, nothing deleted. Not retried. */
  async deleteUsers(userIds: readonly string[], options?: CallOptions): Promise<unknown> {
    return this.#call(endpoints.deleteUsers, { user_ids: [...userIds] }, options);
  }

  /** GET /user/list: one page (page_size ≤ 100). listAllUsers reads them all. */
  async listUsers(
    query: s.ListUsersQuery = {},
    options?: CallOptions,
  ): Promise<s.ListUsersResponse> {
    return this.#call(endpoints.listUsers, query, options);
  }

  /**
   * Every user row, through GET /user/list `pageSize` (default 100) a page, deduplicated by
   * user_id. Newest first, by offset: as with listAllKeys, a user created or deleted while
   * the pages are read can make a row missing, so a user missing here is no proof it is gone.
   */
  async listAllUsers(options: ListAllOptions<s.ListUsersQuery> = {}): Promise<s.UserRow[]> {
    const { filter, pageSize = maxPageSize, ...call } = options;
    const users = new Map<string, s.UserRow>();
    await everyPage(pageSize, async (page) => {
      const answer = await this.listUsers({ ...filter, page, page_size: pageSize }, call);
      for (const user of answer.users) users.set(user.user_id, user);
      return { rows: answer.users.length, totalPages: answer.total_pages };
    });
    return [...users.values()];
  }

  // ---- teams ---------------------------------------------------------------------------

  /** POST /team/new. Existing id → conflict. Not retried. */
  async newTeam(request: s.NewTeamRequest, options?: CallOptions): Promise<s.TeamRow> {
    return this.#call(endpoints.newTeam, request, options);
  }

  /** GET /team/info. Unknown team → notFound. */
  async teamInfo(teamId: string, options?: CallOptions): Promise<s.TeamInfoResponse> {
    return this.#call(endpoints.teamInfo, { team_id: teamId }, options);
  }

  /** POST /team/update (never changes members). Retried. */
  async updateTeam(
    request: s.UpdateTeamRequest,
    options?: CallOptions,
  ): Promise<s.UpdateTeamResponse> {
    return this.#call(endpoints.updateTeam, request, options);
  }

  /** POST /team/delete. Also deletes the teams' keys. Not retried. */
  async deleteTeams(
    teamIds: readonly string[],
    options?: CallOptions,
  ): Promise<z.infer<typeof s.DeleteTeamsResponse>> {
    return this.#call(endpoints.deleteTeams, { team_ids: [...teamIds] }, options);
  }

  /** GET /team/list: every team (or a user's) at once; LiteLLM does not page it. */
  async listTeams(query: s.ListTeamsQuery = {}, options?: CallOptions): Promise<s.TeamRow[]> {
    return this.#call(endpoints.listTeams, query, options);
  }

  /** POST /team/member_add. role admin → enterpriseOnly without a licence. Not retried. */
  async addTeamMembers(
    request: s.AddTeamMembersRequest,
    options?: CallOptions,
  ): Promise<z.infer<typeof s.AddTeamMembersResponse>> {
    return this.#call(endpoints.addTeamMembers, request, options);
  }

  /** POST /team/member_delete. ALSO DELETES the member's keys in the team. Not retried. */
  async deleteTeamMember(
    request: s.DeleteTeamMemberRequest,
    options?: CallOptions,
  ): Promise<z.infer<typeof s.DeleteTeamMemberResponse>> {
    return this.#call(endpoints.deleteTeamMember, request, options);
  }

  /** POST /team/member_update. role admin → enterpriseOnly without a licence. Retried. */
  async updateTeamMember(
    request: s.UpdateTeamMemberRequest,
    options?: CallOptions,
  ): Promise<z.infer<typeof s.UpdateTeamMemberResponse>> {
    return this.#call(endpoints.updateTeamMember, request, options);
  }

  /** POST /team/block: the team's keys get 401 at request time. Retried. */
  async blockTeam(teamId: string, options?: CallOptions): Promise<s.TeamRow> {
    return this.#call(endpoints.blockTeam, { team_id: teamId }, options);
  }

  /** POST /team/unblock. Retried. */
  async unblockTeam(teamId: string, options?: CallOptions): Promise<s.TeamRow> {
    return this.#call(endpoints.unblockTeam, { team_id: teamId }, options);
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
    return this.#call(endpoints.generateKey, request, options);
  }

  /**
   * GET /key/info by hash (a plaintext key is hashed first). A deleted key answers with
   * info.status "deleted"; a key that never existed → notFound.
   */
  async keyInfo(keyOrHash: string, options?: CallOptions): Promise<s.KeyInfoResponse> {
    return this.#call(endpoints.keyInfo, { key: keyOrHash }, options);
  }

  /** POST /key/update (merge-patch; null clears). Retried unless it carries `duration`. */
  async updateKey(
    request: s.UpdateKeyRequest,
    options?: CallOptions,
  ): Promise<s.UpdateKeyResponse> {
    return this.#call(endpoints.updateKey, request, options);
  }

  /** POST /key/delete by hashes (plaintext keys are hashed) or aliases. None found → notFound. Not retried. */
  async deleteKeys(
    request: s.DeleteKeysRequest,
    options?: CallOptions,
  ): Promise<z.infer<typeof s.DeleteKeysResponse>> {
    return this.#call(endpoints.deleteKeys, request, options);
  }

  /** GET /key/list: one page (`size` ≤ 100; `keys` are hashes unless return_full_object). */
  async listKeys(query: s.ListKeysQuery = {}, options?: CallOptions): Promise<s.ListKeysResponse> {
    return this.#call(endpoints.listKeys, query, options);
  }

  /**
   * Every key row (full rows, `token` the hash), through GET /key/list `pageSize` (default
   * 100) a page: 10,000 keys take 100 requests. `filter` narrows as in listKeys. The list is
   * newest first and pages are offsets, so changes made while it is read shift rows between
   * pages: a key created meanwhile may be missing (it lands on a page already read) and pushes
   * one row onto the next page again (kept once, by hash); a key deleted meanwhile can pull
   * one row of a later page onto a page already read, so that row is missing. A key missing
   * here is therefore no proof that LiteLLM lacks it: observe it with keyInfo before acting
   * on its absence. Which keys are this installation's is for the caller to judge from
   * their metadata.
   */
  async listAllKeys(options: ListAllOptions<s.ListKeysQuery> = {}): Promise<s.KeyRow[]> {
    const { filter, pageSize = maxPageSize, ...call } = options;
    const keys = new Map<string, s.KeyRow>();
    await everyPage(pageSize, async (page) => {
      const query = { ...filter, page, size: pageSize, return_full_object: true };
      const answer = await this.listKeys(query, call);
      for (const row of answer.keys) {
        if (typeof row === 'string') {
          // Only hashes: the rows cannot be judged, and missing rows must not read as "gone".
          throw new LiteLLMError({
            kind: 'server',
            method: endpoints.listKeys.method,
            endpoint: endpoints.listKeys.path,
            detail: 'response holds key hashes, not the full rows asked for (return_full_object)',
            object: call.object,
          });
        }
        if (row.token) keys.set(row.token, row);
      }
      return { rows: answer.keys.length, totalPages: answer.total_pages };
    });
    return [...keys.values()];
  }

  /** POST /key/block (by hash): the key gets 401 at request time. Retried. */
  async blockKey(keyOrHash: string, options?: CallOptions): Promise<s.KeyRow> {
    return this.#call(endpoints.blockKey, { key: keyOrHash }, options);
  }

  /** POST /key/unblock (by hash). Retried. */
  async unblockKey(keyOrHash: string, options?: CallOptions): Promise<s.KeyRow> {
    return this.#call(endpoints.unblockKey, { key: keyOrHash }, options);
  }

  // ---- models and health ---------------------------------------------------------------

  /** GET /v1/models: every model the proxy serves (the master key sees all). */
  async listModels(options?: CallOptions): Promise<s.ModelListResponse> {
    return this.#call(endpoints.listModels, {}, options);
  }

  /** GET /model/info: deployments with their litellm_params and model_info. */
  async modelInfo(options?: CallOptions): Promise<s.ModelInfoResponse> {
    return this.#call(endpoints.modelInfo, {}, options);
  }

  /** GET /health/readiness (unauthenticated). 503 → unavailable. */
  async readiness(options?: CallOptions): Promise<s.ReadinessResponse> {
    return this.#call(endpoints.readiness, {}, options);
  }

  // ---- the machinery -------------------------------------------------------------------

  /**
   * The one call path: validates the request against the entry's schema (nothing is sent
   * when it does not match), then sends it, retrying only an idempotent entry.
   */
  async #call<Req extends z.ZodType, Res extends z.ZodType>(
    endpoint: Endpoint<Req, Res>,
    request: z.input<Req>,
    options: CallOptions = {},
  ): Promise<z.output<Res>> {
    const valid = this.#validate(endpoint, request, options);
    const idempotent = isIdempotent(endpoint, valid);
    const wire = endpoint.wire ? endpoint.wire(valid) : valid;
    const secrets = endpoint.secrets?.(valid) ?? [];
    const onWrite = endpoint.method === 'POST' ? this.#onWrite : undefined;
    if (!onWrite) return this.#send(endpoint, wire, secrets, idempotent, options);
    const write = { path: endpoint.path, request: wire, secrets, options };
    try {
      const answer = await this.#send(endpoint, wire, secrets, idempotent, options);
      onWrite(write);
      return answer;
    } catch (error) {
      onWrite({ ...write, error });
      throw error;
    }
  }

  /** Sends a validated request, retrying only an idempotent one. */
  async #send<Res extends z.ZodType>(
    endpoint: Endpoint<z.ZodType, Res>,
    wire: unknown,
    secrets: readonly string[],
    idempotent: boolean,
    options: CallOptions,
  ): Promise<z.output<Res>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(endpoint, wire, secrets, options);
      } catch (err) {
        if (!(err instanceof LiteLLMError)) throw err;
        const delay = retryDelay(this.#retry, attempt, err, idempotent, this.#random);
        if (delay === undefined) throw err;
        this.#logger.debug(
          {
            endpoint: endpoint.path,
            method: endpoint.method,
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

  /** Parses a request with its entry's schema; a mismatch is `invalid` and nothing is sent. */
  #validate<Req extends z.ZodType>(
    endpoint: Endpoint<Req>,
    request: unknown,
    options: CallOptions,
  ): z.output<Req> {
    const result = endpoint.request.safeParse(request);
    if (result.success) return result.data;
    const issues = result.error.issues.map((i) =>
      i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message,
    );
    throw new LiteLLMError({
      kind: 'invalid',
      method: endpoint.method,
      endpoint: endpoint.path,
      detail: `request not sent, it does not match the LiteLLM contract: ${redact(issues.join('; '))}`,
      object: options.object,
    });
  }

  async #attempt<Res extends z.ZodType>(
    endpoint: Endpoint<z.ZodType, Res>,
    wire: unknown,
    requestSecrets: readonly string[],
    options: CallOptions,
  ): Promise<z.output<Res>> {
    const { method, path } = endpoint;
    const labels = { endpoint: path, method };
    const fail = (
      init: Omit<ConstructorParameters<typeof LiteLLMError>[0], 'method' | 'endpoint' | 'object'>,
    ) => new LiteLLMError({ ...init, method, endpoint: path, object: options.object });

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
    const secrets = [masterKey, ...requestSecrets];
    const requestBody = method === 'GET' ? undefined : JSON.stringify(wire);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (!endpoint.anonymous) headers.authorization = `Bearer ${masterKey}`;
    if (requestBody !== undefined) headers['content-type'] = 'application/json';

    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const started = performance.now();
    let response: Response;
    let text: string;
    try {
      const url = this.#url(path, method === 'GET' ? (wire as Query) : undefined);
      response = await fetch(url, { method, headers, body: requestBody, signal });
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
    const parsed = endpoint.response.safeParse(json);
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

  /** The URL with a GET's validated query: lists comma-joined, as LiteLLM reads them. */
  #url(path: string, query: Query | undefined): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      params.set(name, Array.isArray(value) ? value.join(',') : String(value));
    }
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }
}

/** A GET's validated query: strings, numbers, booleans and lists of strings. */
type Query = Record<string, unknown>;

/** LiteLLM's largest page (`size` / `page_size` ≤ 100). */
const maxPageSize = 100;

/**
 * Reads pages 1, 2, … until one is empty or is the last the latest answer announces. Without
 * an announced total, a short page is the last.
 */
async function everyPage(
  pageSize: number,
  read: (page: number) => Promise<{ rows: number; totalPages: number | null | undefined }>,
): Promise<void> {
  for (let page = 1; ; page++) {
    const { rows, totalPages } = await read(page);
    if (rows === 0 || page >= (totalPages ?? (rows < pageSize ? page : page + 1))) return;
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
