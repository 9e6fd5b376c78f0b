// The owning objects the orphan collector compares LiteLLM against: the informer caches of
// the kinds that create LiteLLM objects, one per kind.
import type { ObjectStore } from '../../runtime/cache.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Owners } from './orphan-selection.ts';

export function cachedOwners(stores: ReadonlyMap<string, ObjectStore<KubeObject>>): Owners {
  return {
    watches: (kind) => stores.has(kind),
    exists: (owner) => stores.get(owner.kind)?.getByName(owner.name, owner.namespace) !== undefined,
    uidExists: (kind, uid) =>
      stores
        .get(kind)
        ?.list()
        .some((o) => o.metadata?.uid === uid) ?? false,
  };
}
