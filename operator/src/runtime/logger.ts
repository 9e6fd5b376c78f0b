// Structured logs (pino, JSON lines). Reconcile logs carry the object's key, never its
// contents: objects and errors may hold key material. As a second line of defence, fields
// whose names mean "secret" are redacted wherever a caller passes them by mistake.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Field names censored at the top level and one level down (pino redact paths). */
const secretFields = [
  'apiKey',
  'api_key',
  'key',
  'token',
  'password',
  'secret',
  'authorization',
  'data',
  'stringData',
];
export const redactPaths = secretFields.flatMap((f) => [f, `*.${f}`]);

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.LOG_LEVEL ?? 'info',
    base: { component: 'llm-tenancy-operator' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    ...options,
  });
}

/** For tests and libraries used without a logger: drops everything. */
export const silentLogger: Logger = pino({ level: 'silent' });
