// The table of endpoints itself: one entry per route, reads always safe to repeat, and the
// hashing of key values before they are sent.
import { describe, expect, it } from 'vitest';
import { endpoints, isIdempotent, type Endpoint } from './endpoints.ts';
import { hashKey } from './hash.ts';

const entries = Object.entries(endpoints) as [string, Endpoint][];
const plaintext = 'sk-0123456789abcdef';

describe('the table of LiteLLM endpoints', () => {
  it('names each (method, path) once', () => {
    const seen = new Map<string, string>();
    const duplicates: string[] = [];
    for (const [name, entry] of entries) {
      const route = `${entry.method} ${entry.path}`;
      const first = seen.get(route);
      if (first) duplicates.push(`${route}: ${first} and ${name}`);
      seen.set(route, name);
    }
    expect(duplicates).toEqual([]);
    expect(seen.size).toBe(entries.length);
  });

  it('has paths without a query string, as metric labels must be', () => {
    for (const [name, entry] of entries) expect(entry.path, name).toMatch(/^\/[a-z0-9_/]+$/);
  });

  it('marks every GET idempotent', () => {
    const unsafeReads = entries
      .filter(([, e]) => e.method === 'GET' && e.idempotent !== true)
      .map(([name]) => name);
    expect(unsafeReads).toEqual([]);
  });

  it('never marks a create or a delete idempotent', () => {
    const unsafe = entries
      .filter(([, e]) => /\/(new|generate|delete|member_add|member_delete)$/.test(e.path))
      .filter(([, e]) => e.idempotent !== false)
      .map(([name]) => name);
    expect(unsafe).toEqual([]);
  });

  it('/key/update is idempotent only without `duration` (it moves the expiry)', () => {
    const entry = endpoints.updateKey;
    const idempotent = (request: unknown) => isIdempotent(entry, entry.request.parse(request));
    expect(idempotent({ key: plaintext, max_budget: 1 })).toBe(true);
    expect(idempotent({ key: plaintext, duration: '30d' })).toBe(false);
    expect(idempotent({ key: plaintext, duration: null })).toBe(false);
  });

  it('sends a plaintext key only to /key/generate; elsewhere its hash', () => {
    const sent = (entry: Endpoint, request: unknown) => {
      const valid: unknown = entry.request.parse(request);
      return JSON.stringify(entry.wire ? entry.wire(valid) : valid);
    };
    for (const entry of [
      endpoints.keyInfo,
      endpoints.updateKey,
      endpoints.blockKey,
      endpoints.unblockKey,
    ] as Endpoint[]) {
      const wire = sent(entry, { key: plaintext });
      expect(wire, entry.path).not.toContain(plaintext);
      expect(wire, entry.path).toContain(hashKey(plaintext));
    }
    const deleted = sent(endpoints.deleteKeys, {
      keys: [plaintext, hashKey('sk-other-000000000')],
    });
    expect(deleted).toBe(
      JSON.stringify({ keys: [hashKey(plaintext), hashKey('sk-other-000000000')] }),
    );
    expect(sent(endpoints.generateKey, { key: plaintext })).toContain(plaintext);
  });

  it('names the plaintext keys of a request as secrets to redact', () => {
    expect(endpoints.generateKey.secrets?.({ key: plaintext })).toEqual([plaintext]);
    expect(endpoints.deleteKeys.secrets?.({ key_aliases: ['a'] })).toEqual([]);
  });

  it('sends auto_create_key=false to /user/new unless told otherwise', () => {
    expect(endpoints.newUser.request.parse({ user_id: 'u' })).toEqual({
      user_id: 'u',
      auto_create_key: false,
    });
    expect(
      endpoints.newUser.request.parse({ user_id: 'u', auto_create_key: true }).auto_create_key,
    ).toBe(true);
  });
});
