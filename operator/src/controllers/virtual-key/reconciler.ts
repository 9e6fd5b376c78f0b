// The VirtualKey reconciler: a key value in a Secret, the same key in LiteLLM with the models
// the key may reach now, and the gateway's record of it in Redis.
//
//   access    key-access.ts, from the caches: team, user, models, or why not (wait / deny)
//   record    status is the record of the key values (keyId, lastRotatedAt, previousKey):
//             tenants may write the Secret, never status, so only a Secret value whose hash
//             status recorded is the key (key-material.ts); every new value is recorded
//             BEFORE it is written to the Secret (upgrading: a previous key an earlier
//             version named in the Secret is adopted only when LiteLLM says it is ours)
//   secret    read live; none yet and access allows → mint a value, record it, write the
//             Secret (key-secret.ts); a value the operator did not make → replaced, the
//             recorded key kept for the grace period (supersede); rotation due → a new
//             value, the old one kept for the grace period
//   litellm   /key/info by hash: unknown → /key/generate with the Secret's value; known and
//             ours → the smallest /key/update, /key/block or /key/unblock; deleted in
//             LiteLLM (a member removed from the team, an admin) → a fresh value, recorded
//             and written first. No key whose metadata names another object (or another
//             uid) is ever updated, blocked or deleted (owned-keys.ts)
//   previous  synced like the current key, with its grace period's end as its LiteLLM
//             expiry, until then; then deleted
//   lost      the recorded key when the Secret no longer holds it (deleted or emptied) is
//             deleted in LiteLLM: nobody can be given its value again
//   routing   the gateway's records for the current (and previous) key, with the budget
//             LiteLLM says is spent (key-budget.ts: the key's from its /key/info row, the
//             team's from Team.status.spend; no extra call)
//   status    keyId (hash), models, missing models, expiry, rotation state, conditions
//
// A converged key costs one Secret GET, one /key/info (with the key snapshot, a share of one
// /key/list page: key-snapshot.ts) and nothing else (the routing publisher and the status
// writer skip writes that change nothing). Deleting (finalizer):
// every key status records is deleted in LiteLLM and from the routing config before the
// finalizer goes, from status alone (a namespace's deletion may have removed the Secret
// first); Kubernetes deletes the Secret through its owner reference.
import type { V1Secret } from '@kubernetes/client-node';
import type { VirtualKey } from '../../../../crds/api/index.ts';
import type { KeyPolicy } from '../../../../contracts/routing/schema.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { KeyRow } from '../../litellm/schemas.ts';
import { jittered } from '../../runtime/backoff.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import { getCondition } from '../../runtime/conditions.ts';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import type { EventRecorder, EventSpec } from '../../runtime/events.ts';
import { Finalizers } from '../../runtime/finalizers.ts';
import type { Request } from '../../runtime/request.ts';
import type { Result } from '../../runtime/result.ts';
import { StatusWriter } from '../../runtime/status.ts';
import { litellmFailure, reconcileErrorFor } from '../shared/litellm-failure.ts';
import type { OwnerRef } from '../shared/ownership.ts';
import { NO_ADMISSION_POLICY } from './admission-policy.ts';
import { keyAccess, type KeyAccess } from './key-access.ts';
import { budgetExceeded, type KeySpend } from './key-budget.ts';
import { freshMaterial, supersede, type KeyMaterial, type PreviousKey } from './key-material.ts';
import { keyPolicy } from './key-policy.ts';
import { legacyPreviousKey, secretLayout } from './key-secret.ts';
import {
  keyDeadlines,
  keyExpiresAt,
  nextRotationAt,
  requeueAfterMs,
  rotationDue,
  rotationGraceMs,
} from './key-schedule.ts';
import {
  keyStatus,
  notReadyReason,
  notReadyStatus,
  READY,
  recordedKeys,
  type KeyOutcome,
} from './key-status.ts';
import {
  generateRequest,
  keyAlias,
  keyLimitFields,
  keyUpdates,
  type DesiredKey,
} from './litellm-key.ts';
import { isRoutingUnavailable, type KeyRouting } from './key-routing.ts';
import type { KeyValues } from './key-values.ts';
import type { KeySnapshot } from './key-snapshot.ts';
import { OwnSecretWrites, TrackedKeyValues } from './own-secret-writes.ts';
import { isOwnKey, OwnedKeys } from './owned-keys.ts';
import { VIRTUAL_KEY_RESOURCE } from '../shared/kinds.ts';
import { SUBSCRIPTIONS_BY_NAMESPACE, TEAMS_BY_NAMESPACE } from '../shared/indexes.ts';
import type { VirtualKeyStores } from './watches.ts';

