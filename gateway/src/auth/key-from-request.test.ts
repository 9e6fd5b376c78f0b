import { describe, expect, it } from 'vitest';
import { keyFromHeaders } from './key-from-request.ts';

describe('keyFromHeaders', () => {
  it('reads a Bearer key, whatever the case of the scheme', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect(keyFromHeaders({ authorization: `${scheme} sk-abc123` }), scheme).toBe('sk-abc123');
    }
  });

  it('tolerates extra spaces and tabs around the key', () => {
    expect(keyFromHeaders({ authorization: 'Bearer    sk-abc123' })).toBe('sk-abc123');
    expect(keyFromHeaders({ authorization: 'Bearer\tsk-abc123  ' })).toBe('sk-abc123');
  });

  it('reads the api-key header (Azure OpenAI SDKs), trimmed', () => {
    expect(keyFromHeaders({ 'api-key': 'sk-azure' })).toBe('sk-azure');
    expect(keyFromHeaders({ 'api-key': '  sk-azure ' })).toBe('sk-azure');
  });

  it('prefers Authorization over api-key', () => {
    expect(keyFromHeaders({ authorization: 'Bearer sk-bearer', 'api-key': 'sk-azure' })).toBe(
      'sk-bearer',
    );
  });

  it('is undefined with neither', () => {
    expect(keyFromHeaders({})).toBeUndefined();
    expect(keyFromHeaders({ 'api-key': '   ' })).toBeUndefined();
    expect(keyFromHeaders({ authorization: '' })).toBeUndefined();
    expect(keyFromHeaders({ authorization: 'Bearer' })).toBeUndefined();
    expect(keyFromHeaders({ authorization: 'Bearer   ' })).toBeUndefined();
  });

  it('ignores other schemes and malformed Bearer values', () => {
    expect(keyFromHeaders({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(keyFromHeaders({ authorization: 'Bearersk-abc' })).toBeUndefined();
    expect(keyFromHeaders({ authorization: 'Bearer sk-a sk-b' })).toBeUndefined();
    expect(keyFromHeaders({ authorization: 'Token sk-abc' })).toBeUndefined();
  });

  it('falls back to api-key when Authorization is not a Bearer key', () => {
    expect(keyFromHeaders({ authorization: 'Basic dXNlcjpwYXNz', 'api-key': 'sk-azure' })).toBe(
      'sk-azure',
    );
  });
});
