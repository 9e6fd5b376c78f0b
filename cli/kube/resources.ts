// The four kinds of llmtenancy.dev as REST resources: paths, and get / list / create / patch /
// delete that name the verb and resource in their errors. Writes carry the field manager
// kubectl-llm, so `kubectl get -o yaml --show-managed-fields` says who wrote what.
import { API_VERSION, GROUP, kinds, VERSION, type KubeObject } from '../../crds/api/index.ts';
import type { KindDefinition } from '../../crds/api/kind.ts';
import { ApiError } from '../errors.ts';
import type { KubeRest } from './rest.ts';

export const FIELD_MANAGER = 'kubectl-llm';

export type KindName = 'Team' | 'User' | 'ModelSubscription' | 'VirtualKey';
export type AnyObject = KubeObject<Record<string, unknown>, Record<string, unknown>>;

export function kindOf(kind: KindName): KindDefinition {
  return kinds.find((k) => k.kind === kind)! as unknown as KindDefinition;
}

/** "virtualkeys.llmtenancy.dev": how RBAC and kubectl name the resource. */
export const resourceName = (kind: KindName) => `${kindOf(kind).plural}.${GROUP}`;

export type DryRun = 'none' | 'client' | 'server';

export class Resources {
  readonly rest: KubeRest;
  constructor(rest: KubeRest) {
    this.rest = rest;
  }

  path(kind: KindName, namespace?: string, name?: string): string {
    const def = kindOf(kind);
    const ns = def.scope === 'Namespaced' && namespace ? `/namespaces/${namespace}` : '';
    return `/apis/${GROUP}/${VERSION}${ns}/${def.plural}${name ? `/${name}` : ''}`;
  }

  #summary(kind: KindName, verb: string, namespace?: string, name?: string) {
    const def = kindOf(kind);
    return {
      verb,
      resource: resourceName(kind),
      namespace: def.scope === 'Namespaced' ? namespace : undefined,
      name,
    };
  }

  get<T = AnyObject>(kind: KindName, name: string, namespace?: string): Promise<T> {
    return this.rest.request<T>({
      method: 'GET',
      path: this.path(kind, namespace, name),
      summary: this.#summary(kind, 'get', namespace, name),
    });
  }

  /** undefined when the object does not exist (but CRDs missing still throw). */
  async find<T = AnyObject>(kind: KindName, name: string, namespace?: string) {
    try {
      return await this.get<T>(kind, name, namespace);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404 && err.status?.details?.name) {
        return undefined;
      }
      throw err;
    }
  }

  /** Every object of a kind in `namespace`, or in all namespaces when it is undefined. */
  async list<T = AnyObject>(
    kind: KindName,
    namespace: string | undefined,
    labelSelector?: string,
  ): Promise<T[]> {
    const list = await this.rest.request<{ items: T[] }>({
      method: 'GET',
      path: this.path(kind, namespace),
      query: { labelSelector },
      summary: this.#summary(kind, 'list', namespace),
    });
    return list.items;
  }

  create<T = AnyObject>(object: AnyObject, dryRun: DryRun): Promise<T> {
    const kind = object.kind as KindName;
    const namespace = object.metadata.namespace;
    return this.rest.request<T>({
      method: 'POST',
      path: this.path(kind, namespace),
      query: { fieldManager: FIELD_MANAGER, dryRun: dryRun === 'server' ? 'All' : undefined },
      body: { ...object, apiVersion: API_VERSION },
      summary: this.#summary(kind, 'create', namespace, object.metadata.name),
    });
  }

  /** A JSON merge patch (RFC 7386), or a JSON patch (RFC 6902) when `patch` is an array. */
  patch<T = AnyObject>(
    kind: KindName,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    dryRun: DryRun,
  ): Promise<T> {
    return this.rest.request<T>({
      method: 'PATCH',
      path: this.path(kind, namespace, name),
      query: { fieldManager: FIELD_MANAGER, dryRun: dryRun === 'server' ? 'All' : undefined },
      body: patch,
      contentType: Array.isArray(patch)
        ? 'application/json-patch+json'
        : 'application/merge-patch+json',
      summary: this.#summary(kind, 'patch', namespace, name),
    });
  }

  delete(kind: KindName, name: string, namespace: string | undefined, dryRun: DryRun) {
    return this.rest.request<unknown>({
      method: 'DELETE',
      path: this.path(kind, namespace, name),
      query: { dryRun: dryRun === 'server' ? 'All' : undefined },
      summary: this.#summary(kind, 'delete', namespace, name),
    });
  }
}
