// Key values and the state the operator records about them. The operator makes the key value
// itself (so it can be written to the Secret before LiteLLM hears of it) with 32 bytes from
// the OS's CSPRNG, like LiteLLM's own `sk-` + token_urlsafe keys, only longer.
//
// Which values are the key, when the current one was minted and which previous key still
// works are recorded in VirtualKey status (key-status.ts › recordedKeys), never in the
// Secret: anyone who may edit the namespace may write a Secret, nobody but the operator
// writes status. A value is recorded before it is written to the Secret, so the Secret can
// only ever hold a recorded value or one the operator did not make.
import { randomBytes } from 'node:crypto';
import { hashKey } from '../../litellm/hash.ts';

/** `sk-` + 43 base64url characters (256 bits). */
export function newKeyValue(): string {
  return `sk-${randomBytes(32).toString('base64url')}`;
}

/** A plausible key: what we make, or at least what LiteLLM accepts as a custom key. */
export function isKeyValue(value: string | undefined): value is string {
  return value !== undefined && /^sk-[A-Za-z0-9_-]{13,}$/.test(value);
}

/** A key that a rotation (or a replaced value) superseded, working until `validUntil`. */
export interface PreviousKey {
  hash: string;
  validUntil: Date;
}

/** What status records about a VirtualKey's keys: the only key state the operator trusts. */
export interface RecordedKeys {
  /** The current key: the Secret's value is accepted only when it hashes to this. */
  current?: { hash: string; mintedAt: Date };
  previous?: PreviousKey;
}

/** The current key value, from the Secret, and its recorded state. */
export interface KeyMaterial {
  value: string;
  hash: string;
  /** When this value was minted: rotation counts from here. */
  mintedAt: Date;
  /** The key it replaced, still valid until `validUntil` (rotation grace period). */
  previous?: PreviousKey;
}

export function freshMaterial(now: Date, previous?: PreviousKey): KeyMaterial {
  const value = newKeyValue();
  return { value, hash: hashKey(value), mintedAt: now, ...(previous ? { previous } : {}) };
}

/** What the Secret holds, judged against the recorded current key. */
export type SecretValue =
  /** The recorded current key. */
  | { kind: 'recorded'; value: string; hash: string }
  /** A value the operator did not record: written by someone else, never registered. */
  | { kind: 'foreign'; hash: string }
  /** No Secret, or nothing under the key's data key. */
  | { kind: 'none' };

/**
 * When the Secret does not hold the recorded key: which key stays valid for a grace period
 * and which are deleted now, before a fresh key is minted.
 *
 * - Nothing there (the Secret was deleted or emptied): deleting the Secret is how a user
 *   revokes a key, so the recorded key is deleted at once; a previous key keeps its grace.
 * - The previous key's value (a backup written back, or a rotation whose Secret write never
 *   landed): the previous key keeps its grace; the recorded current key, which nobody was
 *   given, is deleted.
 * - Any other value (written by hand): the recorded key is treated as rotated out, working
 *   for `graceMs` like after a rotation, since running Pods still hold it; a previous key
 *   still in its grace period is deleted now, so no more than two keys ever work.
 */
export function supersede(
  recorded: RecordedKeys,
  found: Exclude<SecretValue, { kind: 'recorded' }>,
  now: Date,
  graceMs: number,
): { previous?: PreviousKey; discard: string[] } {
  const { current, previous } = recorded;
  const keep = (p: PreviousKey | undefined) => (p ? { previous: p } : {});
  const drop = (...hashes: (string | undefined)[]) =>
    hashes.filter((h): h is string => h !== undefined);
  if (found.kind === 'none' || found.hash === previous?.hash) {
    return { ...keep(previous), discard: drop(current?.hash) };
  }
  if (!current) return { ...keep(previous), discard: [] };
  return {
    previous: { hash: current.hash, validUntil: new Date(now.getTime() + graceMs) },
    discard: drop(previous?.hash),
  };
}
