// Debian's redis-server on a free loopback port, with persistence off: the gateway must cope
// with a Redis that restarts empty, so a restart here loses everything, as it may in
// production. The port survives restarts so clients can reconnect to the same URL.
import { join } from 'node:path';
import getPort from 'get-port';
import { Redis } from 'ioredis';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.ts';

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Stops the server (SIGTERM; nothing is saved). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** FLUSHALL: empty every database without a restart. */
  flush(): Promise<void>;
}

export interface RedisOptions {
  /** Working directory and log location. */
  dir: string;
  /** redis-server binary; found on PATH by default. */
  binary?: string;
  timeoutMs?: number;
}

/** Runs `fn` with a short-lived client that fails at once instead of queueing or retrying. */
async function withClient<T>(port: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Connection errors reach us through connect()'s rejection; don't also log them.
  client.on('error', () => {});
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

export async function startRedis({
  dir,
  binary = 'redis-server',
  timeoutMs = 10_000,
}: RedisOptions): Promise<RedisServer> {
  const port = await getPort({ host: '127.0.0.1' });
  const url = `redis://127.0.0.1:${port}`;
  let proc: ManagedProcess | undefined;

  const start = async () => {
    if (proc && !proc.hasExited()) return;
    proc = await startProcess({
      name: 'redis-server',
      command: binary,
      logFile: join(dir, 'redis.log'),
      notFound: `${binary} not found: apt-get install redis-server`,
      args: [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
      ],
    });
    await waitUntilReady(proc, () => withClient(port, async (c) => (await c.ping()) === 'PONG'), {
      what: `PING on ${url}`,
      timeoutMs,
    });
  };
  const stop = async () => {
    await proc?.stop();
  };

  await start();
  return {
    url,
    port,
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async flush() {
      await withClient(port, (c) => c.flushall());
    },
  };
}
