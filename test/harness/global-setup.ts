// vitest globalSetup for the integration project: one test bed per run, shared by every test
// file through `inject`. Only strings cross into the workers; each worker builds its own
// clients from them (test/harness/kube.ts). Tests isolate themselves by namespace.
import type { TestProject } from 'vitest/node';
import { OPENSHIFT_GROUP_CRD, startTestBed } from './test-bed.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig as YAML (certificates embedded). */
    kubeconfig: string;
    /** The same kubeconfig as a file, for kubectl and helm. */
    kubeconfigPath: string;
    kubectlPath: string;
    /** redis://127.0.0.1:PORT */
    redisUrl: string;
    oidcIssuer: string;
    oidcClientId: string;
    oidcClientSecret: string;
    oidcRedirectUri: string;
  }
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const bed = await startTestBed({ kube: { extraCRDs: [OPENSHIFT_GROUP_CRD] } });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.info(
    `test bed ready in ${seconds}s (kube-apiserver+etcd ${bed.controlPlane!.startupMs} ms): ${bed.controlPlane!.url}, ${bed.redisUrl}, ${bed.oidc!.issuer}`,
  );

  provide('kubeconfig', bed.kubeconfigYaml!);
  provide('kubeconfigPath', bed.kubeconfigPath!);
  // Without a kubectl beside kube-apiserver (KUBEBUILDER_ASSETS may lack one), use PATH's.
  provide('kubectlPath', bed.kubectlPath ?? 'kubectl');
  provide('redisUrl', bed.redisUrl!);
  provide('oidcIssuer', bed.oidc!.issuer);
  provide('oidcClientId', bed.oidc!.client.clientId);
  provide('oidcClientSecret', bed.oidc!.client.clientSecret);
  provide('oidcRedirectUri', bed.oidc!.client.redirectUri);

  return () => bed.stop();
}
