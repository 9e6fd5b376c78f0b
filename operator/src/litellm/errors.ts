// Errors from LiteLLM, normalised. LiteLLM answers failures in several shapes
// (CONTRACT-VERIFIED.md §0): a ProxyException `{error: {message, type, param, code}}`; a bare
// FastAPI `{detail: str}` or `{detail: {error: str}}`; 422 validation `{detail: [{loc, msg}]}`;
// and messages that are the Python repr of a dict (`"{'error': 'User with id x already
// exists'}"`). Every shape becomes one LiteLLMError with a readable message and a `kind` the
// reconciler acts on. The status comes from the HTTP status line; `type` is kept but never
// relied on for management calls (LiteLLM sets it to `internal_server_error` for most).
//
// Messages name the call and, when given, the Kubernetes object
// (`Team ml-research: POST /team/update: 404 Team not found, passed team id: x.`) and never
// contain the master key or a key value: secrets passed in are replaced, and anything shaped
// like a plaintext `sk-` key is masked as a second line of defence.
import { defaultErrorPolicy, type ErrorPolicy } from '../runtime/error-policy.ts';
import { TerminalError } from '../runtime/result.ts';

/**
 * What went wrong, as far as a caller needs to know:
 * - `unavailable`: LiteLLM could not be reached or is not serving (network error, timeout,
 *   502/503/504, its database missing, the client's circuit breaker open). Retry with backoff,
 *   or after `retryAfterMs` when LiteLLM said how long.
 * - `rateLimited`: 429. Retry after `retryAfterMs` (from Retry-After) or with backoff.
 * - `conflict`: the object already exists (409; 400 "already exists"/"already in team").
 * - `notFound`: 404, or a 400 that says "not found".
 * - `invalid`: any other 4xx (400, 422): the request is wrong; retrying cannot fix it.
 * - `enterpriseOnly`: the feature needs a LiteLLM Enterprise licence (403/400/500 saying
 *   "enterprise"/"premium"). Retrying cannot fix it either.
 * - `unauthorized`: 401/403: LiteLLM rejected the operator's master key (a configuration
 *   problem of the operator, not of the object: retried with backoff, not terminal).
 * - `server`: 500 or another 5xx, or a response that does not match the contract.
 */
export type LiteLLMErrorKind =
  | 'unavailable'
  | 'rateLimited'
  | 'conflict'
  | 'notFound'
  | 'invalid'
  | 'enterpriseOnly'
  | 'unauthorized'
  | 'server';

/** Kinds a reconciler must not retry: the spec has to change first. */
const terminalKinds: ReadonlySet<LiteLLMErrorKind> = new Set(['invalid', 'enterpriseOnly']);

export interface LiteLLMErrorInit {
  kind: LiteLLMErrorKind;
  method: string;
  /** The route without its query string, e.g. `/key/info`. */
  endpoint: string;
  /** The normalised, redacted message of LiteLLM (or of the network failure). */
  detail: string;
  /** HTTP status; undefined when no response arrived. */
  status?: number;
  /** LiteLLM's `error.type`, when the body had one. */
  type?: string;
  /** LiteLLM's `error.code` (the status as a string, for ProxyExceptions). */
  code?: string;
  /** LiteLLM's `error.param` (null, a field name or the string "None"). */
  param?: string | null;
  /** Set when the caller should wait exactly this long (Retry-After, circuit cool-down). */
  retryAfterMs?: number;
  /** The Kubernetes object the call was made for, e.g. `Team ml-research`. */
  object?: string;
  /** The client's circuit breaker refused the call; nothing was sent. */
  circuitOpen?: boolean;
  cause?: unknown;
}

