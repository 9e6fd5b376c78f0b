import { describe, expect, it } from 'vitest';
import type { KeyPolicy } from '../../../contracts/routing/schema.ts';
import { hashKey } from '../litellm/hash.ts';
import { isTerminalError } from '../runtime/result.ts';
import { InvalidRoutingRecordError } from './routing-errors.ts';
import {
  canonicalJson,
  encodeKeyPolicy,
  encodeModelRoutes,
  readStoredRecord,
} from './routing-records.ts';

const keyHash = hashKey('sk-test');

const policy = (overrides: Partial<KeyPolicy> = {}): KeyPolicy => ({
  schemaVersion: 1,
  keyHash,
  owner: { namespace: 'ml', name: 'chatbot', uid: 'uid-1' },
  team: 'ml-research',
  models: ['granite-3-8b'],
  limits: { subscriptions: { 'granite-3-8b': { rpm: 10 } } },
  suspended: false,
  ...overrides,
});

describe('canonicalJson', () => {
  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,1]},"b":1}',
    );
  });

  it('is the same string for the same value built in another order', () => {
    expect(canonicalJson({ x: { q: 1, p: 2 }, y: 'z' })).toBe(
      canonicalJson({ y: 'z', x: { p: 2, q: 1 } }),
    );
  });
});

describe('encodeKeyPolicy', () => {
  it('returns the hash and a JSON that parses back to the policy', () => {
    const { keyHash: hash, json } = encodeKeyPolicy(policy());
    expect(hash).toBe(keyHash);
    expect(JSON.parse(json)).toEqual(policy());
  });

  it('gives equal policies equal JSON whatever their key order', () => {
    const reordered = {
      suspended: false,
      limits: { subscriptions: { 'granite-3-8b': { rpm: 10 } } },
      models: ['granite-3-8b'],
      team: 'ml-research',
      owner: { uid: 'uid-1', name: 'chatbot', namespace: 'ml' },
      keyHash,
      schemaVersion: 1,
    } as KeyPolicy;
    expect(encodeKeyPolicy(reordered).json).toBe(encodeKeyPolicy(policy()).json);
  });

  it('gives different JSON for a policy that differs', () => {
    expect(encodeKeyPolicy(policy({ suspended: true })).json).not.toBe(
      encodeKeyPolicy(policy()).json,
    );
  });

  it('drops fields the schema does not know, so they cannot make a put look changed', () => {
    const extra = { ...policy(), note: 'x' } as KeyPolicy;
    expect(encodeKeyPolicy(extra).json).toBe(encodeKeyPolicy(policy()).json);
  });

  it('rejects an invalid policy with a terminal error naming the fields, not the values', () => {
    let error: unknown;
    try {
      encodeKeyPolicy(policy({ keyHash: 'sk-plaintext-key' }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidRoutingRecordError);
    expect(isTerminalError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^invalid KeyPolicy: keyHash: /);
    expect((error as Error).message).not.toContain('sk-plaintext-key');
  });
});

describe('encodeModelRoutes', () => {
  it('validates and encodes canonically', () => {
    expect(encodeModelRoutes({ schemaVersion: 1, models: { b: { mode: 'chat' }, a: {} } })).toBe(
      '{"models":{"a":{},"b":{"mode":"chat"}},"schemaVersion":1}',
    );
    expect(() =>
      encodeModelRoutes({ schemaVersion: 2, models: {} } as unknown as Parameters<
        typeof encodeModelRoutes
      >[0]),
    ).toThrow(InvalidRoutingRecordError);
  });
});

describe('readStoredRecord', () => {
  const { json } = encodeKeyPolicy(policy());

  it('reads a current record stored under its own hash', () => {
    expect(readStoredRecord(keyHash, json)).toEqual({ valid: true, policy: policy() });
  });

  it('refuses a record that is not JSON, or of another schema version or shape', () => {
    expect(readStoredRecord(keyHash, '{not json')).toEqual({
      valid: false,
      reason: 'unparseable',
    });
    const v2 = JSON.stringify({ ...policy(), schemaVersion: 2 });
    expect(readStoredRecord(keyHash, v2)).toEqual({ valid: false, reason: 'unparseable' });
    const oldShape = JSON.stringify({ hash: keyHash, models: ['a'] });
    expect(readStoredRecord(keyHash, oldShape)).toEqual({ valid: false, reason: 'unparseable' });
  });

  it('refuses a record stored under another hash than its own', () => {
    expect(readStoredRecord(hashKey('sk-other'), json)).toEqual({
      valid: false,
      reason: 'hash mismatch',
    });
  });
});
