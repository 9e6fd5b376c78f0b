// The CustomObjectsApi sign-in provisions Users with, sending over the gateway's one
// connection pool (contracts/kube/kube-transport.ts), the same one the people side uses.
// client-node 2.0.1 hands every request a fresh undici dispatcher (so a new TCP and TLS
// handshake each time); here it is swapped for the pool's. Credentials that change (a
// projected ServiceAccount token, exec plugins) are still applied per request by client-node,
// and the pool itself follows a client certificate rotated in place.
import {
  createConfiguration,
  CustomObjectsApi,
  ServerConfiguration,
  type KubeConfig,
  type RequestContext,
} from '@kubernetes/client-node';
import { KubeTransport } from '../../../contracts/kube/kube-transport.ts';

export function pooledCustomObjectsApi(kc: KubeConfig): CustomObjectsApi {
  const transport = KubeTransport.of(kc);
  const config = createConfiguration({
    baseServer: new ServerConfiguration(transport.server, {}),
    authMethods: {
      default: {
        getName: () => 'kubeconfig, the gateway connection pool',
        async applySecurityAuthentication(context: RequestContext) {
          await kc.applySecurityAuthentication(context);
          const fresh = context.getDispatcher();
          const pooled = await transport.dispatcher();
          if (fresh === undefined || pooled === undefined) return; // SOCKS: client-node's own
          void fresh.close().catch(() => {});
          context.setDispatcher(pooled);
        },
      },
    },
  });
  return new CustomObjectsApi(config);
}
