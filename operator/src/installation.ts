// This installation's id: what the operator stamps into everything it creates in LiteLLM
// (controllers/shared/ownership.ts), so two installations sharing one LiteLLM — staging and
// production clusters, say — never update, adopt or collect each other's objects.
//
// Default: the uid of the `kube-system` namespace, read once at start. It is stable for the
// life of a cluster, differs between clusters, and needs no configuration; reading it needs
// `get` on namespaces/kube-system (the chart's ClusterRole grants exactly that one object).
// INSTALLATION_ID overrides it: for two installations on one cluster, or to carry an
// installation's objects over to a rebuilt cluster (set the old id, which the operator logs
// at start and every LiteLLM object it made carries).
import type { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../../contracts/config/env-fields.ts';
import { kubeClient } from './runtime/kube-client.ts';
import { KubeApiError } from './runtime/kube-http.ts';
import type { KubeObject } from './runtime/object.ts';

export const INSTALLATION_NAMESPACE = 'kube-system';

export interface Installation {
  id: string;
  /** For the start-up log. */
  source: 'INSTALLATION_ID' | 'kube-system namespace uid';
}

/** `configured` (INSTALLATION_ID) when set, else the kube-system namespace's uid. */
export async function resolveInstallation(
  configured: string | undefined,
  kubeConfig: KubeConfig,
): Promise<Installation> {
  if (configured) return { id: configured, source: 'INSTALLATION_ID' };
  let uid: string | undefined;
  try {
    const namespace = await kubeClient(kubeConfig).read<KubeObject>(NAMESPACE, {
      name: INSTALLATION_NAMESPACE,
    });
    if (!namespace) throw new KubeApiError(404, undefined, `namespace ${INSTALLATION_NAMESPACE}`);
    uid = namespace.metadata?.uid;
  } catch (err) {
    throw new ConfigError([
      `INSTALLATION_ID: unset, and the ${INSTALLATION_NAMESPACE} namespace's uid (the default) cannot be read: ${describe(err)}; grant get on namespaces/${INSTALLATION_NAMESPACE}, or set INSTALLATION_ID`,
    ]);
  }
  if (!uid) {
    throw new ConfigError([
      `INSTALLATION_ID: unset, and the ${INSTALLATION_NAMESPACE} namespace has no uid; set INSTALLATION_ID`,
    ]);
  }
  return { id: uid, source: 'kube-system namespace uid' };
}

const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };

function describe(err: unknown): string {
  if (err instanceof KubeApiError) return `the API server answered ${err.statusCode}`;
  return err instanceof Error ? err.message : String(err);
}
