// The whole test bed: a real Kubernetes API (etcd + kube-apiserver) with our CRDs installed,
// redis-server and an OIDC provider, started side by side. Each part can be left out. The
// admission policy of crds/admission/ is installed too, so kubectl apply behaves as on a cluster.
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { onExit } from 'signal-exit';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { VIRTUAL_KEY_USER_POLICY } from '../../crds/admission/virtual-key-user.ts';
import { installAdmissionPolicies, installCRDs } from './crds.ts';
import { kubeConfigYaml } from './kubeconfig.ts';
import { startOidcProvider, type OidcOptions, type OidcServer } from './oidc.ts';
import { startRedis, type RedisServer } from './redis.ts';

export interface TestBedOptions {
  /** false: no etcd / kube-apiserver. */
  kube?:
    | false
    | {
        /** CRD files installed besides crds/*.yaml. */
        extraCRDs?: readonly string[];
        /** false: install no CRD at all (not even ours), nor the admission policy. */
        installCRDs?: boolean;
        /** false: leave out crds/admission/ (a cluster without the VirtualKey user policy). */
        admissionPolicy?: boolean;
        apiServerArgs?: readonly string[];
      };
  /** false: no redis-server. */
  redis?: false | { binary?: string };
  /** false: no OIDC provider. */
  oidc?: false | OidcOptions;
}

export interface TestBed {
  /** Admin kubeconfig file (certificates embedded; context `llm-tenancy-testenv`). */
  kubeconfigPath: string | undefined;
  kubeconfigYaml: string | undefined;
  kubeConfig: KubeConfig | undefined;
  kubectlPath: string | undefined;
  controlPlane: ControlPlane | undefined;
  redisUrl: string | undefined;
  redis: RedisServer | undefined;
  oidc: OidcServer | undefined;
  stop(): Promise<void>;
}

const crdDir = fileURLToPath(new URL('../../crds/', import.meta.url));

/** A CRD of the same shape as OpenShift's user.openshift.io/v1 Group, for group sync tests. */
export const OPENSHIFT_GROUP_CRD = fileURLToPath(
  new URL('./crds/user.openshift.io_groups.yaml', import.meta.url),
);

/** crds/admission/*.yaml: the ValidatingAdmissionPolicy on spec.user and its binding. */
export async function ourAdmissionFiles(): Promise<string[]> {
  const dir = join(crdDir, 'admission');
  const names = await readdir(dir);
  return names
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => join(dir, n))
    .sort();
}

/** crds/*.yaml, the generated CRDs of this repository. */
export async function ourCRDFiles(): Promise<string[]> {
  const names = await readdir(crdDir);
  return names
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => join(crdDir, n))
    .sort();
}

/** What a started part needs for the bed's stop(). */
interface Part {
  stop(): Promise<void>;
}

async function startKube(options: Exclude<TestBedOptions['kube'], false> = {}) {
  const controlPlane = await startControlPlane({ apiServerArgs: options.apiServerArgs });
  try {
    if (options.installCRDs !== false) {
      const files = [...(await ourCRDFiles()), ...(options.extraCRDs ?? [])];
      await installCRDs(controlPlane.kubeConfig, files);
      // As on a cluster: kubectl apply of a personal key is decided by the policy.
      if (options.admissionPolicy !== false) {
        await installAdmissionPolicies(controlPlane.kubeConfig, await ourAdmissionFiles(), {
          policyName: VIRTUAL_KEY_USER_POLICY,
        });
      }
    }
    const yaml = kubeConfigYaml(controlPlane.kubeConfig);
    const path = join(controlPlane.dir, 'kubeconfig');
    await writeFile(path, yaml, { mode: 0o600 });
    return { controlPlane, yaml, path, stop: () => controlPlane.stop() };
  } catch (err) {
    await controlPlane.stop();
    throw err;
  }
}

/** redis-server with a temp dir of its own, removed when it stops for good. */
async function startRedisInTempDir(options: { binary?: string }) {
  const dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-redis-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const removeExitHook = onExit(remove);
  const dispose = () => {
    removeExitHook();
    remove();
  };
  try {
    const redis = await startRedis({ dir, ...options });
    return { redis, stop: () => redis.stop().finally(dispose) };
  } catch (err) {
    dispose();
    throw err;
  }
}

const skipped = Promise.resolve(undefined);
const valueOf = <T>(result: PromiseSettledResult<T>) =>
  result.status === 'fulfilled' ? result.value : undefined;
const reasons = (results: PromiseSettledResult<unknown>[]): unknown[] =>
  results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));

async function stopAll(parts: readonly (Part | undefined)[]): Promise<void> {
  const errors = reasons(
    await Promise.allSettled(parts.flatMap((part) => (part ? [part.stop()] : []))),
  );
  if (errors.length > 0) throw new AggregateError(errors, 'stopping the test bed failed');
}

export async function startTestBed(options: TestBedOptions = {}): Promise<TestBed> {
  // Independent parts start in parallel; if any fails, those that started are stopped.
  const results = await Promise.allSettled([
    options.kube === false ? skipped : startKube(options.kube),
    options.redis === false ? skipped : startRedisInTempDir(options.redis ?? {}),
    options.oidc === false ? skipped : startOidcProvider(options.oidc),
  ] as const);
  const [kube, redis, oidc] = [valueOf(results[0]), valueOf(results[1]), valueOf(results[2])];
  const stop = () => stopAll([kube, redis, oidc]);

  const failures = reasons(results);
  if (failures.length > 0) {
    await stop().catch(() => {});
    if (failures.length === 1) throw failures[0];
    throw new AggregateError(failures, `the test bed did not start:\n${failures.join('\n')}`);
  }
  return {
    kubeconfigPath: kube?.path,
    kubeconfigYaml: kube?.yaml,
    kubeConfig: kube?.controlPlane.kubeConfig,
    kubectlPath: kube?.controlPlane.binaries.kubectl,
    controlPlane: kube?.controlPlane,
    redisUrl: redis?.redis.url,
    redis: redis?.redis,
    oidc,
    stop,
  };
}
