import { describe, expect, it } from 'vitest';
import { abbreviateKey, hashKey, isKeyHash, keyToken } from './hash.ts';

describe('key hashing (LiteLLM hash_token)', () => {
  it('is the SHA-256 hex digest of the key', () => {
    // printf %s sk-1234 | sha256sum
    expect(hashKey('sk-1234')).toBe(
      '88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b',
    );
  });

  it('keyToken hashes plaintext keys and passes hashes through', () => {
    const hash = hashKey('sk-abcdef');
    expect(isKeyHash(hash)).toBe(true);
    expect(isKeyHash('sk-abcdef')).toBe(false);
    expect(keyToken('sk-abcdef')).toBe(hash);
    expect(keyToken(hash)).toBe(hash);
  });

  it('abbreviates like LiteLLM key_name', () => {
    expect(abbreviateKey('sk-0123456789abcdef')).toBe('sk-...cdef');
  });
});
