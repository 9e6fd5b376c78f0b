// The bench's own API client. client-node 2.0.1's KubeConfig.applySecurityAuthentication
// makes a new undici Agent for every request, so every request opens a new TCP connection
// and does a TLS handshake. The operator under test keeps that behaviour (it is part of
// what is measured); the bench's own creates, watches and /metrics scrapes share one Agent,
// so the stopwatch itself adds no handshake to the figures.
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

export interface PooledKubeConfig {
  kc: KubeConfig;
  /** Requests the bench made through it (to tell its own from the operator's at the server). */
  requests(): number;
  close(): Promise<void>;
}

export function pooledKubeConfig(yaml: string): PooledKubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(yaml);
  const apply = kc.applySecurityAuthentication.bind(kc);
  let shared: Dispatcher | undefined;
  let requests = 0;
  kc.applySecurityAuthentication = async (context: RequestContext) => {
    requests++;
    await apply(context);
    shared ??= context.getDispatcher();
    if (shared) context.setDispatcher(shared);
  };
  return { kc, requests: () => requests, close: async () => shared?.close() };
}
