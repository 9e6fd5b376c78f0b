// LiteLLM stores a virtual key only as its hash: `token` = SHA-256 hex digest of the plaintext
// `sk-…` key (CONTRACT-VERIFIED.md §0 "Key hashing"; litellm/types/proxy/auth/
// user_api_key_auth.py › hash_token). Status, logs and metrics carry this hash, never the key;
// every key endpoint the client calls accepts the hash in place of the key, so the client
// sends hashes wherever LiteLLM allows it (only /key/generate needs the plaintext).
import { hashKey } from '../../../contracts/routing/key-hash.ts';

export { hashKey, isKeyHash } from '../../../contracts/routing/key-hash.ts';

/**
 * The token for a key given either as plaintext or already hashed, by LiteLLM's own rule
 * (litellm/proxy/utils.py › hash_token_if_needed): a value starting with `sk-` is a plaintext
 * key and is hashed; anything else is taken to be the token already.
 */
export function keyToken(keyOrHash: string): string {
  return keyOrHash.startsWith('sk-') ? hashKey(keyOrHash) : keyOrHash;
}

/**
 * LiteLLM's abbreviated key name (`key_name` in key rows): `sk-...` and the last 4 characters.
 * Safe to show; LiteLLM itself returns it to anyone who may read the key row.
 */
export function abbreviateKey(key: string): string {
  return `sk-...${key.slice(-4)}`;
}
