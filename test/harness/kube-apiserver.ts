// kube-apiserver with the flags controller-runtime's envtest uses for a secure control plane
// (pkg/internal/testing/controlplane/apiserver.go): TLS on loopback, client-certificate
// authentication, RBAC authorization (tests impersonate tenants and must be denied like
// them), service-account tokens signed by our throw-away key, and the ServiceAccount
// admission plugin off because no controller-manager runs to create default accounts, and
// ValidatingAdmissionPolicy on (the CEL policy on VirtualKey spec.user, crds/admission/).
import { Health, type KubeConfig } from '@kubernetes/client-node';
import getPort from 'get-port';
import type { Pki } from './certs.ts';
import { adminKubeConfig } from './kubeconfig.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.ts';

export interface KubeApiServer {
  /** https://127.0.0.1:PORT */
  url: string;
  /** Admin (system:masters) client configuration. */
  kubeConfig: KubeConfig;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface KubeApiServerOptions {
  binary: string;
  etcdUrl: string;
  pki: Pki;
  logFile: string;
  /** Extra flags, appended last so they override ours (`--feature-gates=…`). */
  extraArgs?: readonly string[];
  timeoutMs?: number;
}

export async function startKubeApiServer(options: KubeApiServerOptions): Promise<KubeApiServer> {
  const { binary, etcdUrl, pki, logFile, extraArgs = [], timeoutMs = 60_000 } = options;
  const port = await getPort({ host: '127.0.0.1' });
  const url = `https://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'kube-apiserver',
    command: binary,
    logFile,
    args: [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // Newer apiservers refuse a loopback advertise address while they reconcile the
      // `kubernetes` Service's endpoints; nothing here routes to that Service anyway.
      '--endpoint-reconciler-type=none',
      `--secure-port=${port}`,
      `--cert-dir=${pki.dir}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${url}/`,
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--disable-admission-plugins=ServiceAccount',
      // On by default since 1.30; named so the VirtualKey user policy (crds/admission/) can
      // never be switched off here without a test noticing.
      '--enable-admission-plugins=ValidatingAdmissionPolicy',
      '--allow-privileged=true',
      ...extraArgs,
    ],
  });
  const kubeConfig = await adminKubeConfig(url, pki);
  const health = new Health(kubeConfig);
  await waitUntilReady(proc, () => health.readyz({ signal: AbortSignal.timeout(5_000) }), {
    what: `${url}/readyz`,
    timeoutMs,
  });
  return { url, kubeConfig, process: proc, stop: () => proc.stop() };
}
