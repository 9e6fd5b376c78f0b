// The little every Kubernetes object has that the runtime relies on. Typed structurally so
// that client-node's models (V1ConfigMap, whose timestamps are Dates) and raw wire objects
// (timestamps are strings, as the informer caches them) both fit.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: Date | string;
  finalizers?: string[];
  labels?: { [key: string]: string };
  annotations?: { [key: string]: string };
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** "namespace/name", or "name" when cluster-scoped: the same key as requestKey. */
export function objectKey(object: KubeObject): string {
  const name = object.metadata?.name;
  if (!name) throw new TypeError('object has no metadata.name');
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

export function isDeleting(object: KubeObject): boolean {
  return (
    object.metadata?.deletionTimestamp !== undefined && object.metadata.deletionTimestamp !== null
  );
}

/**
 * `object` without metadata.managedFields, controller-runtime's TransformStripManagedFields:
 * the field-ownership record the API server keeps (one entry per writer, each a tree of every
 * field it set) is often the largest part of a small object's metadata, and no controller
 * reads it; writes never send it (kube-client.ts), so the server keeps its own.
 */
export function withoutManagedFields<T extends KubeObject>(object: T): T {
  const metadata = object.metadata as (ObjectMeta & { managedFields?: unknown }) | undefined;
  if (metadata?.managedFields === undefined) return object;
  const { managedFields: _, ...rest } = metadata;
  return { ...object, metadata: rest };
}

/** Freezes `value` and everything in it: cached objects are shared, never edited in place. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
