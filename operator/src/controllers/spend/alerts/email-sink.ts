// Budget alerts by e-mail (BUDGET_ALERT_SMTP_*), sent with nodemailer to the recipients
// alert-recipients.ts chooses: plain text, the summary as subject. A transport is made per
// message, with the password as its file holds it now, so a rotated Secret needs no restart
// (alerts are rare; no pool to keep).
//
// Failures: an SMTP 4xx reply, a connection failure or a timeout is retried by the outbox;
// a 5xx reply (a recipient refused, authentication failed) is not.
import { createTransport } from 'nodemailer';
import { DeliveryError, type AlertSink } from './alert-sink.ts';
import type { Recipients } from './alert-recipients.ts';
import { alertDetails, alertSummary } from './budget-alert.ts';

export type SmtpTls = 'starttls' | 'tls' | 'none';

export interface SmtpSettings {
  host: string;
  port: number;
  /** tls: TLS from the first byte (port 465); starttls: upgrade required; none: plain (tests). */
  tls: SmtpTls;
  user?: string;
  password?: () => Promise<string>;
  from: string;
  timeoutMs?: number;
}

export function emailSink(smtp: SmtpSettings, recipients: Recipients): AlertSink {
  const timeoutMs = smtp.timeoutMs ?? 10_000;
  return {
    name: 'email',
    async deliver(alert) {
      const to = recipients(alert);
      if (to.length === 0) return 'skipped';
      const transport = createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.tls === 'tls',
        requireTLS: smtp.tls === 'starttls',
        ignoreTLS: smtp.tls === 'none',
        ...(smtp.user
          ? { auth: { user: smtp.user, pass: smtp.password ? await smtp.password() : '' } }
          : {}),
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      });
      try {
        await transport.sendMail({
          from: smtp.from,
          to,
          subject: `[budget] ${alertSummary(alert)}`,
          text: `${alertDetails(alert)}\n\nAlert id: ${alert.id}\n`,
        });
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        if (code !== undefined)
          throw new DeliveryError(`SMTP server answered ${code}`, code >= 400 && code < 500);
        const reason = (err as { code?: string }).code ?? 'unreachable';
        throw new DeliveryError(`SMTP server not reached (${reason})`, true);
      } finally {
        transport.close();
      }
    },
  };
}
