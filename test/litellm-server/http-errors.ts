// The error bodies real LiteLLM sends (CONTRACT-VERIFIED.md §0), built exactly:
//
//   proxyError       a ProxyException raised as such: {error: {message, type, param, code}},
//                    code = the status as a string; a real `type`
//   managementError  an HTTPException(detail=…) passed through handle_exception_on_proxy:
//                    the same envelope, but type always "internal_server_error", param null
//                    and the message the Python str() of the detail — for a dict, its repr
//                    ("{'error': 'User with id x already exists'}")
//   detailError      a bare FastAPI HTTPException: {detail: <str | {error: str}>}
//   validationError  FastAPI's 422: {detail: [{type, loc, msg, input}]}

export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

export function proxyError(
  status: number,
  message: string,
  type: string,
  param: string | null = null,
): HttpError {
  return new HttpError(status, { error: { message, type, param, code: String(status) } });
}

/** What Python's str() gives for a detail: the string itself, or a dict's repr. */
export function pythonStr(detail: string | Record<string, string>): string {
  if (typeof detail === 'string') return detail;
  const items = Object.entries(detail).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`);
  return `{${items.join(', ')}}`;
}

/** Python's repr() of a str: single quotes unless the text has ' and no ". */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(new RegExp(quote, 'g'), `\\${quote}`);
  return `${quote}${escaped}${quote}`;
}

export function managementError(
  status: number,
  detail: string | Record<string, string>,
): HttpError {
  return new HttpError(status, {
    error: {
      message: pythonStr(detail),
      type: 'internal_server_error',
      param: null,
      code: String(status),
    },
  });
}

export function detailError(status: number, detail: string | Record<string, string>): HttpError {
  return new HttpError(status, { detail });
}

export interface ValidationIssue {
  loc: readonly (string | number)[];
  msg: string;
  type?: string;
  input?: unknown;
}

export function validationError(issues: readonly ValidationIssue[]): HttpError {
  return new HttpError(422, {
    detail: issues.map((i) => ({
      type: i.type ?? 'value_error',
      loc: i.loc,
      msg: i.msg,
      input: i.input ?? null,
    })),
  });
}

export function missingField(where: 'body' | 'query', field: string, input?: unknown): HttpError {
  return validationError([{ type: 'missing', loc: [where, field], msg: 'Field required', input }]);
}

/** CommonProxyErrors.not_premium_user in 1.108.7. */
export const NOT_PREMIUM_USER =
  'You must be a LiteLLM Enterprise user to use this feature. If you have a license please set `LITELLM_LICENSE` in your env. Get a 7 day trial key here: https://www.litellm.ai/#trial. Pricing: https://www.litellm.ai/#pricing';

/** require_enterprise_license for a metadata-backed premium field: 403 through the management wrapper. */
export function enterpriseFieldError(field: string): HttpError {
  return managementError(403, {
    error: `This feature is only available for LiteLLM Enterprise users: ${field}. ${NOT_PREMIUM_USER}`,
  });
}

/** An unhandled exception (ValueError …): 500 with str(e), through the management wrapper. */
export function internalError(message: string): HttpError {
  return managementError(500, message);
}
