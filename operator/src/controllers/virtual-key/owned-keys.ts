// The LiteLLM keys of one VirtualKey, guarded by ownership: a key is updated, blocked,
// unblocked or deleted only when its metadata names this very VirtualKey (kind, namespace,
// name and uid). Key ids (hashes) are not secret: status.keyId is readable by anyone who can
// read the VirtualKey, so a hash that reached the reconciler from anywhere but our own
// record, or a record gone stale, must never be enough to act on someone else's key.
import { findLiteLLMError } from '../../litellm/errors.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { KeyRow } from '../../litellm/schemas.ts';
import { ownershipOf, type OwnerRef } from '../shared/ownership.ts';

type Call = { object: string; signal: AbortSignal };

/** True when LiteLLM's row names `owner`, uid included (a namesake's key is not ours). */
export function isOwnKey(row: Pick<KeyRow, 'metadata'>, owner: OwnerRef): boolean {
  return ownershipOf(row.metadata, owner) === 'ours';
}

export type DeleteOutcome = 'deleted' | 'absent' | 'not-ours';

export class OwnedKeys {
  readonly #litellm: LiteLLMClient;

  constructor(litellm: LiteLLMClient) {
    this.#litellm = litellm;
  }

  /** LiteLLM's row for `hash`; undefined when LiteLLM has none. */
  async observe(hash: string, call: Call): Promise<KeyRow | undefined> {
    try {
      return (await this.#litellm.keyInfo(hash, call)).info;
    } catch (err) {
      if (findLiteLLMError(err)?.kind === 'notFound') return undefined;
      throw err;
    }
  }

  /** Deletes the key when it is `owner`'s; a key of anyone else is left alone. */
  async delete(hash: string, owner: OwnerRef, call: Call): Promise<DeleteOutcome> {
    const row = await this.observe(hash, call);
    if (!row || row.status === 'deleted') return 'absent';
    if (!isOwnKey(row, owner)) return 'not-ours';
    try {
      await this.#litellm.deleteKeys({ keys: [hash] }, call);
      return 'deleted';
    } catch (err) {
      if (findLiteLLMError(err)?.kind !== 'notFound') throw err;
      return 'absent';
    }
  }
}
