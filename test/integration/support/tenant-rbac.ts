// Tenants as RBAC sees them, from examples/tenant-rbac.yaml itself: the example parsed and
// rewritten for the tenants of a test run (namespaces, groups, names), so tests check the
// example a user copies, and kubeconfigs that impersonate a tenant (user and group).
import { readFile } from 'node:fs/promises';
import {
  ApiException,
  AuthorizationV1Api,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { impersonating } from '../../harness/kube.ts';
import { GROUP, poll } from './team-operator.ts';

const EXAMPLE = new URL('../../../examples/tenant-rbac.yaml', import.meta.url);
/** What the example names after its team; each tenant's copy gets its own. */
export const EXAMPLE_NAMESPACE = 'ml-research';
export const EXAMPLE_GROUP = 'ml-researchers';
export const EXAMPLE_KEY_SECRET = 'chatbot-openai';

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

export async function exampleObjects(): Promise<RbacObject[]> {
  return parseAllDocuments(await readFile(EXAMPLE, 'utf8'))
    .map((doc) => doc.toJS() as RbacObject | null)
    .filter((object): object is RbacObject => object !== null);
}

/**
 * The example for this run: its ClusterRoles once, renamed with `run`; its per-team objects
 * (namespaced, or binding the team's group) once per tenant, in the tenant's namespace and
 * bound to the tenant's group.
 */
export function adaptExample(
  objects: RbacObject[],
  run: string,
  tenants: readonly Tenant[],
): RbacObject[] {
  const clusterRole = (name: string) => `${name}-${run}`;
  const shared = objects.filter((o) => o.kind === 'ClusterRole');
  const perTeam = objects.filter((o) => o.kind !== 'ClusterRole');
  const adapted: RbacObject[] = shared.map((o) => ({
    ...o,
    metadata: { ...o.metadata, name: clusterRole(o.metadata.name) },
  }));
  for (const tenant of tenants) {
    for (const o of perTeam) {
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

/** The example adapted for this run's tenants, read from the file. */
export async function tenantRbac(run: string, tenants: readonly Tenant[]): Promise<RbacObject[]> {
  return adaptExample(await exampleObjects(), run, tenants);
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

/**
 * A copy of `kc` acting as `user` in `group` (Impersonate-User and Impersonate-Group). The
 * shared helper sets the user only; the group header comes from an authenticator, which the
 * client asks for headers on every request of an identity it has no built-in provider for.
 */
export function asTenant(kc: KubeConfig, tenant: Tenant): KubeConfig {
  const copy = impersonating(kc, tenant.user);
  copy.addAuthenticator({
    isAuthProvider: (user) => user.impersonateUser === tenant.user,
    applyAuthentication: async (_user, opts) => {
      const options = opts as { headers?: Record<string, string> };
      options.headers = { ...options.headers, 'Impersonate-Group': tenant.group };
    },
  });
  return copy;
}

/** 'allowed', or the HTTP status the API server refused the call with. */
export async function outcome(call: Promise<unknown>): Promise<'allowed' | number> {
  try {
    await call;
    return 'allowed';
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}
