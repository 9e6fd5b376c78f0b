// A VirtualKey's keys in LiteLLM as the managed reconciler drives them
// (../shared/managed/external-client.ts). Built once per reconcile: access (team, user,
// models, or why not) is decided from the caches, so observe reads the Secret and one key.
//
//   observe   the Secret (cached; another object's of that name → SecretConflict) and the
//             key status recorded, if the Secret holds it: one snapshot row or /key/info.
//             Up to date when nothing below would write
//   ownership row by row (owned-keys.ts): a key whose metadata names anything but this
//             VirtualKey is never updated, blocked or deleted
//   create    no key registered yet (none in the Secret, or LiteLLM has none or deleted it),
//   update    or one to bring in line: both run the one pipeline below, in this order:
//     previous  past its grace period → deleted
//     value     the Secret's when status recorded it; else (access allowing) a fresh one,
//               recorded in status, then written to the Secret (key-values.ts)
//     rotation  due → a fresh value the same way; the old one kept for the grace period
//     litellm   previous key, then current: /key/generate when unknown (a fresh value first
//               when LiteLLM deleted it), else the smallest /key/update, /key/block, /key/unblock
//   publish   the gateway's records of the current (and previous) key (key-policy.ts)
//   status    keyId (hash), models, missing models, expiry, rotation state, conditions
//   delete    every key status records, from status alone (a namespace's deletion may
//             have removed the Secret first), and their gateway records
import type { V1Secret } from '@kubernetes/client-node';
import type { VirtualKey, VirtualKeyStatus } from '../../../../crds/api/index.ts';
import type { KeyPolicy } from '../../../../contracts/routing/schema.ts';
import type { KeyRow } from '../../litellm/schemas.ts';
import { isDeleting } from '../../runtime/object.ts';
import type {
  Change,
  ExternalClient,
  ExternalContext,
  ExternalObservation,
  Observed,
  Waiting,
} from '../shared/managed/external-client.ts';
import type { OwnerRef, Ownership } from '../shared/ownership.ts';
import { SUBSCRIPTIONS_BY_NAMESPACE, TEAMS_BY_NAMESPACE } from '../shared/indexes.ts';
import { NO_ADMISSION_POLICY } from './admission-policy.ts';
import { keyAccess, type KeyAccess } from './key-access.ts';
import { budgetExceeded, type KeySpend } from './key-budget.ts';
import {
  freshMaterial,
  supersede,
  type KeyMaterial,
  type PreviousKey,
  type RecordedKeys,
  type SecretValue,
} from './key-material.ts';
import { budgetPeriods, keyPolicy } from './key-policy.ts';
import { isRoutingUnavailable, type KeyRouting } from './key-routing.ts';
import {
  keyDeadlines,
  keyExpiresAt,
  nextRotationAt,
  requeueAfterMs,
  rotationDue,
  rotationGraceMs,
} from './key-schedule.ts';
import { legacyPreviousKey, secretLayout, type SecretLayout } from './key-secret.ts';
import { keyStatus, notReadyReason, recordedKeys, type KeyOutcome } from './key-status.ts';
import { SECRET_CONFLICT, SecretNameTakenError, type KeyValues } from './key-values.ts';
import {
  generateRequest,
  keyAlias,
  keyLimitFields,
  keyUpdates,
  type DesiredKey,
} from './litellm-key.ts';
import { isOwnKey, keyInSync, type OwnedKeys } from './owned-keys.ts';
import { spendFieldsOf, type SpendFields } from '../spend/spend-status.ts';
import type { Team } from '../../../../crds/api/index.ts';
import type { VirtualKeyStores } from './watches.ts';

/** The current key's row as observed: undefined when LiteLLM has none. */
export type KeyObserved = KeyRow | undefined;

export const KEY_CONFLICT_MESSAGE =
  'the key in the Secret is registered in LiteLLM for something else; delete the Secret to mint a new key';

export interface KeyClientDeps {
  keys: OwnedKeys;
  stores: VirtualKeyStores;
  routing: KeyRouting;
  values: KeyValues;
  installationId: string;
}

