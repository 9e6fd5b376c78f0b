// Where kube-apiserver, etcd and kubectl come from: KUBEBUILDER_ASSETS when set (the same
// variable envtest and setup-envtest use), otherwise the cache that
// bin/build-kube-binaries.sh fills once from the Go module proxy.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KubeBinaries {
  dir: string;
  kubeApiServer: string;
  etcd: string;
  /** Optional in KUBEBUILDER_ASSETS; always present in the built cache. */
  kubectl: string | undefined;
}

const buildScript = fileURLToPath(new URL('./bin/build-kube-binaries.sh', import.meta.url));

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Runs the build script (instant when its cache is warm); its progress goes to our stderr. */
function buildOrFindCache(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('bash', [buildScript], { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) {
        reject(
          new Error(
            `${buildScript} failed (${err.message.split('\n')[0]}); see its output above, or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver and etcd`,
            { cause: err },
          ),
        );
        return;
      }
      resolve(stdout.trim().split('\n').at(-1) ?? '');
    });
    child.stderr?.pipe(process.stderr);
  });
}

export async function findKubeBinaries(
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeBinaries> {
  const fromEnv = env.KUBEBUILDER_ASSETS;
  const dir = fromEnv || (await buildOrFindCache());
  const source = fromEnv ? `KUBEBUILDER_ASSETS=${fromEnv}` : `the cache made by ${buildScript}`;
  const bins = {
    kubeApiServer: join(dir, 'kube-apiserver'),
    etcd: join(dir, 'etcd'),
    kubectl: join(dir, 'kubectl'),
  };
  const missing = [];
  for (const name of ['kube-apiserver', 'etcd'] as const) {
    if (!(await isExecutable(join(dir, name)))) missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} not found (or not executable) in ${dir}, from ${source}`,
    );
  }
  return { dir, ...bins, kubectl: (await isExecutable(bins.kubectl)) ? bins.kubectl : undefined };
}
