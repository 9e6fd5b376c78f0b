// The LiteLLM keys of one VirtualKey, guarded by ownership: a key is updated, blocked,
// unblocked or deleted only when its metadata names this very VirtualKey (kind, namespace,
// name and uid). Key ids (hashes) are not secret: status.keyId is readable by anyone who can
// read the VirtualKey, so a hash that reached the reconciler from anywhere but our own
// record, or a record gone stale, must never be enough to act on someone else's key.
//
// Observing a key the caller says how it should be reads the resync's snapshot first
// (key-snapshot.ts): a fresh row showing exactly that is the answer; anything else is read
// live. Every write goes through here, so the snapshot stops vouching for a key once it was
// written.
import { findLiteLLMError } from '../../litellm/errors.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type {
  GenerateKeyRequest,
  GenerateKeyResponse,
  KeyRow,
  UpdateKeyRequest,
} from '../../litellm/schemas.ts';
import { ownershipOf, type OwnerRef } from '../shared/ownership.ts';
import type { KeySnapshot } from './key-snapshot.ts';
import { keyUpdates, type DesiredKey } from './litellm-key.ts';

type Call = { object: string; signal: AbortSignal };

/** How the key should be in LiteLLM now, for a snapshot row to be taken as it is. */
export interface Expected {
  desired: DesiredKey;
  now: Date;
}

/** True when LiteLLM's row names `owner`, uid included (a namesake's key is not ours). */
export function isOwnKey(row: Pick<KeyRow, 'metadata'>, owner: OwnerRef): boolean {
  return ownershipOf(row.metadata, owner) === 'ours';
}

export type DeleteOutcome = 'deleted' | 'absent' | 'not-ours';

/**
 * True when `row` needs nothing done: live, ours, unexpired, blocked as desired, and with no
 * field keyUpdates would send.
 */
export function keyInSync(row: KeyRow, { desired, now }: Expected): boolean {
  if (row.status === 'deleted' || row.status === 'expired') return false;
  if (row.expires && new Date(row.expires).getTime() <= now.getTime()) return false;
  if (!isOwnKey(row, desired.owner)) return false;
  if ((row.blocked === true) !== desired.blocked) return false;
  return keyUpdates(desired, row, now) === undefined;
}

export class OwnedKeys {
  readonly #litellm: LiteLLMClient;
  readonly #snapshot: KeySnapshot | undefined;

  constructor(litellm: LiteLLMClient, snapshot?: KeySnapshot) {
    this.#litellm = litellm;
    this.#snapshot = snapshot;
  }

  /**
   * LiteLLM's row for `hash`; undefined when LiteLLM has none. With `expected`, a fresh
   * snapshot row that is in sync with it is taken instead of a /key/info.
   */
  async observe(hash: string, call: Call, expected?: Expected): Promise<KeyRow | undefined> {
    if (expected) {
      const row = await this.#snapshot?.row(hash, call.signal);
      if (row && keyInSync(row, expected)) return row;
    }
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
      await this.#written(hash, () => this.#litellm.deleteKeys({ keys: [hash] }, call));
      return 'deleted';
    } catch (err) {
      if (findLiteLLMError(err)?.kind !== 'notFound') throw err;
      return 'absent';
    }
  }

  /** Registers a key (`hash` is the hash of `request.key`). */
  /** Registers the key; returns LiteLLM's row of it. */
  async generate(
    hash: string,
    request: GenerateKeyRequest,
    call: Call,
  ): Promise<GenerateKeyResponse> {
    return this.#written(hash, () => this.#litellm.generateKey(request, call));
  }

  async update(hash: string, update: Omit<UpdateKeyRequest, 'key'>, call: Call): Promise<void> {
    await this.#written(hash, () => this.#litellm.updateKey({ key: hash, ...update }, call));
  }

  async block(hash: string, call: Call): Promise<void> {
    await this.#written(hash, () => this.#litellm.blockKey(hash, call));
  }

  async unblock(hash: string, call: Call): Promise<void> {
    await this.#written(hash, () => this.#litellm.unblockKey(hash, call));
  }

  /** A write, failed or not, after which the snapshot no longer vouches for the key. */
  async #written<R>(hash: string, write: () => Promise<R>): Promise<R> {
    try {
      return await write();
    } finally {
      this.#snapshot?.wrote(hash);
    }
  }
}
