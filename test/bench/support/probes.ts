// Counters read from outside the code under benchmark, for before/after deltas: CPU time of
// this process and of its child processes (kube-apiserver, etcd, redis-server), the API
// server's own request counters (/metrics), Redis's INFO commandstats, and the HTTP
// connections this process opened (undici's diagnostics channel; client-node and the
// operator's LiteLLM client both use undici).
import diagnosticsChannel from 'node:diagnostics_channel';
import { readdir, readFile } from 'node:fs/promises';
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { fetch } from 'undici';

/** CPU seconds (user + system) by process name: "node" for this one, children by comm. */
export type CpuSeconds = Record<string, number>;

const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * This process and its direct children; children only on Linux (/proc). A child in `names`
 * (pid → name) is counted under that name instead of its command's.
 */
export async function cpuSeconds(names: Record<number, string> = {}): Promise<CpuSeconds> {
  const own = process.cpuUsage();
  const result: CpuSeconds = { node: (own.user + own.system) / 1e6 };
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  } catch {
    return result;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    if (Number(fields[1]) !== process.pid) continue;
    const ticks = Number(fields[11]) + Number(fields[12]);
    const label = names[Number(pid)] ?? name;
    result[label] = (result[label] ?? 0) + ticks / CLOCK_TICKS;
  }
  return result;
}

export function cpuDelta(before: CpuSeconds, after: CpuSeconds): CpuSeconds {
  return Object.fromEntries(
    Object.entries(after).map(([name, seconds]) => [name, seconds - (before[name] ?? 0)]),
  );
}

/** "VERB resource[/subresource]" → requests the API server counted (apiserver_request_total). */
export type ApiRequests = Record<string, number>;

export async function apiServerRequests(kc: KubeConfig): Promise<ApiRequests> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const url = `${server.replace(/\/+$/, '')}/metrics`;
  const context = new RequestContext(url, HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  const response = await fetch(url, {
    headers: { ...context.getHeaders(), Accept: 'text/plain' },
    dispatcher: context.getDispatcher(),
  });
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  const result: ApiRequests = {};
  for (const line of (await response.text()).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const resource = labels.subresource
      ? `${labels.resource}/${labels.subresource}`
      : labels.resource;
    const key = `${labels.verb} ${resource || '(none)'}`;
    result[key] = (result[key] ?? 0) + value;
  }
  return result;
}

/** Redis command name → calls (INFO commandstats). */
export type RedisCommands = Record<string, number>;

export async function redisCommandStats(redis: Redis): Promise<RedisCommands> {
  const info = await redis.info('commandstats');
  const result: RedisCommands = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    result[match[1]!] = Number(match[2]);
  }
  return result;
}

/** after − before for every counter, leaving out the zeros (and anything in `ignore`). */
export function counterDelta(
  before: Record<string, number>,
  after: Record<string, number>,
  ignore: readonly string[] = [],
): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0);
    if (d !== 0 && !ignore.includes(key)) delta[key] = d;
  }
  return Object.fromEntries(Object.entries(delta).sort(([, a], [, b]) => b - a));
}

/** New connections undici opened, by "protocol//host:port", since start(). */
export class ConnectionCounter {
  readonly #counts = new Map<string, number>();
  readonly #onConnected = (message: unknown) => {
    const { connectParams } = message as { connectParams?: { protocol?: string; host?: string } };
    const origin = `${connectParams?.protocol ?? '?'}//${connectParams?.host ?? '?'}`;
    this.#counts.set(origin, (this.#counts.get(origin) ?? 0) + 1);
  };

  start(): this {
    diagnosticsChannel.subscribe('undici:client:connected', this.#onConnected);
    return this;
  }

  stop(): void {
    diagnosticsChannel.unsubscribe('undici:client:connected', this.#onConnected);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** Connections to the origin whose URL starts with `url` (scheme://host:port). */
  static to(counts: Record<string, number>, url: string): number {
    const { protocol, host } = new URL(url);
    return counts[`${protocol}//${host}`] ?? 0;
  }
}
