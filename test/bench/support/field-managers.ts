// Which loop wrote an object: each write the API server applies stamps the `time` of its
// field manager's entry in metadata.managedFields (one entry per manager and subresource), so
// comparing an object's entries before and after a watch event names the writer. The bench
// counts writes per writer with it, so the VirtualKey controller's resync and the spend sync
// (both write VirtualKey status, under field managers of their own) are told apart.
import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';
import type { KubeObject } from '../../../operator/src/runtime/object.ts';

type WithManagedFields = KubeObject & { metadata: { managedFields?: V1ManagedFieldsEntry[] } };

const entryId = (e: V1ManagedFieldsEntry) =>
  e.subresource ? `${e.manager ?? '?'} (${e.subresource})` : (e.manager ?? '?');

/**
 * The writers of the change old → current: the managers whose entry is new or carries a new
 * time. A write that changed no field of its manager keeps the entry as it was: "(unknown)".
 */
export function writersOf(old: WithManagedFields, current: WithManagedFields): string[] {
  const before = new Map(
    (old.metadata.managedFields ?? []).map((e) => [entryId(e), String(e.time ?? '')]),
  );
  const writers = (current.metadata.managedFields ?? [])
    .filter((e) => before.get(entryId(e)) !== String(e.time ?? ''))
    .map(entryId);
  return writers.length > 0 ? writers : ['(unknown)'];
}

/** Writes counted per field manager, for before/after deltas. */
export class WritesByManager {
  readonly counts: Record<string, number> = {};

  /** An informer update handler: counts every resourceVersion change by its writers. */
  readonly handler = {
    update: (old: KubeObject, current: KubeObject) => {
      if (old.metadata?.resourceVersion === current.metadata?.resourceVersion) return;
      for (const writer of writersOf(old as WithManagedFields, current as WithManagedFields))
        this.counts[writer] = (this.counts[writer] ?? 0) + 1;
    },
  };

  snapshot(): Record<string, number> {
    return { ...this.counts };
  }
}