export class LiteLLMError extends Error {
  override readonly name = 'LiteLLMError';
  readonly kind: LiteLLMErrorKind;
  readonly method: string;
  readonly endpoint: string;
  readonly detail: string;
  readonly status: number | undefined;
  readonly type: string | undefined;
  readonly code: string | undefined;
  readonly param: string | null | undefined;
  readonly object: string | undefined;
  /** True when the call was refused by the open circuit breaker without being sent. */
  readonly circuitOpen: boolean;
  /** Read by the runtime (result.ts › retryAfterMsOf): requeue after exactly this delay. */
  readonly retryAfterMs?: number;

  constructor(init: LiteLLMErrorInit) {
    super(formatMessage(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.method = init.method;
    this.endpoint = init.endpoint;
    this.detail = init.detail;
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param;
    this.object = init.object;
    this.circuitOpen = init.circuitOpen ?? false;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }

  /** `POST /team/update` */
  get call(): string {
    return `${this.method} ${this.endpoint}`;
  }

  /** True when retrying the same request cannot succeed (invalid input, Enterprise-only). */
  get terminal(): boolean {
    return terminalKinds.has(this.kind);
  }
}

function formatMessage(init: LiteLLMErrorInit): string {
  const subject = init.object ? `${init.object}: ` : '';
  const status = init.status === undefined ? '' : `${init.status} `;
  const hint =
    init.kind === 'enterpriseOnly' ? ' (this feature needs a LiteLLM Enterprise licence)' : '';
  return `${subject}${init.method} ${init.endpoint}: ${status}${init.detail}${hint}`;
}

// ---------------------------------------------------------------------------------------
// Body normalisation

export interface NormalisedErrorBody {
  message: string;
  type?: string;
  code?: string;
  param?: string | null;
}

const MAX_MESSAGE = 2_000;

/** Reads every error shape LiteLLM uses; `text` is the raw response body. */
export function normaliseErrorBody(text: string): NormalisedErrorBody {
  const trimmed = text.trim();
  if (trimmed === '') return { message: '(empty response body)' };
  let body: unknown;
  try {
    body = JSON.parse(trimmed);
  } catch {
    // Not JSON: an HTML page from a load balancer, a plain-text 502 …
    return { message: truncate(trimmed.replace(/\s+/g, ' ')) };
  }
  const result = fromJson(body);
  return { ...result, message: truncate(unwrapPythonRepr(result.message)) };
}

function fromJson(body: unknown): NormalisedErrorBody {
  if (typeof body === 'string') return { message: body };
  if (!isRecord(body)) return { message: JSON.stringify(body) };

  // ProxyException: {"error": {"message", "type", "param", "code"}}
  const error = body.error;
  if (isRecord(error)) {
    const out: NormalisedErrorBody = { message: messageOf(error.message ?? error) };
    if (typeof error.type === 'string') out.type = error.type;
    if (error.code !== undefined && error.code !== null) out.code = String(error.code);
    if (typeof error.param === 'string' || error.param === null) out.param = error.param;
    return out;
  }
  if (typeof error === 'string') return { message: error };

  // FastAPI HTTPException / validation: {"detail": str | {error|message: str} | [{loc, msg}]}
  if ('detail' in body) {
    const detail = body.detail;
    if (Array.isArray(detail)) return { message: validationMessage(detail) };
    return { message: messageOf(detail) };
  }
  if (typeof body.message === 'string') return { message: body.message };
  return { message: JSON.stringify(body) };
}

function messageOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isRecord(value)) {
    for (const field of ['error', 'message', 'detail', 'msg']) {
      const inner = value[field];
      if (typeof inner === 'string') return inner;
      if (isRecord(inner)) return messageOf(inner);
    }
  }
  return JSON.stringify(value);
}

/** 422 `detail` items: `body.user_role: Input should be 'proxy_admin', …`. */
function validationMessage(items: unknown[]): string {
  const parts = items.map((item) => {
    if (!isRecord(item)) return String(item);
    const loc = Array.isArray(item.loc) ? item.loc.join('.') : undefined;
    const msg = typeof item.msg === 'string' ? item.msg : JSON.stringify(item);
    return loc ? `${loc}: ${msg}` : msg;
  });
  return parts.length > 0 ? `validation failed: ${parts.join('; ')}` : 'validation failed';
}

