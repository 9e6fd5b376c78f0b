// The gateway's two Redis connections: one for commands (key lookups and rate-limit scripts),
// one for SUBSCRIBE (a subscribed connection can run nothing else).
//
// Commands fail fast rather than queue: a request must not wait for a Redis that is gone, it
// takes the defined fallback (cached keys, LIMITS_WHEN_REDIS_DOWN). Auto-pipelining sends the
// commands of concurrent requests in one write. The subscriber waits for its connection
// instead, and ioredis subscribes it again after every reconnect.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { redactUrl } from '../../contracts/config/redact-url.ts';

export interface GatewayRedis {
  commands: Redis;
  subscriber: Redis;
  close(): Promise<void>;
}

export interface GatewayRedisOptions {
  /** Fail a command without a reply after this long. Default 1 s. */
  commandTimeoutMs?: number;
  /** Longest wait between reconnect attempts. Default 2 s. */
  maxReconnectDelayMs?: number;
}

export function connectGatewayRedis(
  url: string,
  logger: Logger,
  options: GatewayRedisOptions = {},
): GatewayRedis {
  const maxDelay = options.maxReconnectDelayMs ?? 2_000;
  const retryStrategy = (attempt: number) =>
    Math.round(Math.min(maxDelay, 50 * 2 ** Math.max(0, attempt - 1)) * (1 + 0.1 * Math.random()));
  const commands = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: true,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    connectTimeout: 2_000,
    connectionName: 'llm-tenancy-gateway',
    retryStrategy,
  });
  const subscriber = new Redis(url, {
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectTimeout: 2_000,
    connectionName: 'llm-tenancy-gateway-changes',
    retryStrategy,
  });
  const log = logger.child({ redis: redactUrl(url) });
  for (const [name, client] of [
    ['commands', commands],
    ['subscriber', subscriber],
  ] as const) {
    // One warning per outage; the repeats of every reconnect attempt only at debug.
    let outage = false;
    client.on('error', (err: Error) => {
      const fields = { connection: name, err: { name: err.name, message: err.message } };
      if (outage) return log.debug(fields, 'Redis still unreachable');
      outage = true;
      log.warn(fields, 'Redis unreachable; reconnecting in the background');
    });
    client.on('ready', () => {
      if (outage) log.info({ connection: name }, 'Redis reachable again');
      outage = false;
    });
  }
  return {
    commands,
    subscriber,
    async close() {
      // QUIT waits for a connection that may never come (Redis down since start): not long.
      const quit = Promise.allSettled([commands.quit(), subscriber.quit()]);
      await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}
