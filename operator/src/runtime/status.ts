// Writes the status of custom resources through their /status subresource (the operator
// never writes spec), under a field manager named after the controller, so managedFields
// say which controller owns which status. Three rules:
//
// - no write when nothing changed: re-reconciling a converged object must not create a new
//   resourceVersion (every write is a watch event for every informer, and a reconcile);
// - 409 Conflict (our copy was stale): read the object again, recompute the status from
//   it, and try once more; a second conflict is thrown and retried with backoff;
// - 404 (deleted meanwhile): nothing to write, not an error.
import { isDeepStrictEqual } from 'node:util';
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { splitApiVersion, type ResourceType } from './discovery.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { KubeObject } from './object.ts';

export type StatusOf<T> = T extends { status?: infer S } ? NonNullable<S> : never;

export type StatusUpdate<T> = StatusOf<T> | ((current: T) => StatusOf<T>);

export type StatusWriteResult<T> =
  { outcome: 'unchanged'; object: T } | { outcome: 'updated'; object: T } | { outcome: 'gone' };

/** Equality of what the API server would store: JSON drops undefined fields. */
export function sameJson(a: unknown, b: unknown): boolean {
  const normalize = (v: unknown): unknown =>
    v === undefined ? null : JSON.parse(JSON.stringify(v));
  return isDeepStrictEqual(normalize(a), normalize(b));
}

const isStatus = (err: unknown, code: number) => err instanceof ApiException && err.code === code;

export class StatusWriter {
  readonly fieldManager: string;
  readonly #api: CustomObjectsApi;
  readonly #log: Logger;

  constructor(kc: KubeConfig, options: { fieldManager: string; logger?: Logger }) {
    this.fieldManager = options.fieldManager;
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#log = options.logger ?? silentLogger;
  }

  /**
   * Makes `object`'s status equal to `status` (or to what the function computes from the
   * current object; a function is needed for the conflict retry to recompute from fresh
   * data, e.g. so condition transition times stay right).
   */
  async update<T extends KubeObject & { status?: unknown }>(
    resource: ResourceType,
    object: T,
    status: StatusUpdate<T>,
  ): Promise<StatusWriteResult<T>> {
    const compute = (current: T) =>
      typeof status === 'function' ? (status as (c: T) => StatusOf<T>)(current) : status;
    let current = object;
    for (let attempt = 1; ; attempt++) {
      const desired = compute(current);
      if (sameJson(current.status, desired)) return { outcome: 'unchanged', object: current };
      try {
        const written = await this.#replace(resource, { ...current, status: desired });
        return { outcome: 'updated', object: written };
      } catch (err) {
        if (isStatus(err, 404)) return { outcome: 'gone' };
        if (!isStatus(err, 409) || attempt >= 2) throw err;
        this.#log.debug(
          { name: current.metadata?.name, namespace: current.metadata?.namespace },
          'status conflict; re-reading',
        );
      }
      try {
        current = await this.#read(resource, current);
      } catch (err) {
        if (isStatus(err, 404)) return { outcome: 'gone' };
        throw err;
      }
    }
  }

  #target(resource: ResourceType, object: KubeObject) {
    const { group, version } = splitApiVersion(resource.apiVersion);
    const name = object.metadata?.name;
    if (!name) throw new TypeError('object has no metadata.name');
    return { group, version, plural: resource.plural, name, namespace: object.metadata?.namespace };
  }

  async #replace<T extends KubeObject>(resource: ResourceType, body: T): Promise<T> {
    const { namespace, ...target } = this.#target(resource, body);
    const request = { ...target, body, fieldManager: this.fieldManager };
    if (resource.namespaced) {
      if (!namespace)
        throw new TypeError(`${resource.kind} is namespaced; object has no namespace`);
      return (await this.#api.replaceNamespacedCustomObjectStatus({ ...request, namespace })) as T;
    }
    return (await this.#api.replaceClusterCustomObjectStatus(request)) as T;
  }

  async #read<T extends KubeObject>(resource: ResourceType, object: T): Promise<T> {
    const { namespace, ...target } = this.#target(resource, object);
    if (resource.namespaced) {
      return (await this.#api.getNamespacedCustomObjectStatus({
        ...target,
        namespace: namespace!,
      })) as T;
    }
    return (await this.#api.getClusterCustomObjectStatus(target)) as T;
  }
}
