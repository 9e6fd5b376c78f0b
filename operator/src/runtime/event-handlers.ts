// Event handlers that turn informer events into reconcile requests, like controller-runtime's
// handler.EnqueueRequestForObject and handler.EnqueueRequestsFromMapFunc. Requests are
// names only; the queue collapses duplicates, so enqueueing generously is cheap and safe.
import type { EventHandler } from './informer.ts';
import { isDeleting, type KubeObject } from './object.ts';
import { requestFor, type Request } from './request.ts';

/** Anything that takes requests: a Controller. */
export interface Enqueuer {
  enqueue(request: Request): void;
}

export type UpdatePredicate<T> = (oldObject: T, newObject: T) => boolean;

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * controller-runtime's GenerationChangedPredicate, widened: an update matters when the spec
 * changed (metadata.generation moved), or when something a reconciler must react to changed
 * without touching the spec: deletion started, finalizers or annotations changed. Status-only
 * updates (including the controller's own status writes) are dropped.
 */
export const generationChanged: UpdatePredicate<KubeObject> = (oldObject, newObject) => {
  const o = oldObject.metadata ?? {};
  const n = newObject.metadata ?? {};
  if (o.generation !== n.generation) return true;
  if (isDeleting(oldObject) !== isDeleting(newObject)) return true;
  if (!sameJson(o.finalizers, n.finalizers)) return true;
  if (!sameJson(o.annotations, n.annotations)) return true;
  return false;
};

export interface EnqueueObjectOptions<T> {
  /** Drop updates for which this returns false (e.g. generationChanged). Resyncs are never dropped. */
  updatePredicate?: UpdatePredicate<T>;
  /** Only objects for which this returns true are enqueued at all. */
  filter?: (object: T) => boolean;
}

/** Enqueues the object itself on add, update, delete and resync. */
export function enqueueObject<T extends KubeObject>(
  target: Enqueuer,
  options: EnqueueObjectOptions<T> = {},
): EventHandler<T> {
  const { updatePredicate, filter = () => true } = options;
  const enqueue = (object: T) => {
    if (filter(object)) target.enqueue(requestFor(object));
  };
  return {
    add: enqueue,
    update(oldObject, newObject) {
      if (!updatePredicate || updatePredicate(oldObject, newObject)) enqueue(newObject);
    },
    delete: enqueue,
    resync: enqueue,
  };
}

/**
 * Enqueues the requests `map` derives from an object of another kind (a Team change
 * enqueues the VirtualKeys in its namespaces). On update both the old and the new object
 * are mapped, so an object that stops matching still gets its owner reconciled.
 */
export function enqueueMapped<T extends KubeObject>(
  target: Enqueuer,
  map: (object: T) => readonly Request[],
  options: { updatePredicate?: UpdatePredicate<T> } = {},
): EventHandler<T> {
  const enqueueAll = (...objects: T[]) => {
    const seen = new Set<string>();
    for (const object of objects) {
      for (const request of map(object)) {
        const key = `${request.namespace ?? ''}/${request.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        target.enqueue(request);
      }
    }
  };
  return {
    add: (object) => enqueueAll(object),
    update(oldObject, newObject) {
      if (!options.updatePredicate || options.updatePredicate(oldObject, newObject))
        enqueueAll(oldObject, newObject);
    },
    delete: (object) => enqueueAll(object),
    resync: (object) => enqueueAll(object),
  };
}
