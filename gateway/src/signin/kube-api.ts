// The CustomObjectsApi sign-in provisions Users with, over one keep-alive connection pool.
// client-node 2.0.1 hands every request a fresh undici dispatcher (so a new TCP and TLS
// handshake each time); here the first one is kept and reused while the kubeconfig's TLS
// material (cluster CA, client certificate) stays the same. Credentials that change (a
// projected ServiceAccount token, exec plugins) are still applied per request by client-node.
import { createHash } from 'node:crypto';
import {
  createConfiguration,
  CustomObjectsApi,
  ServerConfiguration,
  type KubeConfig,
  type RequestContext,
} from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** What the dispatcher is made of, as the kubeconfig names it. */
function tlsFingerprint(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  return createHash('sha256')
    .update(
      JSON.stringify([
        cluster?.server,
        cluster?.caData,
        cluster?.caFile,
        cluster?.skipTLSVerify,
        cluster?.tlsServerName,
        cluster?.proxyUrl,
        user?.certData,
        user?.certFile,
        user?.keyData,
        user?.keyFile,
      ]),
    )
    .digest('hex');
}

export function pooledCustomObjectsApi(kc: KubeConfig): CustomObjectsApi {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  let pool: { fingerprint: string; dispatcher: Dispatcher } | undefined;
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: {
      default: {
        getName: () => 'kubeconfig, one connection pool',
        async applySecurityAuthentication(context: RequestContext) {
          await kc.applySecurityAuthentication(context);
          const fresh = context.getDispatcher();
          if (fresh === undefined) return;
          const fingerprint = tlsFingerprint(kc);
          if (pool?.fingerprint !== fingerprint) {
            const old = pool?.dispatcher;
            pool = { fingerprint, dispatcher: fresh };
            void old?.close().catch(() => {});
            return;
          }
          void fresh.close().catch(() => {});
          context.setDispatcher(pool.dispatcher);
        },
      },
    },
  });
  return new CustomObjectsApi(config);
}
