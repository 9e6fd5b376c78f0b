// Which LiteLLM objects are orphans: created by this installation of llm-tenancy (our
// managed-by metadata and our installation id) for an owning object that no longer exists.
// Deleting is irreversible (LiteLLM also deletes a deleted team's or user's keys), so
// everything not provably an orphan is kept:
//
//   no managed-by metadata            not ours: never touched
//   released (deletionPolicy Orphan)  left behind on purpose
//   another installation's id         that installation's to judge: our caches cannot
//   owner unreadable or of a kind
//   this collector does not watch     cannot be proven gone
//   owner present in the cache        alive (by name: a recreated object adopts it)
//   owner uid present in the cache    alive (renamed metadata, or an object we cannot name)
//   no installation id, owner gone    'unclaimed': made before installation ids, by us or by
//                                     another installation sharing this LiteLLM; kept and
//                                     counted (llm_tenancy_orphans_unclaimed) for an admin
//   otherwise                         orphan
import {
  installationOf,
  MANAGED_BY,
  MANAGED_BY_KEY,
  OWNER_KEY,
  OWNER_UID_KEY,
} from '../shared/ownership.ts';
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
      why:
        | 'unmanaged'
        | 'released'
        | 'other-installation'
        | 'unreadable-owner'
        | 'unwatched-kind'
        | 'owner-exists'
        | 'unclaimed';
      /** For 'unclaimed': the owner that is gone. */
      owner?: OwnerName;
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

/** `installation`: this installation's id; only objects carrying it can be orphans. */
export function orphanVerdict(
  object: LiteLLMObject,
  owners: Owners,
  installation: string,
): Verdict {
  const metadata = object.metadata;
  if (metadata?.[MANAGED_BY_KEY] !== MANAGED_BY) return { orphan: false, why: 'unmanaged' };
  if (isReleased(metadata)) return { orphan: false, why: 'released' };
  const theirs = installationOf(metadata);
  if (theirs !== undefined && theirs !== installation) {
    return { orphan: false, why: 'other-installation' };
  }
  const owner = parseOwnerName(metadata[OWNER_KEY]);
  if (!owner) return { orphan: false, why: 'unreadable-owner' };
  if (!owners.watches(owner.kind)) return { orphan: false, why: 'unwatched-kind' };
  const uid = typeof metadata[OWNER_UID_KEY] === 'string' ? metadata[OWNER_UID_KEY] : undefined;
  if (owners.exists(owner) || (uid !== undefined && owners.uidExists(owner.kind, uid))) {
    return { orphan: false, why: 'owner-exists' };
  }
  if (theirs === undefined) return { orphan: false, why: 'unclaimed', owner };
  return { orphan: true, owner, ownerUid: uid };
}

export interface Orphan {
  object: LiteLLMObject;
  owner: OwnerName;
  ownerUid: string | undefined;
}

export interface Selection {
  orphans: Orphan[];
  /** Objects without an installation id whose owner is gone (see 'unclaimed' above). */
  unclaimed: LiteLLMObject[];
}

export function selectOrphans(
  objects: readonly LiteLLMObject[],
  owners: Owners,
  installation: string,
): Selection {
  const selection: Selection = { orphans: [], unclaimed: [] };
  for (const object of objects) {
    const verdict = orphanVerdict(object, owners, installation);
    if (verdict.orphan) {
      selection.orphans.push({ object, owner: verdict.owner, ownerUid: verdict.ownerUid });
    } else if (verdict.why === 'unclaimed') {
      selection.unclaimed.push(object);
    }
  }
  return selection;
}