export class KeyClient implements ExternalClient<VirtualKey, KeyObserved> {
  readonly id: string;
  readonly #deps: KeyClientDeps;
  readonly #context: ExternalContext;
  readonly #owner: OwnerRef;
  readonly #access: KeyAccess;
  readonly #team: Team | undefined;
  readonly #subscriptions: ReturnType<VirtualKeyStores['subscriptions']['list']>;
  readonly #expiresAt: Date | undefined;
  readonly #expired: boolean;
  readonly #layout: SecretLayout;
  readonly #blockedReason: string | undefined;
  readonly #canWork: boolean;
  readonly #desired: DesiredKey;
  /** The VirtualKey as last written (status records key values before LiteLLM hears of them). */
  #key: VirtualKey;
  #recorded: RecordedKeys;
  #secret: V1Secret | undefined;
  #found: SecretValue = { kind: 'none' };
  /** The row observe read for the recorded key (a deleted one included). */
  #row: KeyRow | undefined;
  #material: KeyMaterial | undefined;
  /** Hashes of values minted in this reconcile: LiteLLM cannot know them, so is not asked. */
  readonly #mintedNow = new Set<string>();
  /** Spend and budget of a key registered in this reconcile, as LiteLLM answered. */
  #registered: SpendFields | undefined;
  #spend: { current?: KeySpend; previous?: KeySpend } = {};
  #policies: KeyPolicy[] = [];
  #outcome: KeyOutcome | undefined;

