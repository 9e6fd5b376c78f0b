// A reconcile request is only a name (controller-runtime's reconcile.Request): the
// reconciler reads everything else from the cache and the outside world, so it converges on
// the current state no matter which event, or how many, led to it.

export interface Request {
  /** Absent for cluster-scoped objects (Team, User). */
  namespace?: string;
  name: string;
}

/** "namespace/name", or "name" when cluster-scoped: the work-queue and cache key. */
export function requestKey(request: Request): string {
  return request.namespace ? `${request.namespace}/${request.name}` : request.name;
}

/** The inverse of requestKey (names never contain "/"). */
export function parseRequestKey(key: string): Request {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The request for an object's own metadata. */
export function requestFor(object: { metadata?: { namespace?: string; name?: string } }): Request {
  const name = object.metadata?.name;
  if (!name) throw new TypeError('object has no metadata.name');
  const namespace = object.metadata?.namespace;
  return namespace ? { namespace, name } : { name };
}
