// The audit trail a program opens from its configuration: the audit log stream always
// (AUDIT_LOG), and a copy to the webhook when AUDIT_WEBHOOK_URL is set, signed with the
// secret in AUDIT_WEBHOOK_SECRET_FILE (re-read every 10 s, so rotating it needs no restart).
import type { Registry } from 'prom-client';
import { secretFromFile } from '../config/secret-file.ts';
import { signedPoster } from '../webhook/signed-post.ts';
import { openAuditLog, type AuditLog, type AuditLogDestination } from './audit-log.ts';
import type { AuditRecord } from './audit-record.ts';
import { AuditWebhook, type AuditWebhookLog } from './audit-webhook.ts';

export interface AuditWebhookConfig {
  url: string;
  secretFile?: string;
}

export interface AuditTrailConfig {
  auditLog: AuditLogDestination;
  auditWebhook?: AuditWebhookConfig;
}

export interface AuditTrail extends AuditLog {
  /** The webhook's copy, when one is configured. */
  readonly webhook: AuditWebhook | undefined;
  /** Delivers what the webhook still holds (within its grace), then closes the log. */
  shutdown(): Promise<void>;
}

export function openAuditTrail(
  config: AuditTrailConfig,
  component: string,
  deps: { log: AuditWebhookLog; registry?: Registry },
): AuditTrail {
  const log = openAuditLog(config.auditLog, component);
  const settings = config.auditWebhook;
  const webhook = settings
    ? new AuditWebhook({
        post: signedPoster({
          url: settings.url,
          ...(settings.secretFile && {
            secret: secretFromFile(settings.secretFile, 'audit webhook secret'),
          }),
        }),
        log: deps.log,
        ...(deps.registry && { registry: deps.registry }),
      })
    : undefined;
  return {
    webhook,
    write(record: AuditRecord) {
      log.write(record);
      webhook?.write(record);
    },
    close() {
      log.close();
    },
    async shutdown() {
      await webhook?.close();
      log.close();
    },
  };
}

/**
 * The trail's settings as logged at start. The webhook by its origin only: a webhook's path
 * or query is often its credential (Slack's, a SIEM's token).
 */
export function describeAuditTrail(config: AuditTrailConfig): Record<string, unknown> {
  const webhook = config.auditWebhook;
  return {
    auditLog: config.auditLog === 'stdout' ? 'stdout' : config.auditLog.file,
    auditWebhook: webhook
      ? {
          origin: new URL(webhook.url).origin,
          signing: webhook.secretFile ? `secret from file ${webhook.secretFile}` : 'off',
        }
      : 'off',
  };
}
