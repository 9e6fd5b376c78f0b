import { describe, expect, it } from 'vitest';
import { KeyReader } from './key-from-request.ts';

const reader = new KeyReader();
const keyOf = (headers: Record<string, string | string[]>) => {
  const reading = reader.read(headers);
  return reading.kind === 'key' ? reading.key : undefined;
};

describe('KeyReader', () => {
  it('reads a Bearer key, whatever the case of the scheme', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect(keyOf({ authorization: `${scheme} sk-abc123` }), scheme).toBe('sk-abc123');
    }
  });

  it('tolerates extra spaces and tabs around the key', () => {
    expect(keyOf({ authorization: 'Bearer    sk-abc123' })).toBe('sk-abc123');
    expect(keyOf({ authorization: 'Bearer\tsk-abc123  ' })).toBe('sk-abc123');
  });

  it("reads every header LiteLLM reads a key from, each in its SDK's form", () => {
    expect(keyOf({ 'api-key': '  sk-azure ' })).toBe('sk-azure');
    expect(keyOf({ 'x-api-key': 'sk-anthropic' })).toBe('sk-anthropic');
    expect(keyOf({ 'x-goog-api-key': 'sk-google' })).toBe('sk-google');
    expect(keyOf({ 'ocp-apim-subscription-key': 'sk-apim' })).toBe('sk-apim');
    expect(keyOf({ 'x-litellm-api-key': 'sk-litellm' })).toBe('sk-litellm');
    expect(keyOf({ 'x-litellm-api-key': 'Bearer sk-litellm' })).toBe('sk-litellm');
  });

  it('reads the custom header LiteLLM is configured with, with or without Bearer', () => {
    const custom = new KeyReader('X-My-Key');
    expect(custom.headers).toContain('x-my-key');
    expect(custom.read({ 'x-my-key': 'sk-custom' })).toEqual({ kind: 'key', key: 'sk-custom' });
    expect(custom.read({ 'x-my-key': 'Bearer sk-custom' })).toEqual({
      kind: 'key',
      key: 'sk-custom',
    });
    expect(reader.read({ 'x-my-key': 'sk-custom' })).toEqual({ kind: 'none' });
  });

  it('accepts the same key in several headers (SDKs that send both)', () => {
    expect(
      reader.read({
        authorization: 'Bearer sk-same',
        'api-key': 'sk-same',
        'x-api-key': 'sk-same',
      }),
    ).toEqual({ kind: 'key', key: 'sk-same' });
  });

  it('refuses two different keys, naming the headers and never the values', () => {
    expect(
      reader.read({ authorization: 'Bearer sk-checked', 'x-litellm-api-key': 'sk-billed' }),
    ).toEqual({ kind: 'conflict', headers: ['authorization', 'x-litellm-api-key'] });
    expect(reader.read({ 'api-key': 'sk-a', 'ocp-apim-subscription-key': 'sk-b' })).toEqual({
      kind: 'conflict',
      headers: ['api-key', 'ocp-apim-subscription-key'],
    });
    const custom = new KeyReader('x-my-key');
    expect(custom.read({ authorization: 'Bearer sk-a', 'x-my-key': 'sk-b' })).toEqual({
      kind: 'conflict',
      headers: ['authorization', 'x-my-key'],
    });
  });

  it('refuses a key beside a credential header that holds no key (LiteLLM would take that one)', () => {
    expect(reader.read({ authorization: 'Basic dXNlcjpwYXNz', 'api-key': 'sk-azure' })).toEqual({
      kind: 'conflict',
      headers: ['authorization', 'api-key'],
    });
    expect(reader.read({ 'x-api-key': 'sk-a sk-b', authorization: 'Bearer sk-a' })).toEqual({
      kind: 'conflict',
      headers: ['authorization', 'x-api-key'],
    });
  });

  it('calls a lone credential header without a usable key malformed', () => {
    for (const authorization of [
      'Basic dXNlcjpwYXNz',
      'Bearersk-abc',
      'Bearer sk-a sk-b',
      'Token sk-abc',
      'Bearer',
    ]) {
      expect(reader.read({ authorization }), authorization).toEqual({
        kind: 'malformed',
        header: 'authorization',
      });
    }
    // Two api-key headers arrive joined by ", ": two keys, not one.
    expect(reader.read({ 'api-key': 'sk-a, sk-b' })).toEqual({
      kind: 'malformed',
      header: 'api-key',
    });
  });

  it('finds none when no credential header has a value', () => {
    expect(reader.read({})).toEqual({ kind: 'none' });
    expect(reader.read({ 'api-key': '   ', authorization: '' })).toEqual({ kind: 'none' });
    expect(reader.read({ authorization: 'Bearer   ' })).toEqual({
      kind: 'malformed',
      header: 'authorization',
    });
  });
});
