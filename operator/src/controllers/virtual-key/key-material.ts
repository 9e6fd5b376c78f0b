// Key values and what the Secret records about them. The operator makes the key value
// itself (so it can be written to the Secret before LiteLLM hears of it) with 32 bytes from
// the OS's CSPRNG, like LiteLLM's own `sk-` + token_urlsafe keys, only longer.
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

/** The key in a Secret and its rotation state (the Secret is the durable record of both). */
export interface KeyMaterial {
  value: string;
  hash: string;
  /** When this value was minted: rotation counts from here. */
  mintedAt: Date;
  /** The key it replaced, still valid until `validUntil` (rotation grace period). */
  previous?: { hash: string; validUntil: Date };
}

export function freshMaterial(now: Date, previous?: KeyMaterial['previous']): KeyMaterial {
  const value = newKeyValue();
  return { value, hash: hashKey(value), mintedAt: now, ...(previous ? { previous } : {}) };
}