const pythonDictRepr =
  /^\{\s*'(error|message|detail|msg)'\s*:\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*\}$/s;

/**
 * `{'error': 'User with id x already exists'}` → `User with id x already exists`. Only a dict
 * with one string value under error/message/detail is unwrapped (LiteLLM nests them, so up to
 * three levels); anything else is returned unchanged, as LiteLLM sent it.
 */
export function unwrapPythonRepr(message: string): string {
  let current = message.trim();
  for (let depth = 0; depth < 3; depth++) {
    const match = pythonDictRepr.exec(current);
    if (!match) break;
    current = unescapePythonString(match[2]!.slice(1, -1)).trim();
  }
  return current;
}

function unescapePythonString(s: string): string {
  return s.replace(/\\(.)/gs, (_, c: string) => {
    switch (c) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      default:
        return c; // \' \" \\
    }
  });
}

// ---------------------------------------------------------------------------------------
// Classification

const enterprisePattern = /\benterprise\b|\bpremium\b|\blicen[cs]e\b/i;
const noDatabasePattern = /\bno db connected\b|\bdb not connected\b|\bdatabase not connected\b/i;
const conflictPattern = /\balready exists\b|\balready in (the )?team\b|\balready a member\b/i;
const notFoundPattern = /\bnot found\b/i;

/** The kind of a failed HTTP response. */
export function classifyResponse(status: number, body: NormalisedErrorBody): LiteLLMErrorKind {
  const { message, type } = body;
  if (status === 429) return 'rateLimited';
  if (status === 502 || status === 503 || status === 504 || status === 408) return 'unavailable';
  // LiteLLM without a database answers management calls with 400/500 "No db connected", and
  // any non-master bearer with 400 `no_db_connection`: its management plane is not serving.
  if (type === 'no_db_connection' || noDatabasePattern.test(message)) return 'unavailable';
  if (status >= 400 && enterprisePattern.test(message)) return 'enterpriseOnly';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404 || type === 'not_found_error') return 'notFound';
  if (status === 409 || type === 'team_member_already_in_team') return 'conflict';
  if (status >= 400 && status < 500) {
    if (conflictPattern.test(message)) return 'conflict';
    if (notFoundPattern.test(message)) return 'notFound';
    return 'invalid';
  }
  return 'server';
}

// ---------------------------------------------------------------------------------------
// Redaction

const plaintextKeyPattern = /\bsk-[A-Za-z0-9_-]{6,}/g;

/** Replaces every secret in `text` with `[redacted]`, and masks any plaintext `sk-` key. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out.replace(plaintextKeyPattern, 'sk-[redacted]');
}

// ---------------------------------------------------------------------------------------
// For the controllers

/** The first LiteLLMError in `err`'s cause chain. */
export function findLiteLLMError(err: unknown): LiteLLMError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    if (e instanceof LiteLLMError) return e;
  }
  return undefined;
}

/**
 * What a reconciler throws for a failed LiteLLM call: a TerminalError (not retried; its
 * message becomes the Ready=False condition) for terminal kinds; the error itself otherwise,
 * which the runtime retries after `retryAfterMs` when set, else with backoff.
 */
export function toReconcileError(err: unknown): unknown {
  const litellm = findLiteLLMError(err);
  if (litellm?.terminal) return new TerminalError(litellm.message, { cause: err });
  return err;
}

/** An ErrorPolicy that knows LiteLLMErrors: terminal kinds are terminal, the rest as default. */
export const litellmErrorPolicy: ErrorPolicy = (err, request) => {
  if (findLiteLLMError(err)?.terminal) return { action: 'terminal' };
  return defaultErrorPolicy(err, request);
};

function truncate(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
