// A plain-HTTP front for the test apiserver that forwards every request as the admin, after
// an optional hook (to act between a client's read and its write) and a path rewrite (to send
// a group's requests to one the apiserver does not serve, so its answers are its own). A
// kubeconfig file for it is written beside.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigYaml } from '../../harness/kubeconfig.ts';

export interface ProxyOptions {
  rewritePath?: (path: string) => string;
  /** Awaited before the request is forwarded. */
  before?: (method: string, path: string) => Promise<void>;
  /** The namespace of the kubeconfig's context. */
  namespace?: string;
}

export interface ApiserverProxy {
  kubeconfigPath: string;
  close(): Promise<void>;
}

export async function startApiserverProxy(
  admin: KubeConfig,
  options: ProxyOptions,
): Promise<ApiserverProxy> {
  const target = new URL(admin.getCurrentCluster()!.server);
  const server = http.createServer((req, res) => {
    const path = options.rewritePath?.(req.url ?? '/') ?? req.url ?? '/';
    const forward = async () => {
      await options.before?.(req.method ?? 'GET', path);
      const upstreamOptions: https.RequestOptions = {
        method: req.method,
        host: target.hostname,
        port: target.port,
        path,
        headers: { ...req.headers, host: target.host },
      };
      await admin.applyToHTTPSOptions(upstreamOptions);
      const upstream = https.request(upstreamOptions, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    forward().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'proxied',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'anyone' }],
    contexts: [
      { name: 'proxied', cluster: 'proxied', user: 'anyone', namespace: options.namespace },
    ],
    currentContext: 'proxied',
  });
  const dir = await mkdtemp(join(tmpdir(), 'apiserver-proxy-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeConfigYaml(kc));
  return {
    kubeconfigPath,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
