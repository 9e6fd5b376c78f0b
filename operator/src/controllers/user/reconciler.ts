// Makes a User's LiteLLM user what its spec says, level-based: read the User from the cache
// and the user from LiteLLM, change only the difference, record what happened.
//
// The managed reconciler (../shared/managed/managed-reconciler.ts) does the part every kind
// shares: finalizer, ownership and adoption, deletionPolicy, failures as conditions and
// Events, the jittered resync. What is a User's own is here and in user-client.ts:
//
//   user_id    the User's name, pinned in status.userId once the LiteLLM user is ours: then
//              it stays ours even if someone edits its metadata (that is drift, put right)
//   conflict   the id is held by another object, made outside llm-tenancy (without the
//              adopt annotation), or its e-mail address is taken → LiteLLMUserConflict
//   deleting   deletionPolicy Delete: POST /user/delete (404 is fine); Orphan: the LiteLLM
//              user stays, marked released so the orphan collector spares it
//
// A reconcile that changes nothing makes one read and no write, status included. Success
// asks to run again after the (jittered) resync interval, because LiteLLM drifts without
// telling Kubernetes; so does a conflict, which clears up outside Kubernetes.
import type { Team, User } from '../../../../crds/api/index.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { UserRow } from '../../litellm/schemas.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import type { ResourceType } from '../../runtime/discovery.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { Finalizers } from '../../runtime/finalizers.ts';
import type { Request } from '../../runtime/request.ts';
import type { Result } from '../../runtime/result.ts';
import type { StatusWriter } from '../../runtime/status.ts';
import { ManagedReconciler, type ManagedKind } from '../shared/managed/managed-reconciler.ts';
import { ADOPT_ANNOTATION, type Ownership } from '../shared/ownership.ts';
import { USER_CONFLICT, UserClient } from './user-client.ts';
import { nextUserStatus, notReadyConditions } from './user-status.ts';
import { teamsOf } from './user-teams.ts';

export { ADOPT_ANNOTATION, USER_CONFLICT };
export const USER_FINALIZER = 'llmtenancy.dev/cleanup';
export const USER_FIELD_MANAGER = 'llm-tenancy-user';

export interface UserReconcilerDeps {
  users: ObjectStore<User>;
  teams: ObjectStore<Team>;
  litellm: LiteLLMClient;
  statusWriter: StatusWriter;
  finalizers: Finalizers;
  events: Pick<EventRecorder, 'record'>;
  userResource: ResourceType;
  /** How often a Ready User is checked against LiteLLM again (± 10 %). */
  resyncIntervalMs: number;
  /** Stamped into every LiteLLM user this installation makes; others' are never touched. */
  installationId: string;
  now?: () => Date;
}

export class UserReconciler implements Reconciler {
  readonly #managed: ManagedReconciler<User, UserRow>;

  constructor(deps: UserReconcilerDeps) {
    this.#managed = new ManagedReconciler({
      kind: userKind(deps),
      lookup: (request) => deps.users.getByName(request.name),
      finalizers: deps.finalizers,
      status: deps.statusWriter,
      recorder: deps.events,
      installationId: deps.installationId,
      resyncIntervalMs: deps.resyncIntervalMs,
      now: deps.now,
    });
  }

  reconcile(request: Request, context: ReconcileContext): Promise<Result> {
    return this.#managed.reconcile(request, context);
  }
}

/** What makes a User's reconcile a User's. */
export function userKind(
  deps: Pick<UserReconcilerDeps, 'litellm' | 'teams' | 'userResource'>,
): ManagedKind<User, UserRow> {
  return {
    kind: 'User',
    resource: deps.userResource,
    finalizer: USER_FINALIZER,
    connect: (user, context) => new UserClient(user, context, deps),
    notReadyStatus: (current, { reason, message, failed, generation }, now) =>
      nextUserStatus(
        current.status,
        {
          generation,
          teams: teamsOf(current.metadata.name!, deps.teams.list()),
          // A failed call changes nothing of what status recorded; a conflict means the
          // LiteLLM user is not (or no longer) this User's.
          userId: failed ? current.status?.userId : undefined,
          spend: undefined,
          conditions: notReadyConditions(reason, message),
        },
        now,
      ),
    conflictReason: USER_CONFLICT,
    conflictMessage,
    cleansUp: new Set<Ownership>(['ours']),
    pinned: (user) => user.status?.userId === user.metadata.name,
    adopted: (userId, ownership) => ({
      reason: 'Adopted',
      action: 'UpdateUser',
      note:
        ownership === 'previous-incarnation'
          ? `Adopted LiteLLM user ${userId}, left behind by an earlier User of this name`
          : `Adopted LiteLLM user ${userId} as the ${ADOPT_ANNOTATION} annotation asks`,
    }),
    restored: (userId) => ({
      reason: 'MetadataRestored',
      action: 'UpdateUser',
      note: `Restored the ownership metadata of LiteLLM user ${userId}`,
    }),
    orphaned: (userId) => ({
      reason: 'Orphaned',
      action: 'DeleteUser',
      note: `Left LiteLLM user ${userId} in place (deletionPolicy: Orphan)`,
    }),
    deleted: (userId) => ({
      reason: 'Deleted',
      action: 'DeleteUser',
      note: `Deleted LiteLLM user ${userId}`,
    }),
  };
}

function conflictMessage(
  userId: string,
  ownership: 'other-owner' | 'unmanaged',
  holder: string,
): string {
  if (ownership === 'other-owner') {
    return `LiteLLM user ${userId} already exists and llm-tenancy manages it for ${holder}; delete that object (or the LiteLLM user) first`;
  }
  return `LiteLLM user ${userId} already exists and was not created by llm-tenancy; to adopt it, set the annotation ${ADOPT_ANNOTATION}: "true" on this User (its settings are then replaced by this User's)`;
}
