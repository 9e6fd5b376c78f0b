// How the operator reaches the API server: KUBECONFIG (a path or a list, like kubectl), else
// ~/.kube/config, else the pod's service account. Unlike client-node's loadFromDefault, which
// quietly falls back to http://localhost:8080, finding none of them is an error that says so.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  /** For the effective configuration: where it came from. */
  source: string;
}

export function loadKubeConfig(): LoadedKubeConfig {
  const kubeConfig = new KubeConfig();
  const home = join(homedir(), '.kube', 'config');
  let source: string;
  if (process.env.KUBECONFIG) {
    kubeConfig.loadFromDefault(); // the KUBECONFIG branch: a path, or a list of them
    source = `KUBECONFIG ${process.env.KUBECONFIG}`;
  } else if (existsSync(home)) {
    kubeConfig.loadFromFile(home);
    source = home;
  } else if (existsSync(join(SERVICE_ACCOUNT, 'token'))) {
    kubeConfig.loadFromCluster();
    source = 'in-cluster service account';
  } else {
    throw new Error(
      'no Kubernetes configuration: set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account',
    );
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new Error(`the Kubernetes configuration from ${source} has no current cluster`);
  }
  return { kubeConfig, source };
}

/** The namespace this pod runs in, when it runs in a pod. */
export function podNamespace(): string | undefined {
  try {
    return readFileSync(join(SERVICE_ACCOUNT, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
