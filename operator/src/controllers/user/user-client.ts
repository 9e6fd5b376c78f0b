// The LiteLLM user `user_id = <User name>` as the managed reconciler drives it
// (../shared/managed/external-client.ts):
//
//   observe  GET /user/info (404: there is none); up to date when no field differs
//   create   POST /user/new (never /user/update, which would silently create it); a 409
//            that observe cannot explain (the e-mail address is taken by another user) is
//            a LiteLLMUserConflict
//   update   POST /user/update with only the fields that differ (and metadata when the
//            managed reconciler gives some)
//   delete   POST /user/delete
//   status   userId, teams (from the Teams' member lists), spend, Ready and Synced
import type { Team, User, UserStatus } from '../../../../crds/api/index.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { LiteLLMError } from '../../litellm/errors.ts';
import type { UserRow } from '../../litellm/schemas.ts';
import type { ObjectStore } from '../../runtime/cache.ts';
import type {
  ExternalClient,
  ExternalContext,
  ExternalObservation,
  Observed,
  Waiting,
} from '../shared/managed/external-client.ts';
import { unlessNotFound } from '../shared/managed/unless-not-found.ts';
import { moneyFromNumber } from '../shared/money.ts';
import {
  desiredUserFields,
  newUserFields,
  userFieldChanges,
  type ObservedUser,
  type UserFields,
} from './litellm-user.ts';
import { nextUserStatus, reconciledConditions } from './user-status.ts';
import { teamsOf } from './user-teams.ts';

export const USER_CONFLICT = 'LiteLLMUserConflict';

export class UserClient implements ExternalClient<User, UserRow> {
  readonly id: string;
  readonly #user: User;
  readonly #litellm: LiteLLMClient;
  readonly #teams: ObjectStore<Team>;
  readonly #context: ExternalContext;
  readonly #desired: UserFields;

  constructor(
    user: User,
    context: ExternalContext,
    deps: { litellm: LiteLLMClient; teams: ObjectStore<Team> },
  ) {
    this.id = user.metadata.name!;
    this.#user = user;
    this.#litellm = deps.litellm;
    this.#teams = deps.teams;
    this.#context = context;
    this.#desired = desiredUserFields(user.spec);
  }

  async observe(): Promise<ExternalObservation<UserRow>> {
    const info = await unlessNotFound(() => this.#litellm.userInfo(this.id, this.#context.call));
    const row = info?.user_info;
    if (!row) return { exists: false };
    const upToDate = !userFieldChanges(this.#desired, observedFields(row));
    return { exists: true, resource: row, metadata: row.metadata, upToDate };
  }

  async create(metadata: Record<string, string>): Promise<Observed<UserRow>> {
    const created = await this.#litellm.newUser(
      { user_id: this.id, ...newUserFields(this.#desired), metadata },
      this.#context.call,
    );
    this.#context.changes.push({
      reason: 'Created',
      action: 'CreateUser',
      note: `Created LiteLLM user ${this.id}`,
    });
    // Made from the spec just now: up to date, with the metadata we sent.
    const spend = typeof created.spend === 'number' ? created.spend : 0;
    return { resource: { user_id: this.id, spend }, metadata, upToDate: true };
  }

  createConflict(conflict: LiteLLMError): Waiting {
    return {
      kind: 'waiting',
      reason: USER_CONFLICT,
      message: `LiteLLM refused to create user ${this.id}: ${conflict.detail} (another LiteLLM user has this e-mail address?)`,
    };
  }

  async update(
    observed: Observed<UserRow>,
    metadata: Record<string, unknown> | undefined,
  ): Promise<void> {
    const changes = userFieldChanges(this.#desired, observedFields(observed.resource));
    await this.#litellm.updateUser(
      { user_id: this.id, ...changes, ...(metadata ? { metadata } : {}) },
      this.#context.call,
    );
    if (changes) {
      const fields = Object.keys(changes).sort().join(', ');
      this.#context.changes.push({
        reason: 'Updated',
        action: 'UpdateUser',
        note: `Updated LiteLLM user ${this.id}: ${fields}`,
      });
    }
  }

  async updateMetadata(_observed: Observed<UserRow>, metadata: Record<string, unknown>) {
    await this.#litellm.updateUser({ user_id: this.id, metadata }, this.#context.call);
  }

  async delete(): Promise<void> {
    await this.#litellm.deleteUsers([this.id], this.#context.call);
  }

  syncedStatus(current: User, observed: Observed<UserRow>, now: Date): UserStatus {
    return nextUserStatus(
      current.status,
      {
        generation: this.#user.metadata.generation,
        teams: teamsOf(this.id, this.#teams.list()),
        userId: this.id,
        spend: moneyFromNumber(observed.resource.spend),
        conditions: reconciledConditions(this.id),
      },
      now,
    );
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
