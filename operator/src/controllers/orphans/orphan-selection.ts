// Which LiteLLM objects are orphans: created by llm-tenancy (our managed-by metadata) for an
// owning object that no longer exists. Deleting is irreversible (LiteLLM also deletes a
// deleted team's or user's keys), so everything not provably an orphan is kept:
//
//   no managed-by metadata            not ours: never touched
//   released (deletionPolicy Orphan)  left behind on purpose
//   owner unreadable or of a kind
//   this collector does not watch     cannot be proven gone
//   owner present in the cache        alive (by name: a recreated object adopts it)
//   owner uid present in the cache    alive (renamed metadata, or an object we cannot name)
//   otherwise                         orphan
import { MANAGED_BY, MANAGED_BY_KEY, OWNER_KEY, OWNER_UID_KEY } from '../shared/ownership.ts';
import { isReleased } from '../shared/released.ts';

/** Kinds of LiteLLM object the collector looks at. */
export type LiteLLMKind = 'team' | 'user' | 'key';

/** One LiteLLM object as listed: its id and metadata. */
export interface LiteLLMObject {
  kind: LiteLLMKind;
  id: string;
  metadata: Record<string, unknown> | null | undefined;
}

export interface OwnerName {
  kind: string;
  namespace?: string;
  name: string;
}

/** What the informer caches know about owning objects. */
export interface Owners {
  /** Whether the collector watches this kind at all (else its objects cannot be judged). */
  watches(kind: string): boolean;
  exists(owner: OwnerName): boolean;
  uidExists(kind: string, uid: string): boolean;
}

export type Verdict =
  | { orphan: true; owner: OwnerName; ownerUid: string | undefined }
  | {
      orphan: false;
      why: 'unmanaged' | 'released' | 'unreadable-owner' | 'unwatched-kind' | 'owner-exists';
    };

/** "Team/ml" → {kind, name}; "VirtualKey/ns/key" → {kind, namespace, name}. */
export function parseOwnerName(value: unknown): OwnerName | undefined {
  if (typeof value !== 'string') return undefined;
  const parts = value.split('/');
  if (parts.some((p) => p === '')) return undefined;
  if (parts.length === 2) return { kind: parts[0]!, name: parts[1]! };
  if (parts.length === 3) return { kind: parts[0]!, namespace: parts[1]!, name: parts[2]! };
  return undefined;
}

export function orphanVerdict(object: LiteLLMObject, owners: Owners): Verdict {
  const metadata = object.metadata;
  if (metadata?.[MANAGED_BY_KEY] !== MANAGED_BY) return { orphan: false, why: 'unmanaged' };
  if (isReleased(metadata)) return { orphan: false, why: 'released' };
  const owner = parseOwnerName(metadata[OWNER_KEY]);
  if (!owner) return { orphan: false, why: 'unreadable-owner' };
  if (!owners.watches(owner.kind)) return { orphan: false, why: 'unwatched-kind' };
  const uid = typeof metadata[OWNER_UID_KEY] === 'string' ? metadata[OWNER_UID_KEY] : undefined;
  if (owners.exists(owner) || (uid !== undefined && owners.uidExists(owner.kind, uid))) {
    return { orphan: false, why: 'owner-exists' };
  }
  return { orphan: true, owner, ownerUid: uid };
}

export interface Orphan {
  object: LiteLLMObject;
  owner: OwnerName;
  ownerUid: string | undefined;
}

export function selectOrphans(objects: readonly LiteLLMObject[], owners: Owners): Orphan[] {
  return objects.flatMap((object) => {
    const verdict = orphanVerdict(object, owners);
    return verdict.orphan ? [{ object, owner: verdict.owner, ownerUid: verdict.ownerUid }] : [];
  });
}
