// The real `helm`: HELM_BINARY when set, otherwise the cache that bin/build-helm.sh fills once
// from the Go module proxy (as kube-binaries.ts does for kube-apiserver). Tests that need it
// fail with a message naming what is missing; they never skip.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const buildScript = fileURLToPath(new URL('./bin/build-helm.sh', import.meta.url));
/** What `helm template` and `helm lint` render for (the test apiserver's version). */
export const KUBE_VERSION = '1.37.2';
export const CHART_DIR = fileURLToPath(new URL('../../charts/llm-tenancy', import.meta.url));

let found: Promise<string> | undefined;

/** The helm binary's path (built on first use when HELM_BINARY is unset). */
export function findHelm(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  found ??= (async () => {
    const path =
      env.HELM_BINARY || (await run('bash', [buildScript])).stdout.trim().split('\n').at(-1)!;
    const ok = await access(path, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (!ok) {
      throw new Error(
        `helm not found at ${path} (${env.HELM_BINARY ? 'HELM_BINARY' : buildScript}); run bash ${buildScript} or set HELM_BINARY`,
      );
    }
    return path;
  })();
  return found;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<HelmResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { maxBuffer: 64 << 20, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs helm with `args`; never throws for a non-zero exit (the caller asserts on it). */
export async function helm(args: string[], env?: NodeJS.ProcessEnv): Promise<HelmResult> {
  return run(await findHelm(), args, env);
}

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** `helm template` of the chart with `values` (as --set-json), parsed; throws on failure. */
export async function renderChart(
  values: Record<string, unknown>,
  options: { namespace?: string; release?: string; apiVersions?: string[] } = {},
): Promise<RenderedObject[]> {
  const result = await helm(templateArgs(values, options));
  if (result.code !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as RenderedObject | null)
    .filter((o): o is RenderedObject => o !== null);
}

/** The arguments of `helm template` for these values (also used to expect a failure). */
export function templateArgs(
  values: Record<string, unknown>,
  options: { namespace?: string; release?: string; apiVersions?: string[] } = {},
): string[] {
  return [
    'template',
    options.release ?? 'llm',
    CHART_DIR,
    '--namespace',
    options.namespace ?? 'llm-tenancy',
    // helm template assumes Kubernetes 1.20 without a cluster; the chart needs 1.30+.
    '--kube-version',
    KUBE_VERSION,
    ...(options.apiVersions ?? []).flatMap((v) => ['--api-versions', v]),
    ...Object.entries(values).flatMap(([k, v]) => ['--set-json', `${k}=${JSON.stringify(v)}`]),
  ];
}
