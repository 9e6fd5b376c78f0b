// Identities on the test apiserver beside the admin: a ServiceAccount's own token (a real,
// non-admin credential, so what it may impersonate is decided by RBAC), and any credential
// with impersonation headers (user, groups, extras) added to every request.
import { CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';

/** One group and one value per extra: the client's fetch joins repeated headers into one. */
export interface Impersonation {
  user: string;
  group?: string;
  /** extra key → value; keys are sent percent-encoded, as kubectl --as-user-extra does. */
  extra?: Readonly<Record<string, string>>;
}

/** A copy of `kc` that sends the Impersonate-* headers of `as` on every request. */
export function impersonatingWith(kc: KubeConfig, as: Impersonation): KubeConfig {
  const copy = new KubeConfig();
  copy.loadFromString(kc.exportConfig());
  const current = copy.getCurrentUser()!;
  const marker = `${current.name}-impersonating-${Math.random().toString(36).slice(2)}`;
  copy.loadFromOptions({
    clusters: copy.clusters,
    users: [...copy.users, { ...current, name: marker }],
    contexts: copy.contexts.map((c) =>
      c.name === copy.currentContext ? { ...c, user: marker } : c,
    ),
    currentContext: copy.currentContext,
  });
  copy.addAuthenticator({
    isAuthProvider: (user) => user.name === marker,
    applyAuthentication: async (_user, opts) => {
      const options = opts as { headers?: Record<string, string> };
      const headers: Record<string, string> = { ...options.headers, 'Impersonate-User': as.user };
      if (as.group) headers['Impersonate-Group'] = as.group;
      for (const [key, value] of Object.entries(as.extra ?? {})) {
        headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = value;
      }
      options.headers = headers;
    },
  });
  return copy;
}

/**
 * A ServiceAccount in `namespace` and a kubeconfig carrying a short-lived token of it
 * (TokenRequest: the API server itself signs it, no controller-manager needed).
 */
export async function serviceAccountKubeConfig(
  admin: KubeConfig,
  namespace: string,
  name: string,
): Promise<{ kubeConfig: KubeConfig; username: string }> {
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: request.status!.token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return { kubeConfig: kc, username: `system:serviceaccount:${namespace}:${name}` };
}

/** Creates RBAC objects (or anything) as the admin. */
export async function createAll(admin: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(admin);
  for (const object of objects) await api.create(object);
}
