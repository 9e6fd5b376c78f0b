// What a client sees of an admission: OpenAI's x-ratelimit-* headers (which OpenAI SDKs and
// tools read), from the most constraining scope per kind, and on a refusal LiteLLM's own 429
// headers and message (operator/src/litellm/CONTRACT-VERIFIED.md §5, "rate limit"), so a
// refusal here reads like one from LiteLLM behind us.
//
// Messages name the scope but never carry key material: the key scope is "this key".
import type { Admission, AdmissionRequest, LimitKind, LimitStatus } from './rate-limiter.ts';

export type Refusal = Extract<Admission, { refusedBy: LimitStatus }>;

/** LiteLLM's rate_limit_type values. */
const LITELLM_TYPE: Record<LimitKind, string> = {
  requests: 'requests',
  tokens: 'tokens',
  parallel: 'max_parallel_requests',
};

/**
 * x-ratelimit-{limit,remaining,reset}-{requests,tokens} from the status with the least
 * remaining of each kind (parallel has no OpenAI header); on a refusal also retry-after,
 * rate_limit_type and reset_at. Empty when nothing was counted.
 */
export function rateLimitHeaders(admission: Admission, nowMs = Date.now()): Record<string, string> {
  if ('unavailable' in admission) return {};
  const headers: Record<string, string> = {};
  for (const kind of ['requests', 'tokens'] as const) {
    const tightest = mostConstraining(admission.statuses, kind);
    if (!tightest) continue;
    headers[`x-ratelimit-limit-${kind}`] = String(tightest.max);
    headers[`x-ratelimit-remaining-${kind}`] = String(tightest.remaining);
    if (tightest.resetAtMs !== undefined) {
      // Whole seconds, rounded up: the window's end is Redis's clock, ours may differ by ms.
      const seconds = Math.max(0, Math.ceil((tightest.resetAtMs - nowMs) / 1000));
      headers[`x-ratelimit-reset-${kind}`] = openAIDuration(seconds * 1000);
    }
  }
  if (!admission.allowed) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(admission.retryAfterSeconds)));
    headers['rate_limit_type'] = LITELLM_TYPE[admission.refusedBy.limit];
    const resetAt = admission.refusedBy.resetAtMs;
    if (resetAt !== undefined) headers['reset_at'] = litellmTime(resetAt);
  }
  return headers;
}

/**
 * LiteLLM's 429 message: "Rate limit exceeded for team: ml-research. Limit type: requests.
 * Current limit: 10, Remaining: 0. Limit resets at: 2025-01-01 12:01:00 UTC". `request`
 * supplies the team and ids (admissions carry scope kinds only).
 */
export function refusalMessage(
  refusal: Refusal,
  request: Pick<AdmissionRequest, 'team' | 'scopes'>,
): string {
  const { refusedBy } = refusal;
  const scope = request.scopes.find((s) => s.kind === refusedBy.scope);
  let descriptor: string;
  switch (refusedBy.scope) {
    case 'key':
      descriptor = 'this key';
      break;
    case 'subscription':
      descriptor = `model: ${scope?.id ?? 'this model'} (team ${request.team}'s subscription)`;
      break;
    case 'team':
      descriptor = `team: ${request.team}`;
      break;
  }
  let message =
    `Rate limit exceeded for ${descriptor}. Limit type: ${LITELLM_TYPE[refusedBy.limit]}. ` +
    `Current limit: ${refusedBy.max}, Remaining: ${refusedBy.remaining}.`;
  if (refusedBy.resetAtMs !== undefined) {
    message += ` Limit resets at: ${litellmTime(refusedBy.resetAtMs)}`;
  }
  return message;
}

/** The status of `kind` with the least remaining; the first in scope order on a tie. */
function mostConstraining(statuses: readonly LimitStatus[], kind: LimitKind) {
  let tightest: LimitStatus | undefined;
  for (const s of statuses) {
    if (s.limit === kind && (!tightest || s.remaining < tightest.remaining)) tightest = s;
  }
  return tightest;
}

/**
 * A duration as OpenAI writes it in x-ratelimit-reset-* (Go's time.Duration format):
 * "250ms", "1s", "59.5s", "6m0s", "1h2m3s".
 */
export function openAIDuration(ms: number): string {
  ms = Math.max(0, Math.round(ms));
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return (hours ? `${hours}h` : '') + (hours || minutes ? `${minutes}m` : '') + `${seconds}s`;
}

/** "2025-01-01 12:01:00 UTC", LiteLLM's reset_at format. */
export function litellmTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}
