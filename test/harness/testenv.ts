// `npm run testenv`: the integration test bed, kept running for hands-on work (kubectl,
// running the operator or gateway from a shell) until Ctrl-C. Writes .testenv/kubeconfig
// and .testenv/env (shell-sourceable) at the repository root.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { OPENSHIFT_GROUP_CRD, startTestBed } from './test-bed.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = `${root}.testenv`;
const kubeconfigFile = `${outDir}/kubeconfig`;
const envFile = `${outDir}/env`;

// The first SIGINT/SIGTERM stops the bed gracefully (our listeners also keep Node, and the
// harness's exit hooks, from acting on it); a second one exits at once, and the exit hooks
// kill whatever still runs.
const stopSignal = new Promise<void>((resolve) => {
  let received = false;
  const onSignal = () => {
    if (received) process.exit(130);
    received = true;
    resolve();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
});

const started = performance.now();
const bed = await startTestBed({ kube: { extraCRDs: [OPENSHIFT_GROUP_CRD] } });
const seconds = ((performance.now() - started) / 1000).toFixed(1);

await mkdir(outDir, { recursive: true });
await writeFile(kubeconfigFile, bed.kubeconfigYaml!, { mode: 0o600 });
const env = {
  KUBECONFIG: kubeconfigFile,
  REDIS_URL: bed.redisUrl!,
  OIDC_ISSUER: bed.oidc!.issuer,
  OIDC_CLIENT_ID: bed.oidc!.client.clientId,
  OIDC_CLIENT_SECRET: bed.oidc!.client.clientSecret,
  KUBECTL: bed.kubectlPath ?? 'kubectl',
};
// Plain KEY=value where the value is harmless to a shell (readable, and what dotenv readers
// expect); single-quoted otherwise, so `.` never expands anything.
const quote = (value: string) =>
  /^[\w./:@%+,=-]*$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
await writeFile(
  envFile,
  Object.entries(env)
    .map(([k, v]) => `${k}=${quote(v)}\n`)
    .join(''),
);

console.log(`llm-tenancy test bed ready in ${seconds}s (kube-apiserver+etcd ${bed.controlPlane!.startupMs} ms)

  kube-apiserver  ${bed.controlPlane!.url}   (logs: ${bed.controlPlane!.dir})
  redis           ${bed.redisUrl}
  OIDC issuer     ${bed.oidc!.issuer}   (client ${bed.oidc!.client.clientId})

In another shell:
  set -a; . ${envFile}; set +a
  "$KUBECTL" get crds

Ctrl-C stops everything.`);

await stopSignal;
console.log('stopping…');
await rm(envFile, { force: true });
await bed.stop();