  constructor(key: VirtualKey, context: ExternalContext, deps: KeyClientDeps) {
    const namespace = key.metadata.namespace!;
    const name = key.metadata.name!;
    this.id = `${namespace}/${name}`;
    this.#deps = deps;
    this.#context = context;
    this.#key = key;
    this.#recorded = recordedKeys(key.status);
    this.#owner = {
      kind: 'VirtualKey',
      namespace,
      name,
      uid: key.metadata.uid!,
      installation: deps.installationId,
    };
    const { stores } = deps;
    const teams = stores.teams.byIndex(TEAMS_BY_NAMESPACE, namespace);
    this.#subscriptions = stores.subscriptions.byIndex(SUBSCRIPTIONS_BY_NAMESPACE, namespace);
    this.#access = keyAccess({
      key,
      teams,
      user: key.spec.user ? stores.users.getByName(key.spec.user) : undefined,
      subscriptions: this.#subscriptions,
      admissionPolicy: stores.admission?.state() ?? NO_ADMISSION_POLICY,
    });
    this.#team = teams.length === 1 ? teams[0] : undefined;
    this.#expiresAt = keyExpiresAt(key);
    this.#expired =
      this.#expiresAt !== undefined && context.now.getTime() >= this.#expiresAt.getTime();
    this.#layout = secretLayout(key);
    this.#blockedReason = key.spec.suspended ? 'Suspended' : this.#access.denial?.reason;
    this.#canWork = !this.#blockedReason && !this.#access.wait && !this.#expired;
    this.#desired = {
      alias: keyAlias(namespace, name),
      teamId: this.#access.team?.teamId ?? this.#team?.metadata.name ?? '',
      userId: this.#access.user?.userId,
      models: this.#access.models,
      limits: keyLimitFields(key.spec.limits),
      expiresAt: this.#expiresAt,
      blocked: this.#blockedReason !== undefined,
      owner: this.#owner,
    };
  }

  async observe(): Promise<ExternalObservation<KeyObserved>> {
    if (isDeleting(this.#key)) {
      // Cleanup works from status alone; delete judges each recorded key.
      const recorded = this.#recordedHashes();
      return recorded.length > 0
        ? { exists: true, resource: undefined, metadata: undefined, upToDate: true }
        : { exists: false };
    }
    const { now, call } = this.#context;
    const read = await this.#deps.values.read(this.#key, this.#layout, this.#recorded);
    if (read === 'unavailable') return secretConflict(this.#layout.name);
    this.#secret = read.secret;
    this.#found = read.found;
    if (this.#found.kind !== 'recorded') return { exists: false };

    if (!this.#recorded.previous && this.#secret) {
      const legacy = await this.#legacyPrevious(this.#secret, this.#found.hash);
      if (legacy) this.#recorded = { ...this.#recorded, previous: legacy };
    }
    const row = await this.#deps.keys.observe(this.#found.hash, call, {
      desired: this.#desired,
      now,
    });
    this.#row = row;
    if (!row || row.status === 'deleted') return { exists: false };
    const material = this.#recordedMaterial(this.#found);
    const upToDate =
      !this.#recorded.previous &&
      !rotationDue(this.#key, material, this.#canWork, now) &&
      this.#deps.values.secretUpToDate(this.#key, this.#layout, material, this.#secret) &&
      keyInSync(row, { desired: this.#desired, now });
    if (upToDate) {
      // Nothing to write: the gateway's records and status come from what was observed.
      this.#material = material;
      this.#spend.current = { spend: row.spend, maxBudget: row.max_budget };
      this.#settle();
    }
    return { exists: true, resource: row, metadata: row.metadata, upToDate };
  }

  ownership(observed: Observed<KeyObserved>): Ownership {
    const row = observed.resource;
    return !row || isOwnKey(row, this.#owner) ? 'ours' : 'other-owner';
  }

  /** No key registered for the Secret's value (or no value yet): the whole pipeline. */
  create(): Promise<Observed<KeyObserved> | Waiting> {
    return this.#converge();
  }

  /** A registered key of ours to bring in line: the same pipeline. */
  async update(): Promise<Waiting | undefined> {
    const outcome = await this.#converge();
    return 'kind' in outcome ? outcome : undefined;
  }

  /** VirtualKeys have no deletionPolicy: metadata alone is never written. */
  async updateMetadata(): Promise<void> {}

  async delete(): Promise<void> {
    const { call, changes } = this.#context;
    let deleted = 0;
    for (const hash of this.#recordedHashes()) {
      const outcome = await this.#deps.keys.delete(hash, this.#owner, call);
      if (outcome === 'deleted') deleted++;
      if (outcome === 'not-ours') {
        changes.push(notOurKey('a key status names'));
        continue; // its gateway record, too, is its owner's
      }
      await this.#removeRoute(hash);
    }
    if (deleted > 0) {
      changes.push({ reason: 'Deleted', action: 'DeleteKey', note: 'deleted the key in LiteLLM' });
    }
  }

  /** The gateway's records: a key that must not work is recorded as such, with the reason. */
  async publish(): Promise<void> {
    for (const policy of this.#policies) await this.#deps.routing.putKey(policy);
  }

  latest(): VirtualKey {
    return this.#key;
  }

  syncedStatus(current: VirtualKey, _observed: unknown, now: Date): VirtualKeyStatus {
    return keyStatus(current, this.#outcome!, now);
  }

  dueInMs(now: Date): number | undefined {
    if (!this.#material) return undefined;
    const deadlines = keyDeadlines(this.#key, this.#material, {
      canWork: this.#canWork,
      expiresAt: this.#expiresAt,
      expired: this.#expired,
    });
    return deadlines.length > 0 ? requeueAfterMs(deadlines, now, Infinity) : undefined;
  }

  // ---- the pipeline --------------------------------------------------------------------

  async #converge(): Promise<Observed<KeyObserved> | Waiting> {
    try {
      return await this.#pipeline();
    } catch (err) {
      if (!(err instanceof SecretNameTakenError)) throw err;
      if (err.key) this.#key = err.key;
      return secretConflict(this.#layout.name);
    }
  }

  async #pipeline(): Promise<Observed<KeyObserved> | Waiting> {
    const { now, changes } = this.#context;
    const access = this.#access;
    let recorded = this.#recorded;

    // The previous key: deleted once its grace period is over.
    if (recorded.previous && now >= recorded.previous.validUntil) {
      await this.#discard([recorded.previous.hash]);
      recorded = { ...recorded, previous: undefined };
      changes.push({
        reason: 'PreviousKeyDeleted',
        action: 'DeleteKey',
        note: 'deleted the previous key: its grace period is over',
      });
    }

    // The key value: the Secret's when status recorded it, else a fresh one, recorded in
    // status, then written to the Secret. A value the operator did not make is never used.
    const found = this.#found;
    let material: KeyMaterial;
    if (found.kind === 'recorded') {
      material = { ...this.#recordedMaterial(found), previous: recorded.previous };
    } else {
      const reason = access.denial ?? access.wait;
      if (reason || this.#expired) {
        if (recorded.current) {
          await this.#discard([recorded.current.hash]);
          this.#key = await this.#deps.values.record(this.#key, { previous: recorded.previous });
          changes.push(lostKeyDeleted());
        }
        return {
          kind: 'waiting',
          reason: reason?.reason ?? 'Expired',
          message:
            reason?.message ??
            `the key expired at ${this.#expiresAt!.toISOString()}; it is not made`,
          detail: access,
        };
      }
      const next = supersede(recorded, found, now, rotationGraceMs(this.#key));
      await this.#discard(next.discard);
      material = freshMaterial(now, next.previous);
      await this.#mint(material);
      if (found.kind === 'foreign') {
        changes.push({
          type: 'Warning',
          reason: 'KeyValueReplaced',
          action: 'MintKey',
          note: `Secret ${this.#layout.name} held a key value the operator did not mint; such a value is never registered. Minted a new key into the Secret${next.previous ? `; the previous key works until ${next.previous.validUntil.toISOString()}` : ''}`,
        });
      } else {
        if (recorded.current) changes.push(lostKeyDeleted());
        changes.push({
          reason: 'Minted',
          action: 'MintKey',
          note: `minted a key into Secret ${this.#layout.name}`,
        });
      }
    }

    // Rotation: a new value into the Secret first; the old one stays valid for the grace period.
    if (rotationDue(this.#key, material, this.#canWork, now)) {
      const previous = { hash: material.hash, validUntil: addMs(now, rotationGraceMs(this.#key)) };
      material = freshMaterial(now, previous);
      await this.#mint(material);
      changes.push({
        reason: 'Rotated',
        action: 'RotateKey',
        note: `rotated the key in Secret ${this.#layout.name}; the previous key works until ${previous.validUntil.toISOString()}`,
      });
    }
    this.#secret = await this.#deps.values.write(this.#key, this.#layout, material, this.#secret);

    // LiteLLM, previous key then current.
    if (material.previous) {
      const previous = material.previous;
      const row = await this.#deps.keys.observe(previous.hash, this.#context.call);
      if (row && row.status !== 'deleted' && !isOwnKey(row, this.#owner)) {
        // Status names it, LiteLLM says it is someone else's: never touch it (nor its gateway
        // record, which is its owner's), stop naming it.
        material = { ...material, previous: undefined };
        changes.push(notOurKey('the previous key'));
      } else {
        // Its LiteLLM expiry is the end of its grace period: it ends even without us.
        this.#spend.previous = await this.#syncExisting(
          previous.hash,
          {
            ...this.#desired,
            alias: keyAlias(this.#key.metadata.namespace!, this.#key.metadata.name!, true),
            expiresAt: earliest(this.#expiresAt, previous.validUntil),
          },
          row,
        );
      }
    }
    this.#material = material;
    const current = await this.#syncCurrent(material);
    if ('kind' in current) return current;
    this.#spend.current = current.spend;
    this.#settle();
    return { resource: undefined, metadata: undefined, upToDate: true };
  }

  /**
   * The current key in LiteLLM: registered when unknown, updated when it differs, replaced
   * by a fresh value when LiteLLM deleted it (recorded and written to the Secret before
   * LiteLLM hears of it). Returns its spend and max budget in LiteLLM now (undefined when it
   * is not there), or why the key must wait.
   */
  async #syncCurrent(material: KeyMaterial): Promise<{ spend: KeySpend | undefined } | Waiting> {
    const { now, call, changes } = this.#context;
    const desired = this.#desired;
    const access = this.#access;
    // The row observe read, when it was for this value; none for a value minted just now
    // (it exists nowhere but in status and the Secret); else LiteLLM is asked.
    const observed =
      this.#found.kind === 'recorded' && this.#found.hash === material.hash
        ? this.#row
        : this.#mintedNow.has(material.hash)
          ? undefined
          : await this.#deps.keys.observe(material.hash, call, { desired, now });
    if (observed && observed.status !== 'deleted') {
      if (!isOwnKey(observed, desired.owner)) {
        return { kind: 'waiting', reason: 'LiteLLMKeyConflict', message: KEY_CONFLICT_MESSAGE };
      }
      return { spend: await this.#syncExisting(material.hash, desired, observed) };
    }
    // Unknown, or deleted in LiteLLM. A key that must not work is not (re)made.
    if ((desired.blocked && access.denial) || this.#expired) return { spend: undefined };
    if (access.wait && !observed) {
      // The Secret was written but the key was never registered, and now the key must wait.
      return {
        kind: 'waiting',
        reason: access.wait.reason,
        message: access.wait.message,
        detail: access,
      };
    }
    let registered = material;
    if (observed) {
      // LiteLLM deleted it (a member removed from its team deletes their keys): that value
      // must not come back; a new one goes into the Secret before LiteLLM hears of it.
      registered = freshMaterial(now, material.previous);
      await this.#mint(registered);
      this.#material = registered;
      await this.#deps.routing.removeKey(material.hash);
      changes.push({
        type: 'Warning',
        reason: 'KeyReplaced',
        action: 'MintKey',
        note: 'the key was deleted in LiteLLM; minted a new one into the Secret',
      });
    }
    const row = await this.#deps.keys.generate(
      registered.hash,
      generateRequest(desired, registered.value, now),
      call,
    );
    // A new key's spend is LiteLLM's 0 (and its budget what LiteLLM set up): status says so
    // now, or the spend sync's next pass would write it for every new key.
    this.#registered = spendFieldsOf(row);
    changes.push({
      reason: 'Registered',
      action: 'RegisterKey',
      note: `registered key ${desired.alias} in LiteLLM team ${desired.teamId} with models ${desired.models.join(', ') || '(none)'}`,
    });
    return { spend: { spend: 0, maxBudget: desired.limits.max_budget } };
  }

  /**
   * The smallest update, then block / unblock, for a key of ours LiteLLM has (`row`, as
   * observed; the caller checked it is ours). Returns its spend and max budget after the
   * update; undefined when LiteLLM does not have it.
   */
  async #syncExisting(
    hash: string,
    desired: DesiredKey,
    row: KeyRow | undefined,
  ): Promise<KeySpend | undefined> {
    const { now, call, changes } = this.#context;
    if (!row || row.status === 'deleted') return undefined;
    const spend: KeySpend = { spend: row.spend, maxBudget: row.max_budget };
    if (row.status === 'expired') return spend; // nothing to change on a dead key
    const update = keyUpdates(desired, row, now);
    if (update) {
      await this.#deps.keys.update(hash, update, call);
      changes.push({
        reason: 'Updated',
        action: 'UpdateKey',
        note: `updated key ${desired.alias} in LiteLLM: ${Object.keys(update).join(', ')}`,
      });
    }
    if (update && 'max_budget' in update) spend.maxBudget = update.max_budget;
    const blocked = row.blocked === true;
    if (desired.blocked && !blocked) {
      await this.#deps.keys.block(hash, call);
      changes.push({ reason: 'Blocked', action: 'BlockKey', note: `blocked key ${desired.alias}` });
    } else if (!desired.blocked && blocked) {
      await this.#deps.keys.unblock(hash, call);
      changes.push({
        reason: 'Unblocked',
        action: 'UnblockKey',
        note: `unblocked key ${desired.alias}`,
      });
    }
    return spend;
  }

  /** The gateway records and the status outcome, once LiteLLM is in sync. */
  #settle(): void {
    const material = this.#material!;
    const access = this.#access;
    const key = this.#key;
    const team = this.#team;
    const teamBudget = team?.status?.budget;
    const policy = (
      hash: string,
      spend: KeySpend | undefined,
      periods: KeyPolicy['spendPeriods'],
      until?: Date,
    ): KeyPolicy =>
      keyPolicy({
        key,
        keyHash: hash,
        team,
        userId: access.user?.userId,
        models: access.models,
        subscriptions: this.#subscriptions.filter(
          (s) => s.status?.phase === 'Active' && s.status.team === access.team?.name,
        ),
        expiresAt: earliest(this.#expiresAt, until),
        blockedReason: this.#blockedReason,
        budgetExceeded: budgetExceeded(hash, spend, team),
        ...(periods ? { spendPeriods: periods } : {}),
      });
    // status.budget is the current key's (the spend sync writes it by status.keyId); the
    // previous key's own period is unknown, so only its team's is named for it.
    const current = policy(
      material.hash,
      this.#spend.current,
      budgetPeriods(key.status?.budget, teamBudget),
    );
    this.#policies = [current];
    if (material.previous) {
      const { hash, validUntil } = material.previous;
      this.#policies.push(
        policy(hash, this.#spend.previous, budgetPeriods(undefined, teamBudget), validUntil),
      );
    }
    this.#outcome = {
      team: access.team?.name,
      keyId: material.hash,
      keyAlias: this.#desired.alias,
      models: access.models,
      missing: access.missing,
      secretName: this.#layout.name,
      expiresAt: this.#expiresAt,
      mintedAt: material.mintedAt,
      nextRotationAt: nextRotationAt(key, material.mintedAt),
      previous: material.previous,
      expired: this.#expired,
      notReady: notReadyReason(key, access, this.#expired, this.#blockedReason),
      budgeted:
        this.#desired.limits.max_budget !== null || team?.spec.limits?.maxBudget !== undefined,
      budgetExceeded: current.budgetExceeded,
      ...(this.#registered ? { registered: this.#registered } : {}),
    };
  }

  // ---- helpers -------------------------------------------------------------------------

  /** Records `material` in status, then writes it to the Secret. */
  async #mint(material: KeyMaterial): Promise<void> {
    this.#mintedNow.add(material.hash);
    const written = await this.#deps.values.mint(this.#key, this.#layout, material, this.#secret);
    this.#key = written.key;
    this.#secret = written.secret;
  }

  #recordedMaterial(found: Extract<SecretValue, { kind: 'recorded' }>): KeyMaterial {
    return {
      ...found,
      mintedAt: this.#recorded.current!.mintedAt,
      previous: this.#recorded.previous,
    };
  }

  #recordedHashes(): string[] {
    const { current, previous } = this.#recorded;
    return [current?.hash, previous?.hash].filter((h): h is string => h !== undefined);
  }

  /**
   * Upgrading from a version that kept rotation state in the Secret: a previous key its
   * annotations name is adopted when LiteLLM says it is this VirtualKey's own (so it is
   * deleted when due instead of living on), for at most one grace period from now.
   */
  async #legacyPrevious(secret: V1Secret, currentHash: string): Promise<PreviousKey | undefined> {
    const claimed = legacyPreviousKey(secret);
    if (!claimed || claimed.hash === currentHash) return undefined;
    const row = await this.#deps.keys.observe(claimed.hash, this.#context.call);
    if (!row || row.status === 'deleted' || !isOwnKey(row, this.#owner)) return undefined;
    const latest = addMs(this.#context.now, rotationGraceMs(this.#key));
    return { hash: claimed.hash, validUntil: earliest(claimed.validUntil, latest)! };
  }

  /** Deletes these keys of ours in LiteLLM, and their gateway records. */
  async #discard(hashes: readonly string[]): Promise<void> {
    for (const hash of hashes) {
      const outcome = await this.#deps.keys.delete(hash, this.#owner, this.#context.call);
      if (outcome === 'not-ours') {
        // Its gateway record, too, is its owner's.
        this.#context.log.warn(
          { keyId: hash },
          'not deleting a LiteLLM key that is not this VirtualKey’s',
        );
        continue;
      }
      await this.#deps.routing.removeKey(hash);
    }
  }

  /**
   * Removes a gateway record where Redis being down must not block: the routing prune
   * removes records whose VirtualKey is gone, and the publisher counts the failed write
   * (llmtenancy_routing_write_errors_total).
   */
  async #removeRoute(hash: string): Promise<void> {
    try {
      await this.#deps.routing.removeKey(hash);
    } catch (err) {
      if (!isRoutingUnavailable(err)) throw err;
      this.#context.log.warn(
        { keyId: hash, err: (err as Error).message },
        'Redis is unavailable: the gateway record of this key is left to the routing prune',
      );
    }
  }
}

function earliest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() <= b.getTime() ? a : b;
}

const addMs = (date: Date, ms: number) => new Date(date.getTime() + ms);

/**
 * Worded so that it confirms nothing a tenant may not read: under the minimal tenant Role a
 * tenant cannot read the namespace's other Secrets, so the message never says whether a
 * Secret of that name exists or whose it is.
 */
function secretConflict(name: string): Waiting {
  return {
    kind: 'waiting',
    reason: SECRET_CONFLICT,
    message: `Secret name ${name} is not available to this VirtualKey: the operator writes a key only into a Secret it created for this VirtualKey; choose another spec.secret.name`,
  };
}

function lostKeyDeleted(): Change {
  return {
    type: 'Warning',
    reason: 'LostKeyDeleted',
    action: 'DeleteKey',
    note: 'the Secret no longer holds the key; deleted that key in LiteLLM',
  };
}

function notOurKey(which: string): Change {
  return {
    type: 'Warning',
    reason: 'KeyNotOwned',
    note: `${which} is registered in LiteLLM for something else; the operator leaves it alone and no longer names it`,
  };
}
