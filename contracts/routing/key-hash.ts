// How a key is known everywhere but in its Secret: LiteLLM's `token`, the lowercase SHA-256
// hex of the plaintext `sk-…` key (CONTRACT-VERIFIED.md §0 "Key hashing"; litellm's
// hash_token). The routing config, status, logs and metrics carry this hash, never the key.
import { hash } from 'node:crypto';

/** The LiteLLM token of a plaintext key: lowercase SHA-256 hex (64 characters). */
export function hashKey(key: string): string {
  // The one-shot form: the gateway hashes every request's key, and it costs half of
  // createHash().update().digest().
  return hash('sha256', key, 'hex');
}

/** True for a string shaped like a LiteLLM token (SHA-256 hex), as opposed to a plaintext key. */
export function isKeyHash(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}
