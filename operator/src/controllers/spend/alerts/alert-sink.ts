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

export { DeliveryError } from '../../../../../contracts/webhook/signed-post.ts';
