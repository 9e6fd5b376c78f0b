// Which resource serves an apiVersion + kind, from the API server's discovery documents
// (/api/v1, /apis/<group>/<version>). The manager asks before starting informers, so a
// missing CRD fails start-up with a message saying which one, instead of an informer
// retrying 404s forever.
import type { KubeConfig } from '@kubernetes/client-node';
import { getJson, KubeApiError } from './kube-http.ts';

export interface GroupVersionKind {
  /** "v1", "coordination.k8s.io/v1", "llmtenancy.dev/v1alpha1". */
  apiVersion: string;
  kind: string;
}

/** A served resource: where to list and watch it. */
export interface ResourceType extends GroupVersionKind {
  /** The URL segment, e.g. "configmaps", "teams". */
  plural: string;
  namespaced: boolean;
}

interface APIResourceList {
  resources: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

/** Splits an apiVersion into group ("" for core) and version. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** "/api/v1" or "/apis/<group>/<version>". */
export function apiVersionPath(apiVersion: string): string {
  const { group, version } = splitApiVersion(apiVersion);
  return group ? `/apis/${group}/${version}` : `/api/${version}`;
}

/**
 * The collection URL of `resource`, in `namespace` when given and namespaced (cluster-wide
 * otherwise).
 */
export function collectionPath(resource: ResourceType, namespace?: string): string {
  const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${apiVersionPath(resource.apiVersion)}${ns}/${resource.plural}`;
}

export class ResourceNotServedError extends Error {
  override readonly name = 'ResourceNotServedError';
}

/** Looks `gvk` up in discovery; throws ResourceNotServedError with a clear message when absent. */
export async function resolveResource(
  kc: KubeConfig,
  gvk: GroupVersionKind,
): Promise<ResourceType> {
  let list: APIResourceList;
  try {
    list = await getJson<APIResourceList>(kc, apiVersionPath(gvk.apiVersion));
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 404) {
      throw new ResourceNotServedError(
        `${gvk.kind} (${gvk.apiVersion}): the API server does not serve ${gvk.apiVersion}; is its CustomResourceDefinition installed?`,
        { cause: err },
      );
    }
    throw err;
  }
  // Subresources ("teams/status") share the kind; the resource itself has no slash.
  const found = list.resources.find((r) => r.kind === gvk.kind && !r.name.includes('/'));
  if (!found) {
    throw new ResourceNotServedError(
      `${gvk.kind} (${gvk.apiVersion}): ${gvk.apiVersion} is served but has no kind ${gvk.kind}; is the CustomResourceDefinition up to date?`,
    );
  }
  for (const verb of ['list', 'watch']) {
    if (found.verbs && !found.verbs.includes(verb)) {
      throw new ResourceNotServedError(`${gvk.kind} (${gvk.apiVersion}) does not support ${verb}`);
    }
  }
  return {
    apiVersion: gvk.apiVersion,
    kind: gvk.kind,
    plural: found.name,
    namespaced: found.namespaced,
  };
}