export const VIRTUAL_KEY_FINALIZER = 'llmtenancy.dev/cleanup';
export const VIRTUAL_KEY_FIELD_MANAGER = 'llm-tenancy-virtualkey';
const RESYNC_JITTER = 0.1;

export interface VirtualKeyReconcilerOptions {
  kube: KubeClient;
  litellm: LiteLLMClient;
  stores: VirtualKeyStores;
  routing: KeyRouting;
  recorder: Pick<EventRecorder, 'record'>;
  /** Written to every Secret next to the key (OPENAI_BASE_URL). */
  gatewayUrl: string;
  resyncIntervalMs: number;
  /** Stamped into every LiteLLM key this installation makes (shared/ownership.ts). */
  installationId: string;
  /** This installation's keys as of the last resync's /key/list (key-snapshot.ts). */
  snapshot?: KeySnapshot;
  /** Told of every Secret write, so its watch event does not reconcile again. */
  secretWrites?: OwnSecretWrites;
  clock?: Clock;
  random?: () => number;
}

type Change = Omit<EventSpec, 'type'> & { type?: EventSpec['type'] };
type Call = { object: string; signal: AbortSignal };

/** A reconcile that must stop here, with Ready=False for this reason. */
class Stop extends Error {
  override readonly name = 'Stop';
  readonly reason: string;
  /** What access was decided, when it was: status shows the team and missing models too. */
  readonly access: KeyAccess | undefined;
  constructor(reason: string, message: string, access?: KeyAccess) {
    super(message);
    this.reason = reason;
    this.access = access;
  }
}

export class VirtualKeyReconciler implements Reconciler {
  readonly #keys: OwnedKeys;
  readonly #stores: VirtualKeyStores;
  readonly #routing: KeyRouting;
  readonly #recorder: Pick<EventRecorder, 'record'>;
  readonly #values: KeyValues;
  readonly #status: StatusWriter;
  readonly #finalizers: Finalizers;
  readonly #resyncMs: number;
  readonly #installation: string;
  readonly #clock: Clock;
  readonly #random: () => number;

