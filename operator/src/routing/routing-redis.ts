// The operator's Redis client for the routing config. It fails fast instead of waiting: its
// callers are reconcilers, which record a condition and retry with their own backoff, so a
// command queued until Redis returns would only hold a worker and hide the outage. The
// connection itself keeps reconnecting in the background (capped backoff), and `ready`
// after a reconnect is the routing sync's cue to refill a Redis that restarted empty.
import { Redis } from 'ioredis';
import type { Logger } from '../runtime/logger.ts';
import { redactUrl } from '../../../contracts/config/redact-url.ts';
import { maskCredentials } from './routing-errors.ts';

export interface RoutingRedisOptions {
  /** Give up on a connection attempt after this long. Default 5 s. */
  connectTimeoutMs?: number;
  /** Fail a command that got no reply after this long (a hung server). Default 5 s. */
  commandTimeoutMs?: number;
  /** Longest wait between reconnect attempts. Default 5 s. */
  maxReconnectDelayMs?: number;
}

export function createRoutingRedis(
  url: string,
  logger: Logger,
  options: RoutingRedisOptions = {},
): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 5_000;
  const log = logger.child({ redis: redactUrl(url) });
  const redis = new Redis(url, {
    lazyConnect: false,
    // Commands while disconnected fail at once; one retry covers a command caught by a drop.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    connectionName: 'llm-tenancy-operator-routing',
    retryStrategy: (attempt) => reconnectDelay(attempt, maxDelay),
  });
  // One warning per outage; the repeats of every reconnect attempt only at debug.
  let outage = false;
  redis.on('error', (err: Error) => {
    const fields = { err: { name: err.name, message: maskCredentials(err.message) } };
    if (outage) {
      log.debug(fields, 'Redis still unreachable');
      return;
    }
    outage = true;
    log.warn(fields, 'Redis unreachable; reconnecting in the background');
  });
  redis.on('ready', () => {
    if (outage) log.info('Redis reachable again');
    else log.debug('connected to Redis');
    outage = false;
  });
  return redis;
}

/** 100 ms doubling per attempt up to `maxMs`, plus up to 10 % jitter. */
export function reconnectDelay(attempt: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, 100 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 + 0.1 * random()));
}
