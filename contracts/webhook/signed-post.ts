// One signed JSON POST to a webhook: the delivery both programs' webhooks make (budget
// alerts, the audit trail), so both are signed, authenticated and judged the same way.
//
// Signed when a secret is configured, as Stripe and Slack sign theirs:
//
//   X-LLM-Tenancy-Timestamp: <Unix seconds>
//   X-LLM-Tenancy-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//
// The receiver recomputes it over the raw body and compares in constant time, and refuses a
// timestamp far from its clock (a replay). Answers: 2xx delivered; 408, 429, 5xx, a network
// failure or a timeout may succeed later (retryable, Retry-After honoured); any other status
// is refused for good. Errors name the status only: the URL may carry credentials, which are
// sent as Basic authorization (fetch refuses a URL holding them).
import { createHmac } from 'node:crypto';
import { parseRetryAfter } from '../http/retry-after.ts';

export const SIGNATURE_HEADER = 'x-llm-tenancy-signature';
export const TIMESTAMP_HEADER = 'x-llm-tenancy-timestamp';

/** A failed attempt. Its message is logged: never a URL, a secret or a key in it. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  /** Another attempt may succeed (network, timeout, 408, 429, 5xx). */
  readonly retryable: boolean;
  /** The receiver asked to wait this long (Retry-After). */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryable: boolean, retryAfterMs?: number) {
    super(message);
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** "sha256=<hex>" over "<timestamp>.<body>". */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface SignedPostOptions {
  url: string;
  /** The signing secret (re-read from its file); none: requests are not signed. */
  secret?: () => Promise<string>;
  timeoutMs?: number;
  /** Unix ms, for the timestamp. */
  now?: () => number;
  fetch?: typeof fetch;
}

/** A poster of JSON bodies to one webhook: each call is one attempt. */
export function signedPoster(
  options: SignedPostOptions,
): (body: string, signal: AbortSignal) => Promise<void> {
  const send = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { target, authorization } = splitCredentials(options.url);
  return async (body, signal) => {
    const timestamp = String(Math.floor(now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: timestamp,
      ...(authorization ? { authorization } : {}),
    };
    if (options.secret)
      headers[SIGNATURE_HEADER] = webhookSignature(await options.secret(), timestamp, body);
    let response: Response;
    try {
      response = await send(target, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.arrayBuffer(); // frees the connection for the next delivery
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError')
        throw new DeliveryError(`webhook did not answer within ${timeoutMs} ms`, true);
      const code = (err as { cause?: { code?: unknown } }).cause?.code;
      throw new DeliveryError(
        `webhook unreachable${typeof code === 'string' ? ` (${code})` : ''}`,
        true,
      );
    }
    if (response.ok) return;
    const status = response.status;
    const retryable = status === 408 || status === 429 || status >= 500;
    throw new DeliveryError(
      `webhook answered ${status}`,
      retryable,
      retryable ? parseRetryAfter(response.headers.get('retry-after')) : undefined,
    );
  };
}

/** The URL without user and password, and those as a Basic authorization header. */
function splitCredentials(url: string): { target: string; authorization?: string } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { target: url };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return {
    target: parsed.toString(),
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  };
}
