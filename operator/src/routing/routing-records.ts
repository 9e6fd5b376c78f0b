// Routing records as the publisher stores them: validated against the shared schema, then
// serialised canonically (object keys sorted at every level), so equal policies are equal
// strings however the compiler happened to build them. Equal strings are what makes an
// unchanged put a no-op, and what the gateway compares against its cache.
import type { z } from 'zod';
import {
  KeyPolicy,
  ModelRoutes,
  parseRoutingJson,
  type KeyPolicy as KeyPolicyType,
  type ModelRoutes as ModelRoutesType,
} from '../../../contracts/routing/schema.ts';
import { InvalidRoutingRecordError } from './routing-errors.ts';

export interface EncodedKeyPolicy {
  keyHash: string;
  json: string;
}

/** JSON with every object's keys sorted; arrays keep their order (it may mean something). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

function validated<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    // Issue paths and messages only: the values may be anything the caller passed.
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new InvalidRoutingRecordError(`invalid ${what}: ${issues}`);
  }
  return parsed.data;
}

export function encodeKeyPolicy(policy: KeyPolicyType): EncodedKeyPolicy {
  const valid = validated(KeyPolicy, policy, 'KeyPolicy');
  return { keyHash: valid.keyHash, json: canonicalJson(valid) };
}

export function encodeModelRoutes(routes: ModelRoutesType): string {
  return canonicalJson(validated(ModelRoutes, routes, 'ModelRoutes'));
}

/** A field of the keys hash as read back from Redis. */
export type StoredRecord =
  | { valid: true; policy: KeyPolicyType }
  | { valid: false; reason: 'unparseable' | 'hash mismatch' };

/**
 * Reads one stored record: a record that is not a current KeyPolicy (an older or newer
 * shape, garbage) or that sits under another hash than its own cannot be served.
 */
export function readStoredRecord(field: string, json: string): StoredRecord {
  const policy = parseRoutingJson(KeyPolicy, json);
  if (!policy) return { valid: false, reason: 'unparseable' };
  if (policy.keyHash !== field) return { valid: false, reason: 'hash mismatch' };
  return { valid: true, policy };
}
