// Makes a User's LiteLLM user what its spec says, level-based: read the User from the cache
// and the user from LiteLLM, change only the difference, record what happened.
//
//   user_id          the User's name, pinned in status.userId once the LiteLLM user is ours
//   observe          GET /user/info (404: there is none)
//   create           POST /user/new (never /user/update, which would silently create it);
//                    409 means the id (or the e-mail) is taken: look again and decide by
//                    ownership, as Teams do: ours or a previous incarnation of this User is
//                    adopted, anything else is a LiteLLMUserConflict on the User
//   update           POST /user/update with only the fields that differ (nothing: no write)
//   delete           deletionPolicy Delete: POST /user/delete (404 is fine); Orphan: the
//                    LiteLLM user stays, marked released so the orphan collector spares it
//
// A reconcile that changes nothing makes one read and no write, status included. Success
// asks to run again after the (jittered) resync interval, because LiteLLM drifts without
// telling Kubernetes.
import type { User } from '../../../../crds/api/index.ts';
import { findLiteLLMError } from '../../litellm/errors.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { UserRow } from '../../litellm/schemas.ts';
import { jittered } from '../../runtime/backoff.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import type { ConditionUpdate } from '../../runtime/conditions.ts';
import type { ResourceType } from '../../runtime/discovery.ts';
import type { EventRecorder, EventSpec } from '../../runtime/events.ts';
import { Finalizers } from '../../runtime/finalizers.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { Request } from '../../runtime/request.ts';
import { done, type Result } from '../../runtime/result.ts';
import type { StatusWriter } from '../../runtime/status.ts';
import type { Team } from '../../../../crds/api/index.ts';
import {
  litellmFailure,
  reconcileErrorFor,
  type LiteLLMFailure,
} from '../shared/litellm-failure.ts';
import { moneyFromNumber } from '../shared/money.ts';
import {
  hasOwnerMetadata,
  holderOf,
  mergeOwnerMetadata,
  ofAnotherInstallation,
  ownerMetadata,
  ownershipOf,
  OWNER_KEY,
  type OwnerRef,
  type Ownership,
} from '../shared/ownership.ts';
import { isReleased, withoutReleasedMark, withReleasedMark } from '../shared/released.ts';
import {
  desiredUserFields,
  newUserFields,
  userFieldChanges,
  type ObservedUser,
} from './litellm-user.ts';
import { nextUserStatus, notReadyConditions, reconciledConditions } from './user-status.ts';
import { teamsOf } from './user-teams.ts';

export const USER_FINALIZER = 'llmtenancy.dev/cleanup';
export const USER_FIELD_MANAGER = 'llm-tenancy-user';
/** Set to "true" on a User to take over a LiteLLM user llm-tenancy did not create. */
export const ADOPT_ANNOTATION = 'llmtenancy.dev/adopt';
export const USER_CONFLICT = 'LiteLLMUserConflict';

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

/** What making LiteLLM match found: the row it ended with, or why it would not. */
type SyncOutcome =
  { kind: 'synced'; spend: number | null | undefined } | { kind: 'conflict'; message: string };

interface Call {
  object: string;
  signal: AbortSignal;
}

export class UserReconciler implements Reconciler {
  readonly #deps: UserReconcilerDeps;
  readonly #now: () => Date;

