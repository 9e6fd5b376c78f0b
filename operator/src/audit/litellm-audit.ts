// The operator's audit records: one per write the LiteLLM client sends (its onWrite hook, so
// no change to LiteLLM escapes the trail, whichever controller makes it). The action comes
// from the endpoint, the LiteLLM id from the request's id field (a key by its hash), the
// changes are the other fields sent, and the actor is the operator acting for the Kubernetes
// object the call was made for (CallOptions.subject; the orphan collector names none).
import {
  auditRecord,
  failedWith,
  succeeded,
  type AuditRecord,
  type AuditResult,
  type AuditSink,
} from '../../../contracts/audit/audit-record.ts';
import type { LiteLLMWrite } from '../litellm/client.ts';
import { LiteLLMError } from '../litellm/errors.ts';
import { keyToken } from '../litellm/hash.ts';

/** The action each LiteLLM write path records; a path not listed records as `litellm <path>`. */
export const LITELLM_ACTIONS: Readonly<Record<string, string>> = {
  '/user/new': 'litellm.user.create',
  '/user/update': 'litellm.user.update',
  '/user/delete': 'litellm.user.delete',
  '/team/new': 'litellm.team.create',
  '/team/update': 'litellm.team.update',
  '/team/delete': 'litellm.team.delete',
  '/team/member_add': 'litellm.team.member.add',
  '/team/member_delete': 'litellm.team.member.remove',
  '/team/member_update': 'litellm.team.member.update',
  '/team/block': 'litellm.team.block',
  '/team/unblock': 'litellm.team.unblock',
  '/key/generate': 'litellm.key.create',
  '/key/update': 'litellm.key.update',
  '/key/delete': 'litellm.key.delete',
  '/key/block': 'litellm.key.block',
  '/key/unblock': 'litellm.key.unblock',
};

/** The request fields that name the LiteLLM object, by the path's area, in the order looked for. */
const ID_FIELDS: Readonly<Record<string, readonly string[]>> = {
  key: ['key', 'keys'],
  team: ['team_id', 'team_ids'],
  user: ['user_id', 'user_ids'],
};

/** The audit record of one LiteLLM write. */
export function litellmWriteRecord(write: LiteLLMWrite, now?: Date): AuditRecord {
  const { subject, object } = write.options;
  const sent = (write.request ?? {}) as Record<string, unknown>;
  const area = write.path.split('/')[1] ?? '';
  const idField = ID_FIELDS[area]?.find((field) => sent[field] !== undefined);
  // Everything else sent is what the write changes (a member's user_id, in a team's).
  const changes = Object.fromEntries(Object.entries(sent).filter(([field]) => field !== idField));
  const litellmId = idField === undefined ? undefined : idOf(sent[idField], area === 'key');
  return auditRecord(
    {
      actor: { type: 'operator', for: subject ? describe(subject) : (object ?? 'the operator') },
      action: LITELLM_ACTIONS[write.path] ?? `litellm ${write.path}`,
      ...(subject && { object: subject }),
      ...(litellmId !== undefined && { litellmId }),
      ...(Object.keys(changes).length > 0 && { changes }),
      result: resultOf(write.error),
    },
    { secrets: write.secrets, ...(now && { now }) },
  );
}

/** A sink as the LiteLLM client's onWrite hook. */
export function auditLiteLLMWrites(sink: AuditSink): (write: LiteLLMWrite) => void {
  return (write) => sink.write(litellmWriteRecord(write));
}

function idOf(value: unknown, isKey: boolean): string {
  const ids = (Array.isArray(value) ? value : [value]).map(String);
  // Keys by their hash: /key/generate's plaintext too (every other path already sent hashes).
  return (isKey ? ids.map(keyToken) : ids).join(',');
}

function describe(subject: NonNullable<LiteLLMWrite['options']['subject']>): string {
  return `${subject.kind} ${subject.namespace ? `${subject.namespace}/` : ''}${subject.name}`;
}

function resultOf(error: unknown): AuditResult {
  if (error === undefined) return succeeded;
  if (error instanceof LiteLLMError) return failedWith(error.status, error.kind, error.detail);
  return failedWith(undefined, 'aborted', error instanceof Error ? error.message : String(error));
}