  constructor(options: VirtualKeyReconcilerOptions) {
    this.#keys = new OwnedKeys(options.litellm, options.snapshot);
    this.#stores = options.stores;
    this.#routing = options.routing;
    this.#recorder = options.recorder;
    this.#status = new StatusWriter(options.kube, {
      fieldManager: VIRTUAL_KEY_FIELD_MANAGER,
    });
    this.#values = new TrackedKeyValues(
      options.secretWrites ?? new OwnSecretWrites(),
      options.kube,
      {
        status: this.#status,
        gatewayUrl: options.gatewayUrl,
      },
    );
    this.#finalizers = new Finalizers(options.kube, {
      fieldManager: VIRTUAL_KEY_FIELD_MANAGER,
      recorder: options.recorder,
    });
    this.#resyncMs = options.resyncIntervalMs;
    this.#installation = options.installationId;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  async reconcile(request: Request, context: ReconcileContext): Promise<Result> {
    const key = this.#stores.keys.getByName(request.name, request.namespace);
    if (!key) return {};
    return this.#finalizers.reconcile(key, VIRTUAL_KEY_FINALIZER, {
      apply: (current) => this.#reporting(current, context, () => this.#apply(current, context)),
      cleanup: (current) =>
        this.#reporting(current, context, () => this.#cleanup(current, context)),
    });
  }

  // ---- apply ---------------------------------------------------------------------------

  async #apply(observed: VirtualKey, context: ReconcileContext): Promise<Result> {
    let key = observed;
    const now = new Date(this.#clock.now());
    const namespace = key.metadata.namespace!;
    const name = key.metadata.name!;
    const call: Call = { object: `VirtualKey ${namespace}/${name}`, signal: context.signal };
    const changes: Change[] = [];
    const owner = this.#ownerOf(key);

    const teams = this.#stores.teams.byIndex(TEAMS_BY_NAMESPACE, namespace);
    const subscriptions = this.#stores.subscriptions.byIndex(SUBSCRIPTIONS_BY_NAMESPACE, namespace);
    const user = key.spec.user ? this.#stores.users.getByName(key.spec.user) : undefined;
    const access = keyAccess({
      key,
      teams,
      user,
      subscriptions,
      admissionPolicy: this.#stores.admission?.state() ?? NO_ADMISSION_POLICY,
    });
    const team = teams.length === 1 ? teams[0] : undefined;
    const expiresAt = keyExpiresAt(key);
    const expired = expiresAt !== undefined && now.getTime() >= expiresAt.getTime();
    const layout = secretLayout(key);
    const blockedReason = key.spec.suspended ? 'Suspended' : access.denial?.reason;
    const canWork = !blockedReason && !access.wait && !expired;

    // What status recorded (the only key state trusted), and what the Secret holds.
    let recorded = recordedKeys(key.status);
    const read = await this.#values.read(key, layout, recorded);
    if (read === 'unavailable')
      throw new Stop('SecretConflict', secretNameUnavailable(layout.name));
    const { found } = read;
    let { secret } = read;

    if (found.kind === 'recorded' && !recorded.previous && secret) {
      const legacy = await this.#legacyPrevious(secret, found.hash, owner, now, key, call);
      if (legacy) recorded = { ...recorded, previous: legacy };
    }

    // The previous key: deleted once its grace period is over.
    if (recorded.previous && now >= recorded.previous.validUntil) {
      await this.#discard([recorded.previous.hash], owner, call, context);
      recorded = { ...recorded, previous: undefined };
      changes.push({
        reason: 'PreviousKeyDeleted',
        action: 'DeleteKey',
        note: 'deleted the previous key: its grace period is over',
      });
    }

    // The key value: the Secret's when status recorded it, else a fresh one, recorded in
    // status, then written to the Secret. A value the operator did not make is never used.
    let material: KeyMaterial;
    if (found.kind === 'recorded') {
      material = { ...found, mintedAt: recorded.current!.mintedAt, previous: recorded.previous };
    } else {
      const reason = access.denial ?? access.wait;
      if (reason || expired) {
        if (recorded.current) {
          await this.#discard([recorded.current.hash], owner, call, context);
          key = await this.#values.record(key, { previous: recorded.previous });
          changes.push(lostKeyDeleted());
        }
        this.#record(key, changes);
        throw new Stop(
          reason?.reason ?? 'Expired',
          reason?.message ?? `the key expired at ${expiresAt!.toISOString()}; it is not made`,
          access,
        );
      }
      const next = supersede(recorded, found, now, rotationGraceMs(key));
      await this.#discard(next.discard, owner, call, context);
      material = freshMaterial(now, next.previous);
      ({ key, secret } = await this.#values.mint(key, layout, material, secret));
      if (found.kind === 'foreign') {
        changes.push({
          type: 'Warning',
          reason: 'KeyValueReplaced',
          action: 'MintKey',
          note: `Secret ${layout.name} held a key value the operator did not mint; such a value is never registered. Minted a new key into the Secret${next.previous ? `; the previous key works until ${next.previous.validUntil.toISOString()}` : ''}`,
        });
      } else {
        if (recorded.current) changes.push(lostKeyDeleted());
        changes.push({
          reason: 'Minted',
          action: 'MintKey',
          note: `minted a key into Secret ${layout.name}`,
        });
      }
    }

    // Rotation: a new value into the Secret first; the old one stays valid for the grace period.
    if (rotationDue(key, material, canWork, now)) {
      const previous = { hash: material.hash, validUntil: addMs(now, rotationGraceMs(key)) };
      material = freshMaterial(now, previous);
      ({ key, secret } = await this.#values.mint(key, layout, material, secret));
      changes.push({
        reason: 'Rotated',
        action: 'RotateKey',
        note: `rotated the key in Secret ${layout.name}; the previous key works until ${previous.validUntil.toISOString()}`,
      });
    }
    secret = await this.#values.write(key, layout, material, secret);

    // LiteLLM, previous key then current.
    const desired: DesiredKey = {
      alias: keyAlias(namespace, name),
      teamId: access.team?.teamId ?? team?.metadata.name ?? '',
      userId: access.user?.userId,
      models: access.models,
      limits: keyLimitFields(key.spec.limits),
      expiresAt,
      blocked: blockedReason !== undefined,
      owner,
    };
    let previousSpend: KeySpend | undefined;
    if (material.previous) {
      const previous = material.previous;
      const row = await this.#keys.observe(previous.hash, call);
      if (row && row.status !== 'deleted' && !isOwnKey(row, owner)) {
        // Status names it, LiteLLM says it is someone else's: never touch it (nor its gateway
        // record, which is its owner's), stop naming it.
        material = { ...material, previous: undefined };
        changes.push(notOurKey('the previous key'));
      } else {
        // Its LiteLLM expiry is the end of its grace period: it ends even without us.
        previousSpend = await this.#syncExisting(
          previous.hash,
          {
            ...desired,
            alias: keyAlias(namespace, name, true),
            expiresAt: earliest(expiresAt, previous.validUntil),
          },
          row,
          now,
          call,
          changes,
        );
      }
    }
    const persist = async (next: KeyMaterial) => {
      ({ key, secret } = await this.#values.mint(key, layout, next, secret));
      material = next;
    };
    const currentSpend = await this.#syncCurrent(
      material,
      desired,
      access,
      expired,
      now,
      call,
      changes,
      persist,
    );

    // The gateway's records: a key that must not work is recorded as such, not left out, so
    // the gateway answers with the reason.
    const policy = (hash: string, spend: KeySpend | undefined, until?: Date): KeyPolicy =>
      keyPolicy({
        key,
        keyHash: hash,
        team,
        userId: access.user?.userId,
        models: access.models,
        subscriptions: subscriptions.filter(
          (s) => s.status?.phase === 'Active' && s.status.team === access.team?.name,
        ),
        expiresAt: earliest(expiresAt, until),
        blockedReason,
        budgetExceeded: budgetExceeded(hash, spend, team),
      });
    const currentPolicy = policy(material.hash, currentSpend);
    await this.#routing.putKey(currentPolicy);
    if (material.previous) {
      await this.#routing.putKey(
        policy(material.previous.hash, previousSpend, material.previous.validUntil),
      );
    }

    // Status, then Events.
    const nextRotation = nextRotationAt(key, material.mintedAt);
    const outcome: KeyOutcome = {
      team: access.team?.name,
      keyId: material.hash,
      keyAlias: desired.alias,
      models: access.models,
      missing: access.missing,
      secretName: layout.name,
      expiresAt,
      mintedAt: material.mintedAt,
      nextRotationAt: nextRotation,
      previous: material.previous,
      expired,
      notReady: notReadyReason(key, access, expired, blockedReason),
      budgeted: desired.limits.max_budget !== null || team?.spec.limits?.maxBudget !== undefined,
      budgetExceeded: currentPolicy.budgetExceeded,
    };
    await this.#status.update(VIRTUAL_KEY_RESOURCE, key, (current) =>
      keyStatus(current, outcome, now),
    );
    this.#record(key, changes);

    const deadlines = keyDeadlines(key, material, { canWork, expiresAt, expired });
    return { requeueAfter: requeueAfterMs(deadlines, now, this.#resyncDelay()) };
  }

  /**
   * The current key in LiteLLM: registered when unknown, updated when it differs, replaced
   * by a fresh value when LiteLLM deleted it (`persist` records that value and writes it to
   * the Secret before LiteLLM hears of it). Returns its spend and max budget in LiteLLM now;
   * undefined when it is not there.
   */
  async #syncCurrent(
    material: KeyMaterial,
    desired: DesiredKey,
    access: KeyAccess,
    expired: boolean,
    now: Date,
    call: Call,
    changes: Change[],
    persist: (material: KeyMaterial) => Promise<void>,
  ): Promise<KeySpend | undefined> {
    const observed = await this.#keys.observe(material.hash, call, { desired, now });
    if (observed && observed.status !== 'deleted') {
      if (!isOwnKey(observed, desired.owner)) {
        throw new Stop(
          'LiteLLMKeyConflict',
          'the key in the Secret is registered in LiteLLM for something else; delete the Secret to mint a new key',
        );
      }
      return this.#syncExisting(material.hash, desired, observed, now, call, changes);
    }
    // Unknown, or deleted in LiteLLM. A key that must not work is not (re)made.
    if ((desired.blocked && access.denial) || expired) return undefined;
    if (access.wait && !observed) {
      // The Secret was written but the key was never registered, and now the key must wait.
      throw new Stop(access.wait.reason, access.wait.message, access);
    }
    let current = material;
    if (observed) {
      // LiteLLM deleted it (a member removed from its team deletes their keys): that value
      // must not come back; a new one goes into the Secret before LiteLLM hears of it.
      current = freshMaterial(now, material.previous);
      await persist(current);
      await this.#routing.removeKey(material.hash);
      changes.push({
        type: 'Warning',
        reason: 'KeyReplaced',
        action: 'MintKey',
        note: 'the key was deleted in LiteLLM; minted a new one into the Secret',
      });
    }
    await this.#keys.generate(current.hash, generateRequest(desired, current.value, now), call);
    changes.push({
      reason: 'Registered',
      action: 'RegisterKey',
      note: `registered key ${desired.alias} in LiteLLM team ${desired.teamId} with models ${desired.models.join(', ') || '(none)'}`,
    });
    return { spend: 0, maxBudget: desired.limits.max_budget };
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
    now: Date,
    call: Call,
    changes: Change[],
  ): Promise<KeySpend | undefined> {
    if (!row || row.status === 'deleted') return undefined;
    const spend: KeySpend = { spend: row.spend, maxBudget: row.max_budget };
    if (row.status === 'expired') return spend; // nothing to change on a dead key
    const update = keyUpdates(desired, row, now);
    if (update) {
      await this.#keys.update(hash, update, call);
      changes.push({
        reason: 'Updated',
        action: 'UpdateKey',
        note: `updated key ${desired.alias} in LiteLLM: ${Object.keys(update).join(', ')}`,
      });
    }
    if (update && 'max_budget' in update) spend.maxBudget = update.max_budget;
    const blocked = row.blocked === true;
    if (desired.blocked && !blocked) {
      await this.#keys.block(hash, call);
      changes.push({ reason: 'Blocked', action: 'BlockKey', note: `blocked key ${desired.alias}` });
    } else if (!desired.blocked && blocked) {
      await this.#keys.unblock(hash, call);
      changes.push({
        reason: 'Unblocked',
        action: 'UnblockKey',
        note: `unblocked key ${desired.alias}`,
      });
    }
    return spend;
  }

  /**
   * Upgrading from a version that kept rotation state in the Secret: a previous key its
   * annotations name is adopted when LiteLLM says it is this VirtualKey's own (so it is
   * deleted when due instead of living on), for at most one grace period from now.
   */
  async #legacyPrevious(
    secret: V1Secret,
    currentHash: string,
    owner: OwnerRef,
    now: Date,
    key: VirtualKey,
    call: Call,
  ): Promise<PreviousKey | undefined> {
    const claimed = legacyPreviousKey(secret);
    if (!claimed || claimed.hash === currentHash) return undefined;
    const row = await this.#keys.observe(claimed.hash, call);
    if (!row || row.status === 'deleted' || !isOwnKey(row, owner)) return undefined;
    const latest = addMs(now, rotationGraceMs(key));
    return { hash: claimed.hash, validUntil: earliest(claimed.validUntil, latest)! };
  }

  /** Deletes these keys of ours in LiteLLM, and their gateway records. */
  async #discard(
    hashes: readonly string[],
    owner: OwnerRef,
    call: Call,
    context: ReconcileContext,
  ): Promise<void> {
    for (const hash of hashes) {
      const outcome = await this.#keys.delete(hash, owner, call);
      if (outcome === 'not-ours') {
        // Its gateway record, too, is its owner's.
        context.log.warn(
          { keyId: hash },
          'not deleting a LiteLLM key that is not this VirtualKey’s',
        );
        continue;
      }
      await this.#routing.removeKey(hash);
    }
  }

  // ---- cleanup -------------------------------------------------------------------------

  /**
   * Deletes every key status records, from status alone: when a namespace is deleted its
   * Secrets may be gone before this runs. A key in LiteLLM that status does not name (an
   * older version's crash window) is left to orphan collection.
   */
  async #cleanup(key: VirtualKey, context: ReconcileContext): Promise<Result> {
    const namespace = key.metadata.namespace!;
    const name = key.metadata.name!;
    const call: Call = { object: `VirtualKey ${namespace}/${name}`, signal: context.signal };
    const owner = this.#ownerOf(key);
    const recorded = recordedKeys(key.status);
    const hashes = [recorded.current?.hash, recorded.previous?.hash].filter(
      (h): h is string => h !== undefined,
    );
    let deleted = 0;
    for (const hash of hashes) {
      const outcome = await this.#keys.delete(hash, owner, call);
      if (outcome === 'deleted') deleted++;
      if (outcome === 'not-ours') {
        this.#record(key, [notOurKey('a key status names')]);
        continue; // its gateway record, too, is its owner's
      }
      await this.#removeRoute(hash, context);
    }
    if (deleted > 0) {
      this.#record(key, [
        { reason: 'Deleted', action: 'DeleteKey', note: 'deleted the key in LiteLLM' },
      ]);
    }
    return {};
  }

  /**
   * Removes a gateway record where Redis being down must not block: the routing prune
   * removes records whose VirtualKey is gone, and the publisher counts the failed write
   * (llmtenancy_routing_write_errors_total).
   */
  async #removeRoute(hash: string, context: ReconcileContext): Promise<void> {
    try {
      await this.#routing.removeKey(hash);
    } catch (err) {
      if (!isRoutingUnavailable(err)) throw err;
      context.log.warn(
        { keyId: hash, err: (err as Error).message },
        'Redis is unavailable: the gateway record of this key is left to the routing prune',
      );
    }
  }

  // ---- helpers -------------------------------------------------------------------------

  /** What LiteLLM's metadata names as this key's owner: the object, its uid, this installation. */
  #ownerOf(key: VirtualKey): OwnerRef {
    return {
      kind: 'VirtualKey',
      namespace: key.metadata.namespace!,
      name: key.metadata.name!,
      uid: key.metadata.uid!,
      installation: this.#installation,
    };
  }

  /**
   * Early stops and failures become Ready=False with their reason: a Stop waits for a watch
   * (or the resync); a LiteLLM or Redis failure is rethrown so the controller backs off.
   */
  async #reporting(
    key: VirtualKey,
    context: ReconcileContext,
    run: () => Promise<Result>,
  ): Promise<Result> {
    try {
      return await run();
    } catch (err) {
      if (context.signal.aborted) throw err;
      if (err instanceof Stop) {
        await this.#writeNotReady(key, err.reason, err.message, err.access);
        return { requeueAfter: this.#resyncDelay() };
      }
      if (isRoutingUnavailable(err)) {
        await this.#writeNotReady(key, 'RoutingUnavailable', (err as Error).message).catch(
          () => {},
        );
        throw err;
      }
      const failure = litellmFailure(err);
      if (!failure) throw err;
      await this.#writeNotReady(key, failure.reason, failure.message).catch(
        (statusError: unknown) =>
          context.log.warn({ err: statusError }, 'could not record the failure in status'),
      );
      throw reconcileErrorFor(failure, err);
    }
  }

  async #writeNotReady(
    key: VirtualKey,
    reason: string,
    message: string,
    access?: KeyAccess,
  ): Promise<void> {
    const now = new Date(this.#clock.now());
    const written = await this.#status.update(VIRTUAL_KEY_RESOURCE, key, (current) =>
      notReadyStatus(
        current,
        reason,
        message,
        now,
        access && { team: access.team?.name, missing: access.missing },
      ),
    );
    const before = getCondition(key.status?.conditions, READY);
    if (written.outcome === 'updated' && before?.reason !== reason) {
      this.#record(key, [{ type: 'Warning', reason, note: message }]);
    }
  }

  #record(key: VirtualKey, changes: readonly Change[]): void {
    for (const { type = 'Normal', ...change } of changes) {
      void this.#recorder.record(key, { type, ...change });
    }
  }

  #resyncDelay(): number {
    return Math.round(jittered(this.#resyncMs, RESYNC_JITTER, this.#random));
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
function secretNameUnavailable(name: string): string {
  return `Secret name ${name} is not available to this VirtualKey: the operator writes a key only into a Secret it created for this VirtualKey; choose another spec.secret.name`;
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
