// The admin kubeconfig for the test apiserver. Certificates are embedded, not referenced by
// path, so the file stays valid wherever it is copied and the string alone is enough for a
// vitest worker (which gets it through `inject`).
import { readFile } from 'node:fs/promises';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Pki } from './certs.ts';

export const CONTEXT_NAME = 'llm-tenancy-testenv';

const base64 = async (file: string) => (await readFile(file)).toString('base64');

export async function adminKubeConfig(server: string, pki: Pki): Promise<KubeConfig> {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: CONTEXT_NAME, server, caData: await base64(pki.caCert), skipTLSVerify: false },
    ],
    users: [
      { name: 'admin', certData: await base64(pki.adminCert), keyData: await base64(pki.adminKey) },
    ],
    contexts: [{ name: CONTEXT_NAME, cluster: CONTEXT_NAME, user: 'admin' }],
    currentContext: CONTEXT_NAME,
  });
  return kc;
}

/** The kubeconfig as YAML, the way kubectl writes it. */
export function kubeConfigYaml(kc: KubeConfig): string {
  return stringify(JSON.parse(kc.exportConfig()));
}

/**
 * A copy of `kc` whose requests impersonate `user` (Impersonate-User), as tenants are seen by
 * RBAC. The admin certificate is in system:masters, which may impersonate anyone.
 */
export function impersonating(kc: KubeConfig, user: string): KubeConfig {
  const copy = new KubeConfig();
  copy.loadFromString(kc.exportConfig());
  const current = copy.getCurrentUser()!;
  const impersonated: User = {
    ...current,
    name: `${current.name}-as-${user}`,
    impersonateUser: user,
  };
  copy.loadFromOptions({
    clusters: copy.clusters,
    users: [...copy.users, impersonated],
    contexts: copy.contexts.map((c) =>
      c.name === copy.currentContext ? { ...c, user: impersonated.name } : c,
    ),
    currentContext: copy.currentContext,
  });
  return copy;
}
