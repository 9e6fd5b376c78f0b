// The zod field types both programs' configurations are made of (environment variables only;
// the Helm chart sets them). An empty variable counts as unset: Kubernetes manifests often
// carry `value: ""`. Problems are collected into one ConfigError so a bad deployment hears
// about all of them at once.
import { z } from 'zod';
import { auditLogDestination, type AuditLogDestination } from '../audit/audit-log.ts';
import type { AuditTrailConfig } from '../audit/audit-trail.ts';
import { parseDuration } from './duration.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const unsetIfEmpty = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** An optional trimmed string. */
export const text = () => z.preprocess(unsetIfEmpty, z.string().trim().optional());

/** A duration ("30s", "5m", "1h30m") as milliseconds, at least `min`. */
export const duration = (fallback: string, min: { ms: number; what: string }) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .default(fallback)
      .transform((value, ctx) => {
        const ms = parseDuration(value);
        if (ms === undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(value)} is not a duration (like 30s, 5m, 1h30m)`,
          });
          return z.NEVER;
        }
        if (ms < min.ms) {
          ctx.addIssue({ code: 'custom', message: `must be at least ${min.what}` });
          return z.NEVER;
        }
        return ms;
      }),
  );

export const port = (fallback: number) =>
  z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ message: 'must be a port number' })
      .int('must be a port number')
      .min(0, 'must be a port number (0 to 65535)')
      .max(65535, 'must be a port number (0 to 65535)')
      .default(fallback),
  );

export const bool = (fallback: boolean) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .enum(['true', 'false', 'TRUE', 'FALSE', 'True', 'False', '1', '0'], {
        message: 'must be true or false',
      })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v.toLowerCase() === 'true' || v === '1'),
  );

const isHttpUrl = (v: string) => /^https?:\/\//.test(v) && URL.canParse(v);

/** A required http(s) URL; `why` says what it is for when missing. */
export const httpUrl = (why: string, example: string) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string({ message: `is required: ${why}` })
      .trim()
      .refine(isHttpUrl, { message: `must be an http(s) URL, e.g. ${example}` }),
  );

/** An optional http(s) URL. */
export const optionalHttpUrl = (example: string) =>
  text().refine((v) => v === undefined || isHttpUrl(v), {
    message: `must be an http(s) URL, e.g. ${example}`,
  });

/** A required redis:// or rediss:// URL. */
export const redisUrl = (why: string) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string({ message: `is required: ${why}` })
      .trim()
      .refine((v) => /^rediss?:\/\//.test(v) && URL.canParse(v), {
        message: 'must be a redis:// or rediss:// URL, e.g. redis://redis.llm-tenancy.svc:6379',
      }),
  );

/** The prefix of every Redis key of one installation (the routing config, the counters). */
export const routingPrefix = () =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1 to 64 of A-Z a-z 0-9 : _ . -')
      .default('llmtenancy:'),
  );

export const logLevel = () =>
  z.preprocess(
    (v) => (typeof v === 'string' ? unsetIfEmpty(v.toLowerCase()) : v),
    z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  );

/** AUDIT_LOG: where audit records go, `stdout` (default) or a file path (audit-log.ts). */
export const auditLog = () =>
  z.preprocess(unsetIfEmpty, z.string().trim().default('stdout')).transform(auditLogDestination);

/** The audit trail's variables, the same in both programs (contracts/audit/audit-trail.ts). */
export const auditTrailFields = () => ({
  AUDIT_LOG: auditLog(),
  AUDIT_WEBHOOK_URL: optionalHttpUrl('https://siem.example.com/llm-tenancy'),
  AUDIT_WEBHOOK_SECRET_FILE: text(),
});

/** The audit trail's configuration from its parsed variables. */
export function auditTrailConfig(e: {
  AUDIT_LOG: AuditLogDestination;
  AUDIT_WEBHOOK_URL?: string | undefined;
  AUDIT_WEBHOOK_SECRET_FILE?: string | undefined;
}): AuditTrailConfig {
  return {
    auditLog: e.AUDIT_LOG,
    ...(e.AUDIT_WEBHOOK_URL && {
      auditWebhook: {
        url: e.AUDIT_WEBHOOK_URL,
        ...(e.AUDIT_WEBHOOK_SECRET_FILE && { secretFile: e.AUDIT_WEBHOOK_SECRET_FILE }),
      },
    }),
  };
}

/** Every issue of a failed parse as "VARIABLE: problem". */
export function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
}
