// The gateway's audit records: what a person (or the master key's bootstrap admin) did on the
// people side: signed in or out, used the master key, got a User at first login, created or
// revoked a key. Each write to Kubernetes the action made carries the API server's Audit-Id,
// so the record joins the API server's audit log, which tells the same write as the
// impersonated person (README, "Audit trail").
import {
  auditRecord,
  failedWith,
  type AuditActor,
  type AuditRecord,
  type AuditResult,
} from '../../../contracts/audit/audit-record.ts';
import { OpenAIError } from '../errors/openai-error.ts';
import type { Principal } from '../signin/principal.ts';

/** The principal as an audit actor: the User's name (the login for the master key), groups. */
export function personActor(principal: Principal): AuditActor {
  return {
    type: 'person',
    name: principal.userName || principal.login,
    groups: principal.groups,
    via: principal.via,
  };
}

/** A record of `actor`'s action. */
export function personRecord(
  actor: AuditActor | Principal,
  fields: Omit<AuditRecord, 'time' | 'actor'>,
): AuditRecord {
  return auditRecord({ actor: 'type' in actor ? actor : personActor(actor), ...fields });
}

/** How a refused or failed action ended: an OpenAI-shaped refusal's status and reason. */
export function refusedWith(error: unknown): AuditResult {
  if (error instanceof OpenAIError)
    return failedWith(error.statusCode, error.reason, error.message);
  return failedWith(500, 'internal_error', error instanceof Error ? error.message : undefined);
}
