// The alert outbox the operator runs, from its configuration (BUDGET_ALERT_WEBHOOK_*,
// BUDGET_ALERT_SMTP_*): a webhook sink and an e-mail sink when configured, none otherwise.
// The secrets are read from their files now (a missing Secret fails at start) and again
// every 10 s, so rotation needs no restart.
import type { BudgetAlertsConfig } from '../../../config.ts';
import type { Manager } from '../../../runtime/manager.ts';
import { secretFromFile } from '../../../../../contracts/config/secret-file.ts';
import { selecting, TEAM_TARGET, USER_TARGET, VIRTUAL_KEY_TARGET } from '../../shared/kinds.ts';
import type { KindSelectors } from '../../shared/kinds.ts';
import type { Team, User, VirtualKey } from '../../../../../crds/api/index.ts';
import { AlertOutbox, type AlertRetryPolicy } from './alert-outbox.ts';
import { alertRecipients } from './alert-recipients.ts';
import type { AlertSink } from './alert-sink.ts';
import { emailSink } from './email-sink.ts';
import { webhookSink } from './webhook-sink.ts';

export interface BudgetAlertOutboxDeps {
  manager: Pick<Manager, 'informers' | 'metrics' | 'log'>;
  labelSelectors?: KindSelectors;
  retry?: AlertRetryPolicy;
}

/** The outbox, or undefined when no sink is configured (alerts stay Events only). */
export function budgetAlertOutbox(
  config: BudgetAlertsConfig,
  deps: BudgetAlertOutboxDeps,
): AlertOutbox | undefined {
  const sinks: AlertSink[] = [];
  const { webhook, smtp } = config;
  if (webhook)
    sinks.push(
      webhookSink({
        url: webhook.url,
        format: webhook.format,
        ...(webhook.secretFile
          ? { secret: secretFromFile(webhook.secretFile, 'budget alert webhook secret') }
          : {}),
      }),
    );
  if (smtp) {
    const selectors = deps.labelSelectors ?? {};
    const store = <T extends Team | User | VirtualKey>(
      target: typeof TEAM_TARGET,
      kind: keyof KindSelectors,
    ) => deps.manager.informers.informerFor<T>(selecting(target, selectors[kind])).store;
    const { password: source, ...settings } = smtp;
    const password =
      source?.from === 'file'
        ? secretFromFile(source.path, 'SMTP password')
        : source
          ? async () => source.value
          : undefined;
    sinks.push(
      emailSink(
        { ...settings, ...(password ? { password } : {}) },
        alertRecipients({
          users: store<User>(USER_TARGET, 'User'),
          teams: store<Team>(TEAM_TARGET, 'Team'),
          keys: store<VirtualKey>(VIRTUAL_KEY_TARGET, 'VirtualKey'),
        }),
      ),
    );
  }
  if (sinks.length === 0) return undefined;
  return new AlertOutbox({
    sinks,
    registry: deps.manager.metrics.registry,
    log: deps.manager.log.child({ component: 'budget-alerts' }),
    ...(deps.retry ? { retry: deps.retry } : {}),
  });
}