  constructor(deps: UserReconcilerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  async reconcile(request: Request, context: ReconcileContext): Promise<Result> {
    const user = this.#deps.users.getByName(request.name);
    if (!user) return done; // gone: the finalizer made sure LiteLLM was cleaned up first
    return this.#deps.finalizers.reconcile(user, USER_FINALIZER, {
      apply: (current) => this.#apply(current, context),
      cleanup: (current) => this.#cleanup(current, context),
    });
  }

  async #apply(user: User, { log, signal }: ReconcileContext): Promise<Result> {
    const name = user.metadata.name!;
    const call = { object: `User ${name}`, signal };
    let outcome: SyncOutcome;
    try {
      outcome = await this.#sync(user, call);
    } catch (err) {
      throw await this.#failed(user, err, log);
    }
    await this.#writeStatus(
      user,
      outcome.kind === 'synced'
        ? {
            userId: name,
            spend: moneyFromNumber(outcome.spend),
            conditions: reconciledConditions(name),
          }
        : {
            userId: undefined,
            spend: undefined,
            conditions: notReadyConditions(USER_CONFLICT, outcome.message),
          },
    );
    // A conflict clears up outside Kubernetes (someone deletes the LiteLLM user): look again
    // at the resync interval, as for drift.
    return { requeueAfter: jittered(this.#deps.resyncIntervalMs, 0.1) };
  }

  async #sync(user: User, call: Call): Promise<SyncOutcome> {
    const name = user.metadata.name!;
    const owner = this.#ownerOf(user);
    const desired = desiredUserFields(user.spec);
    let row = await this.#observe(name, call);
    if (!row) {
      try {
        const created = await this.#deps.litellm.newUser(
          { user_id: name, ...newUserFields(desired), metadata: ownerMetadata(owner) },
          call,
        );
        await this.#event(user, 'Normal', 'Created', 'CreateUser', `Created LiteLLM user ${name}`);
        return { kind: 'synced', spend: typeof created.spend === 'number' ? created.spend : 0 };
      } catch (err) {
        const conflict = findLiteLLMError(err);
        if (conflict?.kind !== 'conflict') throw err;
        // Taken: by our own earlier attempt whose answer was lost, or by someone else.
        row = await this.#observe(name, call);
        if (!row) {
          return this.#conflict(
            user,
            `LiteLLM refused to create user ${name}: ${conflict.detail} (another LiteLLM user has this e-mail address?)`,
          );
        }
      }
    }

    const ownership = this.#ownership(user, row);
    const adoptOnRequest =
      ownership === 'unmanaged' && user.metadata.annotations?.[ADOPT_ANNOTATION] === 'true';
    if (ownership === 'other-owner' || (ownership === 'unmanaged' && !adoptOnRequest)) {
      return this.#conflict(
        user,
        conflictMessage(name, ownership, holderOf(row.metadata, this.#deps.installationId)),
      );
    }
    const changes = userFieldChanges(desired, observedFields(row));
    const metadataStale = !hasOwnerMetadata(row.metadata, owner) || isReleased(row.metadata);
    if (!changes && !metadataStale) return { kind: 'synced', spend: row.spend };

    await this.#deps.litellm.updateUser(
      {
        user_id: name,
        ...changes,
        ...(metadataStale
          ? { metadata: withoutReleasedMark(mergeOwnerMetadata(row.metadata, owner)) }
          : {}),
      },
      call,
    );
    if (metadataStale) {
      const reason = ownership === 'ours' ? 'MetadataRestored' : 'Adopted';
      await this.#event(user, 'Normal', reason, 'UpdateUser', adoptedNote(name, ownership));
    }
    if (changes) {
      const fields = Object.keys(changes).sort().join(', ');
      await this.#event(
        user,
        'Normal',
        'Updated',
        'UpdateUser',
        `Updated LiteLLM user ${name}: ${fields}`,
      );
    }
    return { kind: 'synced', spend: row.spend };
  }

  async #cleanup(user: User, { log, signal }: ReconcileContext): Promise<Result> {
    const name = user.metadata.name!;
    const call = { object: `User ${name}`, signal };
    try {
      const row = await this.#observe(name, call);
      if (!row) return done; // never created, or already gone
      if (this.#ownership(user, row) !== 'ours') {
        log.info({ owner: row.metadata?.[OWNER_KEY] }, 'LiteLLM user is not ours; left as it is');
        return done;
      }
      if (user.spec.deletionPolicy === 'Orphan') {
        if (!isReleased(row.metadata)) {
          await this.#deps.litellm.updateUser(
            { user_id: name, metadata: withReleasedMark(row.metadata, this.#now()) },
            call,
          );
        }
        await this.#event(
          user,
          'Normal',
          'Orphaned',
          'DeleteUser',
          `Left LiteLLM user ${name} in place (deletionPolicy: Orphan)`,
        );
        return done;
      }
      try {
        await this.#deps.litellm.deleteUsers([name], call);
      } catch (err) {
        if (findLiteLLMError(err)?.kind !== 'notFound') throw err;
      }
      await this.#event(user, 'Normal', 'Deleted', 'DeleteUser', `Deleted LiteLLM user ${name}`);
      return done;
    } catch (err) {
      throw await this.#failed(user, err, log);
    }
  }

  /** GET /user/info; undefined when LiteLLM has no such user. */
  async #observe(userId: string, call: Call): Promise<UserRow | undefined> {
    try {
      return (await this.#deps.litellm.userInfo(userId, call)).user_info ?? undefined;
    } catch (err) {
      if (findLiteLLMError(err)?.kind === 'notFound') return undefined;
      throw err;
    }
  }

  /**
   * Whose the LiteLLM user is. A User that has pinned it (status.userId) owns it even if
   * someone edited the metadata since: that is drift, put right like any other field.
   */
  #ownership(user: User, row: UserRow): Ownership {
    // …but never one another installation holds: that one would then put it back, forever.
    const pinned =
      user.status?.userId === user.metadata.name &&
      !ofAnotherInstallation(row.metadata, this.#deps.installationId);
    if (pinned) return 'ours';
    return ownershipOf(row.metadata, this.#ownerOf(user));
  }

  #ownerOf(user: User): OwnerRef {
    return {
      kind: 'User',
      name: user.metadata.name!,
      uid: user.metadata.uid!,
      installation: this.#deps.installationId,
    };
  }

  async #conflict(user: User, message: string): Promise<SyncOutcome> {
    await this.#event(user, 'Warning', USER_CONFLICT, 'CreateUser', message);
    return { kind: 'conflict', message };
  }

  /**
   * Records a failed LiteLLM call on the User (status first, then an Event) and returns
   * what to throw: TerminalError when retrying cannot help, the error itself otherwise.
   */
  async #failed(user: User, err: unknown, log: Logger): Promise<unknown> {
    const failure: LiteLLMFailure | undefined = litellmFailure(err);
    if (!failure) return err;
    try {
      await this.#writeStatus(user, {
        userId: user.status?.userId,
        spend: undefined,
        conditions: notReadyConditions(failure.reason, failure.message),
      });
    } catch (statusError) {
      // The LiteLLM failure is what gets retried; the next attempt writes status again.
      log.warn({ err: statusError }, 'writing User status failed');
    }
    await this.#event(user, 'Warning', failure.reason, 'Reconcile', failure.message);
    return reconcileErrorFor(failure, err);
  }

  async #writeStatus(
    user: User,
    found: { userId: string | undefined; spend: string | undefined; conditions: ConditionUpdate[] },
  ): Promise<void> {
    const observation = {
      generation: user.metadata.generation,
      teams: teamsOf(user.metadata.name!, this.#deps.teams.list()),
      ...found,
    };
    await this.#deps.statusWriter.update(this.#deps.userResource, user, (current: User) =>
      nextUserStatus(current.status, observation, this.#now()),
    );
  }

  async #event(
    user: User,
    type: EventSpec['type'],
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    await this.#deps.events.record(user, { type, reason, action, note });
  }
}

function observedFields(row: UserRow): ObservedUser {
  return {
    user_email: row.user_email ?? null,
    user_alias: row.user_alias ?? null,
    user_role: (row.user_role ?? undefined) as ObservedUser['user_role'],
    models: row.models ?? [],
    max_budget: row.max_budget ?? null,
    budget_duration: row.budget_duration ?? null,
    tpm_limit: row.tpm_limit ?? null,
    rpm_limit: row.rpm_limit ?? null,
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

function adoptedNote(userId: string, ownership: Ownership): string {
  switch (ownership) {
    case 'previous-incarnation':
      return `Adopted LiteLLM user ${userId}, left behind by an earlier User of this name`;
    case 'unmanaged':
      return `Adopted LiteLLM user ${userId} as the ${ADOPT_ANNOTATION} annotation asks`;
    default:
      return `Restored the ownership metadata of LiteLLM user ${userId}`;
  }
}
