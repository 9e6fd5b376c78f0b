// Everything the operator creates in LiteLLM carries metadata naming its owning object and
// the installation (operator deployment) that made it, so drift can be corrected, orphans
// collected, and two objects — or two installations sharing one LiteLLM — never silently
// share one LiteLLM entity. LiteLLM replaces `metadata` wholesale on update, so we always
// merge ours into what is there instead of sending only our keys.
//
// Objects made before the installation id existed carry none ("legacy"). They are judged by
// owner name and uid as before, and the first reconcile that finds one ours stamps our id
// into it (hasOwnerMetadata is false without it), so an upgraded installation claims its
// live objects within one resync and nothing it owns is left unclaimed. The orphan
// collector never deletes a legacy object: whose it is can no longer be proven.
import { isReleased } from './released.ts';

export const OWNER_KEY = 'llmtenancy.dev/owner';
export const OWNER_UID_KEY = 'llmtenancy.dev/uid';
export const MANAGED_BY_KEY = 'llmtenancy.dev/managed-by';
export const INSTALLATION_KEY = 'llmtenancy.dev/installation';
export const MANAGED_BY = 'llm-tenancy';
/** Set to "true" on an object to take over a LiteLLM object llm-tenancy did not create. */
export const ADOPT_ANNOTATION = 'llmtenancy.dev/adopt';

export interface OwnerRef {
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
  /** The installation id of the operator that owns the LiteLLM object (installation.ts). */
  installation: string;
}

/** "Team/ml-research" or "VirtualKey/ml-research/chatbot". */
export function ownerName(owner: Pick<OwnerRef, 'kind' | 'name' | 'namespace'>): string {
  return [owner.kind, owner.namespace, owner.name].filter(Boolean).join('/');
}

export function ownerMetadata(owner: OwnerRef): Record<string, string> {
  return {
    [MANAGED_BY_KEY]: MANAGED_BY,
    [INSTALLATION_KEY]: owner.installation,
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

/** The installation id an object carries; undefined for objects made before ids existed. */
export function installationOf(
  metadata: Record<string, unknown> | null | undefined,
): string | undefined {
  const value = metadata?.[INSTALLATION_KEY];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * True when the object is llm-tenancy's and belongs to another installation that still holds
 * it (not released): this installation must never update, adopt or delete it, whatever else
 * (a pinned id in status, an adopt annotation) says.
 */
export function ofAnotherInstallation(
  metadata: Record<string, unknown> | null | undefined,
  installation: string,
): boolean {
  if (metadata?.[MANAGED_BY_KEY] !== MANAGED_BY || isReleased(metadata)) return false;
  const theirs = installationOf(metadata);
  return theirs !== undefined && theirs !== installation;
}

/** Who holds an object, for a conflict message: "Team/ml (uid …)", plus its installation if not ours. */
export function holderOf(
  metadata: Record<string, unknown> | null | undefined,
  installation: string,
): string {
  const owner = metadata?.[OWNER_KEY];
  const uid = metadata?.[OWNER_UID_KEY];
  const name = `${typeof owner === 'string' ? owner : 'another object'}${typeof uid === 'string' ? ` (uid ${uid})` : ''}`;
  return ofAnotherInstallation(metadata, installation)
    ? `${name} of another llm-tenancy installation (${String(installationOf(metadata))})`
    : name;
}

export type Ownership =
  /** Carries our metadata for this very object. */
  | 'ours'
  /** Carries our metadata for an object of the same name that was deleted and recreated (another uid): adopt it. */
  | 'previous-incarnation'
  /** Managed by llm-tenancy for another object, or by another installation. Never touch. */
  | 'other-owner'
  /** Created outside llm-tenancy. Adopt only when asked to. */
  | 'unmanaged';

/**
 * The deterministic rule when an object's LiteLLM id is already taken: ours, or a previous
 * incarnation of ours (same kind/namespace/name, e.g. after `deletionPolicy: Orphan`), is
 * adopted; anything else is a conflict reported on the object.
 *
 * Another installation's object is 'other-owner' even when its owner name matches: it is
 * that installation's Team of the same name, and taking it would start a tug of war. Once
 * released (its owner deleted with `deletionPolicy: Orphan`), nobody holds it: it may be
 * adopted by name like a previous incarnation (that is how objects move to a new cluster
 * without setting INSTALLATION_ID). A legacy object (no installation id) is judged by name
 * and uid alone, and the adoption stamps our id into it.
 */
export function ownershipOf(
  existing: Record<string, unknown> | null | undefined,
  owner: OwnerRef,
): Ownership {
  if (existing?.[MANAGED_BY_KEY] !== MANAGED_BY) return 'unmanaged';
  if (ofAnotherInstallation(existing, owner.installation)) return 'other-owner';
  if (existing[OWNER_KEY] !== ownerName(owner)) return 'other-owner';
  return existing[OWNER_UID_KEY] === owner.uid ? 'ours' : 'previous-incarnation';
}
