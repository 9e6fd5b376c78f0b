// The gateway's logs (pino, JSON lines). Access logs name the VirtualKey a request used, never
// the key or its hash; as a second line of defence, headers and fields that may carry a key
// are censored wherever they appear by mistake.
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../../../contracts/config/env-fields.ts';

export type { Logger };

/** The gateway's `component` in every log line, its audit log's too. */
export const GATEWAY_COMPONENT = 'llm-tenancy-gateway';

export const REDACT_PATHS = [
  'key',
  '*.key',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["api-key"]',
  'req.headers.authorization',
  'req.headers["api-key"]',
  'apiKey',
  '*.apiKey',
];

export function createGatewayLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { component: GATEWAY_COMPONENT },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
