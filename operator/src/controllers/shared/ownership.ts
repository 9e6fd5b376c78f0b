// Everything the operator creates in LiteLLM carries metadata naming its owning object, so
// drift can be corrected, orphans collected, and two objects never silently share one
// LiteLLM entity. LiteLLM replaces `metadata` wholesale on update, so we always merge ours
// into what is there instead of sending only our keys.

export const OWNER_KEY = 'llmtenancy.dev/owner';
export const OWNER_UID_KEY = 'llmtenancy.dev/uid';
export const MANAGED_BY_KEY = 'llmtenancy.dev/managed-by';
export const MANAGED_BY = 'llm-tenancy';

export interface OwnerRef {
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
}

/** "Team/ml-research" or "VirtualKey/ml-research/chatbot". */
export function ownerName(owner: Omit<OwnerRef, 'uid'>): string {
  return [owner.kind, owner.namespace, owner.name].filter(Boolean).join('/');
}

export function ownerMetadata(owner: OwnerRef): Record<string, string> {
  return {
    [MANAGED_BY_KEY]: MANAGED_BY,
    [OWNER_KEY]: ownerName(owner),
    [OWNER_UID_KEY]: owner.uid,
  };
}

/** Our metadata merged over LiteLLM's existing metadata (which may hold others' keys). */
export function mergeOwnerMetadata(
  existing: Record<string, unknown> | null | undefined,
  owner: OwnerRef,
): Record<string, unknown> {
  return { ...(existing ?? {}), ...ownerMetadata(owner) };
}

/** True when every one of our keys is present with our value. */
export function hasOwnerMetadata(
  existing: Record<string, unknown> | null | undefined,
  owner: OwnerRef,
): boolean {
  const ours = ownerMetadata(owner);
  return Object.entries(ours).every(([k, v]) => existing?.[k] === v);
}

export type Ownership =
  /** Carries our metadata for this very object. */
  | 'ours'
  /** Carries our metadata for an object of the same name that was deleted and recreated (another uid): adopt it. */
  | 'previous-incarnation'
  /** Managed by llm-tenancy for another object. Never touch. */
  | 'other-owner'
  /** Created outside llm-tenancy. Adopt only when asked to. */
  | 'unmanaged';

/**
 * The deterministic rule when an object's LiteLLM id is already taken: ours, or a previous
 * incarnation of ours (same kind/namespace/name, e.g. after `deletionPolicy: Orphan`), is
 * adopted; anything else is a conflict reported on the object.
 */
export function ownershipOf(
  existing: Record<string, unknown> | null | undefined,
  owner: OwnerRef,
): Ownership {
  if (existing?.[MANAGED_BY_KEY] !== MANAGED_BY) return 'unmanaged';
  if (existing[OWNER_KEY] !== ownerName(owner)) return 'other-owner';
  return existing[OWNER_UID_KEY] === owner.uid ? 'ours' : 'previous-incarnation';
}
