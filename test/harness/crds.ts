// Installs CustomResourceDefinitions from YAML files and waits until they can be used:
// Established is not enough on its own, because discovery (what kubectl and informers read)
// catches up a moment later; we wait for both, as envtest's WaitForCRDs does.
import { readFile } from 'node:fs/promises';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { describeError, pollUntil } from './wait.ts';

/**
 * Every CustomResourceDefinition in the files (multi-document YAML; other kinds are skipped).
 * client-node's loadAllYaml maps wire names onto its model's (`enum` → `_enum`,
 * `x-kubernetes-validations` → `xKubernetesValidations`); a plain parse would lose them
 * silently when the typed API serializes the object.
 */
export async function readCRDs(files: readonly string[]): Promise<V1CustomResourceDefinition[]> {
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    for (const obj of loadAllYaml(
      await readFile(file, 'utf8'),
    ) as (V1CustomResourceDefinition | null)[]) {
      if (obj?.kind === 'CustomResourceDefinition') crds.push(obj);
    }
  }
  return crds;
}

const isStatus = (err: unknown, code: number) => err instanceof ApiException && err.code === code;

/** Create, or replace what is there (a re-run after the generator changed a schema). */
async function createOrReplace(
  api: ApiextensionsV1Api,
  crd: V1CustomResourceDefinition,
): Promise<void> {
  const name = crd.metadata!.name!;
  for (let attempt = 1; ; attempt++) {
    try {
      await api.createCustomResourceDefinition({ body: crd });
      return;
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
    try {
      const current = await api.readCustomResourceDefinition({ name });
      const body = {
        ...crd,
        metadata: { ...crd.metadata, resourceVersion: current.metadata!.resourceVersion },
      };
      await api.replaceCustomResourceDefinition({ name, body });
      return;
    } catch (err) {
      // 409: changed between read and replace; 404: deleted meanwhile. Either way, go again.
      if ((!isStatus(err, 409) && !isStatus(err, 404)) || attempt >= 5) throw err;
    }
  }
}

function describe(crd: V1CustomResourceDefinition | undefined): string {
  const conditions = crd?.status?.conditions ?? [];
  if (conditions.length === 0) return 'no conditions yet';
  return conditions
    .map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`)
    .join(', ');
}

async function waitUntilServed(
  kubeConfig: KubeConfig,
  crd: V1CustomResourceDefinition,
  timeoutMs: number,
): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const discovery = kubeConfig.makeApiClient(CustomObjectsApi);
  const name = crd.metadata!.name!;
  const { group, names } = crd.spec;
  let seen: V1CustomResourceDefinition | undefined;
  await pollUntil(
    async () => {
      seen = await api.readCustomResourceDefinition({ name });
      return (seen.status?.conditions ?? []).some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
    },
    {
      what: `CRD ${name} Established`,
      timeoutMs,
      timeoutError: (m) => new Error(`${m}; conditions: ${describe(seen)}`),
    },
  );
  for (const version of crd.spec.versions.filter((v) => v.served)) {
    await pollUntil(
      async () => {
        const list = await discovery.getAPIResources({ group, version: version.name });
        return list.resources.some((r) => r.name === names.plural);
      },
      { what: `discovery /apis/${group}/${version.name} listing ${names.plural}`, timeoutMs },
    );
  }
}

/**
 * Applies every CRD found in `files` (create or replace) and resolves once each is
 * Established and its plural is listed by discovery for every served version.
 */
export async function installCRDs(
  kubeConfig: KubeConfig,
  files: readonly string[],
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<V1CustomResourceDefinition[]> {
  const crds = await readCRDs(files);
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  await Promise.all(
    crds.map((crd) =>
      createOrReplace(api, crd).catch((err: unknown) => {
        throw new Error(`installing CRD ${crd.metadata?.name}: ${describeError(err)}`, {
          cause: err,
        });
      }),
    ),
  );
  await Promise.all(crds.map((crd) => waitUntilServed(kubeConfig, crd, timeoutMs)));
  return crds;
}
