// How a call to the API server failed, in terms the self-service API can explain: the API
// server's own refusal (its Status object: code, reason, message), or no answer at all.

/** The API server answered with an error Status. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;
  /** The Status reason: Forbidden, NotFound, AlreadyExists, Invalid, Conflict, … */
  readonly reason: string;

  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }

  /**
   * The gateway's own identity may not impersonate (its ServiceAccount lacks the impersonate
   * verb): nothing the person did, and no call will succeed until the cluster grants it.
   */
  get impersonationDenied(): boolean {
    return this.code === 403 && /\bcannot impersonate\b/.test(this.message);
  }
}

/** The API server did not answer (connection refused, TLS failure, timeout). */
export class KubeUnreachable extends Error {
  override readonly name = 'KubeUnreachable';
}

interface Status {
  kind?: string;
  reason?: string;
  message?: string;
}

export function kubeApiError(statusCode: number, body: unknown, text: string): KubeApiError {
  const status = (body ?? {}) as Status;
  const message =
    status.kind === 'Status' && status.message
      ? status.message
      : `the API server answered ${statusCode}: ${text.slice(0, 200)}`;
  return new KubeApiError(statusCode, status.reason ?? 'Unknown', message);
}
