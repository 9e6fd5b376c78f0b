// Installs CustomResourceDefinitions from YAML files and waits until they can be used:
// Established is not enough on its own, because discovery (what kubectl and informers read)
// catches up a moment later; we wait for both, as envtest's WaitForCRDs does. Then the
// admission policies shipped beside them (crds/admission/), until the API server enforces them.
import { readFile } from 'node:fs/promises';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { GROUP } from '../../crds/api/meta.ts';
import { impersonating } from './kubeconfig.ts';
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

// ---- admission policies ----------------------------------------------------------------

/** A user no policy trusts, granted create on VirtualKeys only while the bed waits for the policy. */
const PROBE_USER = 'llm-tenancy:admission-probe';
const PROBE_ROLE = 'llm-tenancy-admission-probe';

/**
 * Applies the ValidatingAdmissionPolicies and bindings in `files` (server-side apply, so a
 * re-run updates them) and resolves once the API server enforces the VirtualKey user policy:
 * a dry-run personal key for someone else, by a user RBAC allows to create keys, is refused.
 * The admission plugin loads policies from its own informer, a moment after they are written.
 */
export async function installAdmissionPolicies(
  kubeConfig: KubeConfig,
  files: readonly string[],
  { timeoutMs = 30_000, policyName }: { timeoutMs?: number; policyName: string },
): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const file of files) {
    for (const object of loadAllYaml(await readFile(file, 'utf8')) as (KubernetesObject | null)[]) {
      if (!object?.kind) continue;
      await objects
        .patch(
          object,
          undefined,
          undefined,
          'llm-tenancy-test-bed',
          true,
          PatchStrategy.ServerSideApply,
        )
        .catch((err: unknown) => {
          throw new Error(
            `installing ${object.kind} ${object.metadata?.name}: ${describeError(err)}`,
            { cause: err },
          );
        });
    }
  }
  await waitUntilEnforced(kubeConfig, policyName, timeoutMs);
}

function refusedBy(err: ApiException<unknown>, policyName: string): boolean {
  const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body ?? '');
  return err.code === 403 && (body.includes(policyName) || err.message.includes(policyName));
}

async function waitUntilEnforced(kc: KubeConfig, policyName: string, timeoutMs: number) {
  const rbac = KubernetesObjectApi.makeApiClient(kc);
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: PROBE_ROLE },
    rules: [{ apiGroups: [GROUP], resources: ['virtualkeys'], verbs: ['create'] }],
  };
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: PROBE_ROLE },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: PROBE_USER }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PROBE_ROLE },
  };
  for (const object of [role, binding]) {
    await rbac.patch(
      object,
      undefined,
      undefined,
      'llm-tenancy-test-bed',
      true,
      PatchStrategy.ServerSideApply,
    );
  }
  const asProbe = KubernetesObjectApi.makeApiClient(impersonating(kc, PROBE_USER));
  const probe = {
    apiVersion: `${GROUP}/v1alpha1`,
    kind: 'VirtualKey',
    metadata: { name: 'admission-probe', namespace: 'default' },
    spec: { user: 'llm-tenancy-admission-probe-nobody' },
  };
  try {
    await pollUntil(
      async () => {
        try {
          await asProbe.create(probe, undefined, 'All');
          return false; // admitted: the policy is not in force yet
        } catch (err) {
          // 403 from RBAC (the binding not in effect yet) says nothing of the policy.
          if (err instanceof ApiException && refusedBy(err, policyName)) return true;
          throw err;
        }
      },
      { what: `ValidatingAdmissionPolicy ${policyName} enforced`, timeoutMs, intervalMs: 100 },
    );
  } finally {
    for (const object of [binding, role]) await rbac.delete(object).catch(() => {});
  }
}
