// The audit log stream: a pino instance of its own, apart from the program's logs, writing
// one JSON line per record to stdout or to a file (AUDIT_LOG). On stdout the lines sit among
// the program's logs; `logType: "audit"` on every one is what a log pipeline routes on (the
// program's own lines have no logType). Level "audit" and no message: a record is a fact, not
// an event of a severity. Written synchronously: a record is never lost in a buffer at a crash.
import { pino } from 'pino';
import type { AuditRecord, AuditSink } from './audit-record.ts';

/** The field every audit line carries, and its value, for log pipelines to route on. */
export const AUDIT_LOG_TYPE = { logType: 'audit' } as const;

/** `stdout`, or the path of a file records are appended to (created, with its directory). */
export type AuditLogDestination = 'stdout' | { file: string };

export interface AuditLog extends AuditSink {
  /** Flushes and closes the file (stdout stays open). */
  close(): void;
}

/** The audit log of `component` (llm-tenancy-operator, llm-tenancy-gateway). */
export function openAuditLog(destination: AuditLogDestination, component: string): AuditLog {
  const stream =
    destination === 'stdout'
      ? pino.destination({ fd: 1, sync: true })
      : pino.destination({ dest: destination.file, append: true, mkdir: true, sync: true });
  const log = pino<'audit', true>(
    {
      base: { ...AUDIT_LOG_TYPE, component },
      timestamp: false, // the record's own `time`
      customLevels: { audit: 30 },
      useOnlyCustomLevels: true,
      level: 'audit',
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  return {
    write(record: AuditRecord) {
      log.audit(record);
    },
    close() {
      if (destination !== 'stdout') stream.end();
    },
  };
}

/** AUDIT_LOG as configured: `stdout` (the default) or a file path. */
export function auditLogDestination(value: string | undefined): AuditLogDestination {
  const v = value?.trim();
  return v === undefined || v === '' || v === 'stdout' ? 'stdout' : { file: v };
}
