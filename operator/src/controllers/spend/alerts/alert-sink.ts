// Where budget alerts go: one small interface per channel (webhook, e-mail), fed by the
// outbox (alert-outbox.ts), which owns retries, so a sink makes exactly one attempt.
import type { BudgetAlert } from './budget-alert.ts';

export interface AlertSink {
  /** The metrics' `sink` label: "webhook", "email". */
  readonly name: string;
  /**
   * One delivery attempt. Resolves "skipped" when the alert has nowhere to go on this sink
   * (an e-mail without a recipient); throws DeliveryError when it failed.
   */
  deliver(alert: BudgetAlert, signal: AbortSignal): Promise<void | 'skipped'>;
}

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
