import { describe, expect, it } from 'vitest';
import { createUpstream } from './upstream.ts';

describe('createUpstream', () => {
  it('keeps the path of the base URL as the prefix of every forwarded path', async () => {
    const options = { connectTimeoutMs: 1_000, headersTimeoutMs: 2_000, idleTimeoutMs: 3_000 };
    const bare = createUpstream({ ...options, url: 'http://litellm:4000' });
    const prefixed = createUpstream({ ...options, url: 'https://example.com/litellm//' });
    try {
      expect(bare.basePath).toBe('');
      expect(bare.origin).toBe('http://litellm:4000');
      expect(prefixed.basePath).toBe('/litellm');
      expect(prefixed.origin).toBe('https://example.com');
      expect(bare.headersTimeoutMs).toBe(2_000);
      expect(bare.idleTimeoutMs).toBe(3_000);
    } finally {
      await bare.close();
      await prefixed.close();
    }
  });
});
