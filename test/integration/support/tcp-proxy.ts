// A TCP proxy in front of the test apiserver, for fault injection: tests point a copy of the
// kubeconfig at it and then cut every open connection (as a load balancer or a restarting
// apiserver does) or freeze them (a half-dead connection that stays open but carries
// nothing, which only a watchdog notices). TLS passes through untouched: the apiserver's
// certificate is for 127.0.0.1, whatever the port.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Destroys every open connection, both sides. New connections are accepted as before. */
  cut(): void;
  /** Stops forwarding on every open connection without closing it. New ones work. */
  freeze(): void;
  /** Cuts every open connection and, until refuse(false), closes each new one at once (a server that is down). */
  refuse(on: boolean): void;
  /** A copy of `kc` whose current cluster is reached through the proxy. */
  kubeConfig(kc: KubeConfig): KubeConfig;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<{ client: Socket; upstream: Socket }>();
  const frozen = new Set<{ client: Socket; upstream: Socket }>();
  let accepted = 0;
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = createConnection(target);
    const pair = { client, upstream };
    open.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get connections() {
      return accepted;
    },
    cut() {
      for (const { client, upstream } of open) {
        client.destroy();
        upstream.destroy();
      }
      open.clear();
    },
    refuse(on) {
      refusing = on;
      if (!on) return;
      for (const { client, upstream } of open) {
        client.destroy();
        upstream.destroy();
      }
      open.clear();
    },
    freeze() {
      for (const pair of open) {
        pair.upstream.unpipe(pair.client);
        pair.client.unpipe(pair.upstream);
        pair.upstream.pause();
        frozen.add(pair);
      }
      open.clear(); // frozen connections stay open, carrying nothing, until close()
    },
    kubeConfig(kc) {
      const copy = new KubeConfig();
      copy.loadFromString(kc.exportConfig());
      const current = copy.getCurrentCluster()!;
      const server = new URL(current.server);
      server.port = String(port);
      copy.loadFromOptions({
        clusters: copy.clusters.map((c) =>
          c.name === current.name ? { ...c, server: server.origin } : c,
        ),
        users: copy.users,
        contexts: copy.contexts,
        currentContext: copy.currentContext,
      });
      return copy;
    },
    close() {
      for (const { client, upstream } of [...open, ...frozen]) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** host and port of the current cluster of `kc`. */
export function apiServerAddress(kc: KubeConfig): { host: string; port: number } {
  const url = new URL(kc.getCurrentCluster()!.server);
  return { host: url.hostname, port: Number(url.port || 443) };
}
