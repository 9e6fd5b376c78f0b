// The people side's refusals, in the same OpenAI error shape as the /v1 API's
// (../errors/openai-error.ts), so a CLI or the page reads every error the same way.
import { OpenAIError } from '../errors/openai-error.ts';

/** A login that is refused: a bad or replayed callback, an unknown person, a conflict. */
export const loginRefused = (status: 400 | 401 | 403, reason: string, message: string) =>
  new OpenAIError({
    status,
    type: status === 403 ? 'permission_error' : 'auth_error',
    reason: `login_${reason}`,
    message,
  });

export const notSignedIn = () =>
  new OpenAIError({
    status: 401,
    type: 'auth_error',
    reason: 'not_signed_in',
    message:
      'Not signed in: sign in at /auth/login, or send "Authorization: Bearer <LiteLLM master key>".',
  });

export const cliTokenRefused = () =>
  new OpenAIError({
    status: 401,
    type: 'auth_error',
    reason: 'cli_token_refused',
    message: 'The CLI token has expired or was revoked: run kubectl llm login to sign in again.',
  });

export const wrongMasterKey = () =>
  new OpenAIError({
    status: 401,
    type: 'auth_error',
    reason: 'wrong_master_key',
    message:
      'Authentication Error: the bearer token is not the LiteLLM master key. The people side takes a session cookie, a token from kubectl llm login, or the master key; model calls with an API key go to /v1.',
  });

export const csrfRefused = () =>
  new OpenAIError({
    status: 403,
    type: 'permission_error',
    reason: 'csrf',
    message:
      'A state-changing request of a signed-in session must carry the x-csrf-token header from GET /auth/session.',
  });

export const signinOff = () =>
  new OpenAIError({
    status: 404,
    type: 'invalid_request_error',
    reason: 'signin_off',
    message: 'Sign-in is not configured on this gateway (SIGNIN_PROVIDER=off).',
  });

export const sessionsUnavailable = () =>
  new OpenAIError({
    status: 503,
    type: 'service_unavailable_error',
    reason: 'sessions_unavailable',
    message:
      'Sign-in is unavailable: the session store (Redis) cannot be reached. Try again shortly.',
    headers: { 'retry-after': '5' },
  });

export const identityProviderUnavailable = () =>
  new OpenAIError({
    status: 503,
    type: 'service_unavailable_error',
    reason: 'idp_unavailable',
    message: 'Sign-in is unavailable: the identity provider cannot be reached. Try again shortly.',
    headers: { 'retry-after': '5' },
  });

export const kubernetesUnavailable = () =>
  new OpenAIError({
    status: 503,
    type: 'service_unavailable_error',
    reason: 'kubernetes_unavailable',
    message: 'Sign-in is unavailable: the Kubernetes API cannot be reached. Try again shortly.',
    headers: { 'retry-after': '5' },
  });

/** The User exists but the operator has not made it Ready in LiteLLM in time. */
export const accountNotReady = (user: string, reason: string) =>
  new OpenAIError({
    status: 503,
    type: 'service_unavailable_error',
    reason: 'account_not_ready',
    message: `Your account ${user} is being set up (${reason}). Sign in again in a minute; if it persists, ask a platform admin to check the User's conditions (kubectl describe user ${user}).`,
    headers: { 'retry-after': '30' },
  });
