// What the person sees when the cluster said no or did not answer, in OpenAI's error shape.
// The API server's own message is kept: it names the verb, resource and namespace RBAC (or an
// admission policy) refused, which is what the person needs to ask the right admin.
import { OpenAIError } from '../errors/openai-error.ts';
import { ImpersonationRefused } from '../kube/impersonation-headers.ts';
import { KubeApiError, KubeUnreachable } from '../kube/kube-errors.ts';

export const signInFirst = () =>
  new OpenAIError({
    status: 401,
    type: 'auth_error',
    reason: 'not_signed_in',
    message: 'Sign in first (GET /auth/login), or send the master key as "Authorization: Bearer".',
  });

export const adminOnly = () =>
  new OpenAIError({
    status: 403,
    type: 'permission_error',
    reason: 'not_admin',
    message: 'The admin API is for people with role admin (or the master key).',
  });

export const notAPerson = () =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'not_a_person',
    message:
      'The master key is not a person and has no personal keys: sign in with SSO, or create a VirtualKey naming spec.user with kubectl.',
  });

export const notYourKey = (namespace: string, name: string) =>
  new OpenAIError({
    status: 403,
    type: 'permission_error',
    reason: 'not_your_key',
    message: `VirtualKey ${namespace}/${name} is not yours: only keys whose spec.user is your User can be revoked here.`,
  });

export const invalidField = (param: string, message: string) =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'invalid_body',
    param,
    message: param ? `${param}: ${message}` : message,
  });

/** Any failure of a call made as the person, as the person should read it. */
export function fromKubeFailure(err: unknown, doing: string): OpenAIError {
  if (err instanceof OpenAIError) return err;
  if (err instanceof ImpersonationRefused) {
    return new OpenAIError({
      status: 403,
      type: 'permission_error',
      reason: 'identity_not_representable',
      message: `Your sign-in identity cannot be passed on to Kubernetes unchanged (${err.message}), so the gateway will not act for you. Ask an admin to check the names your identity provider reports.`,
    });
  }
  if (err instanceof KubeUnreachable) {
    return new OpenAIError({
      status: 503,
      type: 'service_unavailable_error',
      reason: 'kube_unreachable',
      headers: { 'retry-after': '5' },
      message: `Cannot ${doing} right now: ${err.message}.`,
    });
  }
  if (!(err instanceof KubeApiError)) throw err;
  if (err.impersonationDenied) {
    return new OpenAIError({
      status: 503,
      type: 'service_unavailable_error',
      reason: 'impersonation_denied',
      message: `The gateway is not allowed to act for you in Kubernetes: its ServiceAccount lacks the impersonate permission on users, groups and userextras/llmtenancy.dev/user-name (the llm-tenancy gateway ClusterRole). An admin must grant it. The API server said: ${err.message}`,
    });
  }
  if (err.code === 401) {
    return new OpenAIError({
      status: 503,
      type: 'service_unavailable_error',
      reason: 'gateway_credential_refused',
      message:
        "The Kubernetes API server refused the gateway's own credential (its ServiceAccount token). An admin must check the gateway's deployment.",
    });
  }
  const status = err.code === 422 ? 400 : [403, 404, 409].includes(err.code) ? err.code : 502;
  const type =
    status === 403
      ? 'permission_error'
      : status === 404
        ? 'not_found_error'
        : status === 502
          ? 'upstream_error'
          : 'invalid_request_error';
  const why =
    status === 403
      ? `Kubernetes refused to ${doing} as you: ${err.message}`
      : status === 502
        ? `The Kubernetes API server failed to ${doing}: ${err.message}`
        : `Cannot ${doing}: ${err.message}`;
  return new OpenAIError({
    status,
    type,
    reason: `kube_${err.reason.toLowerCase()}`,
    message: why,
  });
}

/** True for the API server's 403: the person may not do this (as opposed to a failure). */
export function isForbidden(err: unknown): err is KubeApiError {
  return err instanceof KubeApiError && err.code === 403 && !err.impersonationDenied;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}
