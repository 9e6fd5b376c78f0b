// What can go wrong, as the user should read it: a usage error (exit 2, with the command's
// usage line) or an error that says what to do (exit 1). API errors are turned into
// sentences here, from the Status the apiserver sends back, so every command words a
// forbidden verb or a missing CRD the same way.

/** Exit codes, as kubectl has them. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_ERROR) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Bad flags or arguments: the command's usage is printed after the message. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** metav1.Status, the body of every apiserver error. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
  };
}

/** What was being asked, so an error can name the verb, resource and namespace. */
export interface RequestSummary {
  verb: string;
  /** Plural resource, e.g. virtualkeys; with its group, e.g. virtualkeys.llmtenancy.dev. */
  resource: string;
  namespace?: string;
  name?: string;
}

export const INSTALL_HINT =
  'install the llm-tenancy chart (helm install llm-tenancy charts/llm-tenancy) or apply the CRDs (kubectl apply -f crds/)';

/** An apiserver answer other than 2xx. */
export class ApiError extends CliError {
  readonly statusCode: number;
  readonly status: KubeStatus | undefined;
  constructor(statusCode: number, status: KubeStatus | undefined, request: RequestSummary) {
    super(explainApiError(statusCode, status, request));
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.status = status;
  }
}

/**
 * The sentence for an apiserver error. A 404 without a Status naming the object is the
 * apiserver's "404 page not found" for a resource it does not serve: the CRDs are missing.
 */
export function explainApiError(
  statusCode: number,
  status: KubeStatus | undefined,
  request: RequestSummary,
): string {
  const where = request.namespace ? ` in namespace ${request.namespace}` : '';
  const what = request.name ? `${request.resource} "${request.name}"` : request.resource;
  if (statusCode === 403) {
    const scope = request.namespace ? `namespace ${request.namespace}` : 'cluster scope';
    return (
      `forbidden: you may not ${request.verb} ${request.resource} at ${scope}` +
      (status?.message ? ` (the apiserver said: ${status.message})` : '') +
      `; ask a cluster admin for "${request.verb}" on ${request.resource}` +
      (request.namespace ? ` in ${request.namespace}` : '') +
      ' (examples/tenant-rbac.yaml has the roles tenants get)'
    );
  }
  if (statusCode === 401) {
    return 'unauthorized: the credentials in your kubeconfig were refused; log in again (oc login, or refresh the token)';
  }
  if (statusCode === 404) {
    if (status?.kind === 'Status' && status.details?.name) {
      return `${what} not found${where}`;
    }
    return `the apiserver does not serve ${request.resource}: the llm-tenancy CRDs are not installed; ${INSTALL_HINT}`;
  }
  if (statusCode === 409 && status?.reason === 'AlreadyExists') {
    return `${what} already exists${where}`;
  }
  if (statusCode === 409) {
    return `${what} was changed by someone else meanwhile${where}; run the command again`;
  }
  if (statusCode === 422 || statusCode === 400) {
    const causes = (status?.details?.causes ?? [])
      .map((c) => `  ${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`)
      .join('\n');
    return `the apiserver refused ${what}${where}: ${status?.message ?? `HTTP ${statusCode}`}${causes ? `\n${causes}` : ''}`;
  }
  return `${request.verb} ${what}${where} failed: HTTP ${statusCode}${status?.message ? `: ${status.message}` : ''}`;
}
