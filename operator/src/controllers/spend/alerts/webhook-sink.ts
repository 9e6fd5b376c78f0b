// Budget alerts by webhook (BUDGET_ALERT_WEBHOOK_URL): one POST per alert, JSON, signed and
// judged as every webhook of the project is (contracts/webhook/signed-post.ts).
//
//   format json    the alert itself (budget-alert.ts)
//   format slack   {"text": "<summary>"}, what a Slack (or Mattermost, Rocket.Chat) incoming
//                  webhook takes
//
// The outbox retries what a DeliveryError marks retryable.
import {
  signedPoster,
  type SignedPostOptions,
} from '../../../../../contracts/webhook/signed-post.ts';
import type { AlertSink } from './alert-sink.ts';
import { alertSummary, type BudgetAlert } from './budget-alert.ts';

export {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  webhookSignature,
} from '../../../../../contracts/webhook/signed-post.ts';

export type WebhookFormat = 'json' | 'slack';

export interface WebhookSinkOptions extends SignedPostOptions {
  format: WebhookFormat;
}

/** The body the format sends. */
export function webhookBody(alert: BudgetAlert, format: WebhookFormat): string {
  return JSON.stringify(format === 'slack' ? { text: alertSummary(alert) } : alert);
}

export function webhookSink(options: WebhookSinkOptions): AlertSink {
  const post = signedPoster(options);
  return {
    name: 'webhook',
    deliver: (alert, signal) => post(webhookBody(alert, options.format), signal),
  };
}
