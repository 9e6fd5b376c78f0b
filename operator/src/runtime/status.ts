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
import type { ResourceType } from './discovery.ts';
import { isConflict, isNotFound, refOf, type KubeClient } from './kube-client.ts';
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

export class StatusWriter {
  readonly fieldManager: string;
  readonly #kube: Pick<KubeClient, 'read' | 'replaceStatus'>;
  readonly #log: Logger;

  constructor(
    kube: Pick<KubeClient, 'read' | 'replaceStatus'>,
    options: { fieldManager: string; logger?: Logger },
  ) {
    this.fieldManager = options.fieldManager;
    this.#kube = kube;
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
        const written = await this.#kube.replaceStatus<T>(
          resource,
          { ...current, status: desired },
          { fieldManager: this.fieldManager },
        );
        return { outcome: 'updated', object: written };
      } catch (err) {
        if (isNotFound(err)) return { outcome: 'gone' };
        if (!isConflict(err) || attempt >= 2) throw err;
        this.#log.debug(
          { name: current.metadata?.name, namespace: current.metadata?.namespace },
          'status conflict; re-reading',
        );
      }
      const fresh = await this.#kube.read<T>(resource, refOf(current));
      if (!fresh) return { outcome: 'gone' };
      current = fresh;
    }
  }
}
