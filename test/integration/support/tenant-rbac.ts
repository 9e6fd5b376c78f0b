// examples/tenant-rbac.yaml for one test run: its ClusterRoles once, renamed with the run's
// suffix, and its per-team objects (the Role, its RoleBinding and the ClusterRoleBinding of
// the team's group) for each tenant, in the tenant's namespace and bound to its group. The
// same rewrite tenant-isolation.test.ts checks against the example.
import { readFile } from 'node:fs/promises';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { AuthorizationV1Api } from '@kubernetes/client-node';
import { vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { GROUP, poll } from './team-operator.ts';

const EXAMPLE = new URL('../../../examples/tenant-rbac.yaml', import.meta.url);
const EXAMPLE_NAMESPACE = 'ml-research';
const EXAMPLE_GROUP = 'ml-researchers';

export interface RbacObject extends KubernetesObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  subjects?: { kind: string; name: string; apiGroup?: string; namespace?: string }[];
  roleRef?: { kind: string; name: string; apiGroup: string };
}

export interface Tenant {
  namespace: string;
  group: string;
  user: string;
}

export async function tenantRbac(run: string, tenants: readonly Tenant[]): Promise<RbacObject[]> {
  const objects = parseAllDocuments(await readFile(EXAMPLE, 'utf8'))
    .map((doc) => doc.toJS() as RbacObject | null)
    .filter((o): o is RbacObject => o !== null);
  const clusterRole = (name: string) => `${name}-${run}`;
  const adapted: RbacObject[] = objects
    .filter((o) => o.kind === 'ClusterRole')
    .map((o) => ({ ...o, metadata: { ...o.metadata, name: clusterRole(o.metadata.name) } }));
  for (const tenant of tenants) {
    for (const o of objects.filter((x) => x.kind !== 'ClusterRole')) {
      const copy = structuredClone(o);
      if (copy.metadata.namespace === EXAMPLE_NAMESPACE) copy.metadata.namespace = tenant.namespace;
      if (!copy.metadata.namespace) {
        copy.metadata.name = copy.metadata.name.replace(EXAMPLE_NAMESPACE, tenant.namespace);
      }
      for (const subject of copy.subjects ?? []) {
        if (subject.kind === 'Group' && subject.name === EXAMPLE_GROUP) subject.name = tenant.group;
      }
      if (copy.roleRef?.kind === 'ClusterRole') copy.roleRef.name = clusterRole(copy.roleRef.name);
      adapted.push(copy);
    }
  }
  return adapted;
}

/** Resolves once RBAC lets `subject` create VirtualKeys in `namespace` (the authorizer caches). */
export async function rbacInEffect(
  kc: KubeConfig,
  subject: { user: string; groups?: string[] },
  namespace: string,
): Promise<void> {
  const authz = kc.makeApiClient(AuthorizationV1Api);
  await vi.waitFor(async () => {
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          ...subject,
          resourceAttributes: { namespace, verb: 'create', group: GROUP, resource: 'virtualkeys' },
        },
      },
    });
    if (!review.status?.allowed) throw new Error(`RBAC for ${subject.user} not in effect yet`);
  }, poll);
}
