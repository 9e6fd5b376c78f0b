// The audit trail's one record shape, shared by both programs: who (a person, or the operator
// acting for a named object) did what (the action) to which object (its Kubernetes name and
// uid, and its LiteLLM id), which fields it set, and how it ended. One JSON line per record
// (audit-log.ts); Kubernetes' own audit log joins it through `kubernetesAuditId` (README,
// "Audit trail").
//
// No secret ever: every record passes through withoutSecrets before any sink sees it. A key
// value becomes its SHA-256 hash (the LiteLLM token, as status.keyId shows it), whatever field
// it hides in; fields that name a credential (authorization, cookies, tokens, passwords) are
// replaced outright; a "Bearer …" anywhere loses its token.
import { hashKey, isKeyHash } from '../routing/key-hash.ts';

/** A person (a session, or the master key's bootstrap admin), or the operator for an object. */
export type AuditActor =
  | {
      type: 'person';
      name: string;
      groups?: readonly string[];
      via?: 'session' | 'cli' | 'master-key';
    }
  | { type: 'operator'; for: string };

/** The Kubernetes object the action was about. */
export interface AuditObject {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export type AuditResult =
  { outcome: 'ok' } | { outcome: 'error'; status?: number; reason?: string; message?: string };

export interface AuditRecord {
  /** ISO 8601, when the action's outcome was known. */
  time: string;
  actor: AuditActor;
  /** e.g. litellm.key.create, selfservice.key.delete, signin.login. */
  action: string;
  object?: AuditObject;
  /** The id in LiteLLM: team_id, user_id, or a key's hash. */
  litellmId?: string;
  /** The fields the action set, by name; secrets only as hashes. */
  changes?: Record<string, unknown>;
  result: AuditResult;
  /** The Audit-Id the Kubernetes API server answered the action's request with. */
  kubernetesAuditId?: string;
}

/** Where records go: the audit log stream (audit-log.ts), and any other sink (a webhook). */
export interface AuditSink {
  /** Never throws and never waits: the action it records has already happened. */
  write(record: AuditRecord): void;
}

/** A sink that drops everything: for parts built without an audit trail (tests, tools). */
export const noAudit: AuditSink = { write() {} };

/** Field names whose values are credentials: never written, not even hashed. */
const CREDENTIAL_FIELD =
  /^(authorization|cookie|set-cookie|password|secret|client_?secret|session_?secret|id_?token|refresh_?token|access_?token|master_?key|csrf_?token|api_?key)$/i;
/** Field names holding LiteLLM keys: written as their hashes. */
const KEY_FIELD = /^(key|keys)$/;
/** A LiteLLM key's shape anywhere in a string (sk-…), caught even where nobody declared it. */
const PLAINTEXT_KEY = /\bsk-[A-Za-z0-9_-]{13,}/g;
const BEARER = /\b(Bearer)\s+[^\s,;"]+/gi;

/**
 * `value` with every secret hidden: each of `secrets` (and any sk-… key) replaced by its
 * hash, credential fields by "[redacted]", Bearer tokens cut. Returns a copy.
 */
export function withoutSecrets<T>(value: T, secrets: readonly string[] = []): T {
  // A hash is no secret (a caller may list the keys it was given, hashes among them).
  const known = secrets.filter((s) => s.length > 0 && !isKeyHash(s));
  const hideIn = (text: string): string => {
    let out = text;
    for (const secret of known) out = out.split(secret).join(hashKey(secret));
    return out.replace(PLAINTEXT_KEY, (key) => hashKey(key)).replace(BEARER, '$1 [redacted]');
  };
  const walk = (v: unknown, field: string | undefined): unknown => {
    if (field !== undefined && CREDENTIAL_FIELD.test(field)) return '[redacted]';
    if (typeof v === 'string') {
      if (field !== undefined && KEY_FIELD.test(field) && !isKeyHash(v)) return hashKey(v);
      return hideIn(v);
    }
    if (Array.isArray(v))
      return v.map((item) => walk(item, field && KEY_FIELD.test(field) ? field : undefined));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [hideIn(k), walk(item, k)]));
    }
    return v;
  };
  return walk(value, undefined) as T;
}

/** A record stamped with the time, secrets hidden: the one way records are made. */
export function auditRecord(
  fields: Omit<AuditRecord, 'time'>,
  options: { secrets?: readonly string[]; now?: Date } = {},
): AuditRecord {
  const time = (options.now ?? new Date()).toISOString();
  return withoutSecrets({ time, ...fields }, options.secrets);
}

/** A failure as a record's result: the HTTP status and a reason, the message secret-free. */
export function failedWith(
  status: number | undefined,
  reason: string,
  message?: string,
): AuditResult {
  return {
    outcome: 'error',
    ...(status !== undefined && { status }),
    reason,
    ...(message !== undefined && { message: message.slice(0, 500) }),
  };
}

export const succeeded: AuditResult = { outcome: 'ok' };
