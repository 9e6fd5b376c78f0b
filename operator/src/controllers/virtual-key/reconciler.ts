// The VirtualKey reconciler: a key value in a Secret, the same key in LiteLLM with the models
// the key may reach now, and the gateway's record of it in Redis.
//
//   access    key-access.ts, from the caches: team, user, models, or why not (wait / deny)
//   secret    read live; none yet and access allows → mint a value and write the Secret
//             FIRST (key-secret.ts); rotation due → new value in the Secret, the old one
//             kept for the grace period (previous-key annotations)
//   litellm   /key/info by hash: unknown → /key/generate with the Secret's value; known →
//             the smallest /key/update, /key/block or /key/unblock; deleted in LiteLLM (a
//             member removed from the team, an admin) → a fresh value, written first
//   previous  synced like the current key until its grace period ends, then deleted
//   lost      a key status names but the Secret no longer holds (the Secret was deleted or
//             emptied) is deleted in LiteLLM: nobody can be given its value again
//   routing   the gateway's records for the current (and previous) key, with the budget
//             LiteLLM says is spent (key-budget.ts: the key's from its /key/info row, the
//             team's from Team.status.spend; no extra call)
//   status    keyId (hash), models, missing models, expiry, rotation times, conditions
//
// A converged key costs one Secret GET, one /key/info and nothing else (the routing
// publisher and the status writer skip writes that change nothing). Deleting (finalizer):
// every key of the object is deleted in LiteLLM and from the routing config before the
// finalizer goes; Kubernetes deletes the Secret through its owner reference.
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { VirtualKey } from '../../../../crds/api/index.ts';
import type { KeyPolicy } from '../../../../crds/routing/schema.ts';
import { findLiteLLMError } from '../../litellm/errors.ts';
import type { LiteLLMClient } from '../../litellm/client.ts';
import type { KeyRow } from '../../litellm/schemas.ts';
import { jittered } from '../../runtime/backoff.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import { getCondition } from '../../runtime/conditions.ts';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import type { EventRecorder, EventSpec } from '../../runtime/events.ts';
import { Finalizers } from '../../runtime/finalizers.ts';
import type { Request } from '../../runtime/request.ts';
import type { Result } from '../../runtime/result.ts';
import { StatusWriter } from '../../runtime/status.ts';
import { litellmFailure, reconcileErrorFor } from '../shared/litellm-failure.ts';
import { ownershipOf, type OwnerRef } from '../shared/ownership.ts';
import { NO_ADMISSION_POLICY } from './admission-policy.ts';
import { keyAccess, type KeyAccess } from './key-access.ts';
import { budgetExceeded, type KeySpend } from './key-budget.ts';
import { freshMaterial, type KeyMaterial } from './key-material.ts';
import { keyPolicy } from './key-policy.ts';
import {
  desiredSecret,
  isOwnedBy,
  KeySecrets,
  materialOf,
  secretLayout,
  secretUpToDate,
  type SecretLayout,
} from './key-secret.ts';
import { keyExpiresAt, nextRotationAt, rotationGraceMs } from './key-schedule.ts';
import { keyStatus, notReadyStatus, READY, type KeyOutcome } from './key-status.ts';
import {
  generateRequest,
  keyAlias,
  keyLimitFields,
  keyUpdates,
  type DesiredKey,
} from './litellm-key.ts';
import { isRoutingUnavailable, type KeyRouting } from './key-routing.ts';
import { VIRTUAL_KEY_RESOURCE } from './targets.ts';
import { SUBSCRIPTIONS_BY_NAMESPACE, TEAMS_BY_NAMESPACE } from '../team/watches.ts';
import type { VirtualKeyStores } from './watches.ts';

export const VIRTUAL_KEY_FINALIZER = 'llmtenancy.dev/cleanup';
export const VIRTUAL_KEY_FIELD_MANAGER = 'llm-tenancy-virtualkey';
const RESYNC_JITTER = 0.1;
/** Come back a little after a deadline (expiry, rotation, grace end), never before. */
const DEADLINE_MARGIN_MS = 50;

export interface VirtualKeyReconcilerOptions {
  kubeConfig: KubeConfig;
  litellm: LiteLLMClient;
  stores: VirtualKeyStores;
  routing: KeyRouting;
  recorder: Pick<EventRecorder, 'record'>;
  /** Written to every Secret next to the key (OPENAI_BASE_URL). */
  gatewayUrl: string;
  resyncIntervalMs: number;
  /** Stamped into every LiteLLM key this installation makes (shared/ownership.ts). */
  installationId: string;
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
  readonly #litellm: LiteLLMClient;
  readonly #stores: VirtualKeyStores;
  readonly #routing: KeyRouting;
  readonly #recorder: Pick<EventRecorder, 'record'>;
  readonly #secrets: KeySecrets;
  readonly #status: StatusWriter;
  readonly #finalizers: Finalizers;
  readonly #gatewayUrl: string;
  readonly #resyncMs: number;
  readonly #installation: string;
  readonly #clock: Clock;
  readonly #random: () => number;

  constructor(options: VirtualKeyReconcilerOptions) {
    this.#litellm = options.litellm;
    this.#stores = options.stores;
    this.#routing = options.routing;
    this.#recorder = options.recorder;
    this.#secrets = new KeySecrets(options.kubeConfig);
    this.#status = new StatusWriter(options.kubeConfig, {
      fieldManager: VIRTUAL_KEY_FIELD_MANAGER,
    });
    this.#finalizers = new Finalizers(options.kubeConfig, {
      fieldManager: VIRTUAL_KEY_FIELD_MANAGER,
    });
    this.#gatewayUrl = options.gatewayUrl;
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

  async #apply(key: VirtualKey, context: ReconcileContext): Promise<Result> {
    const now = new Date(this.#clock.now());
    const namespace = key.metadata.namespace!;
    const name = key.metadata.name!;
    const call: Call = { object: `VirtualKey ${namespace}/${name}`, signal: context.signal };
    const changes: Change[] = [];
    const owner: OwnerRef = {
      kind: 'VirtualKey',
      namespace,
      name,
      uid: key.metadata.uid!,
      installation: this.#installation,
    };

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

    // The Secret, and the key material in it.
    let secret = await this.#secrets.read(namespace, layout.name);
    if (secret && !isOwnedBy(secret, key)) {
      throw new Stop(
        'SecretConflict',
        `Secret ${layout.name} exists and does not belong to this VirtualKey; choose another spec.secret.name or delete that Secret`,
      );
    }
    let material = secret ? materialOf(secret, layout.apiKeyKey, key.status?.keyId) : undefined;
    if (!material && !secret) {
      const moved = await this.#carriedOver(key, layout);
      if (moved) ({ material, secret } = moved);
    }
    const known = new Set<string>();

    if (!material) {
      const reason = access.denial ?? access.wait;
      if (reason || expired) {
        await this.#forgetLostKeys(key, known, call, changes);
        this.#record(key, changes);
        throw new Stop(
          reason?.reason ?? 'Expired',
          reason?.message ?? `the key expired at ${expiresAt!.toISOString()}; it is not made`,
          access,
        );
      }
      material = freshMaterial(now);
      secret = await this.#writeSecret(key, layout, material, secret);
      changes.push({
        reason: 'Minted',
        action: 'MintKey',
        note: `minted a key into Secret ${layout.name}`,
      });
    }

    // Rotation: a new value into the Secret first; the old one stays valid for the grace period.
    const rotationDue = nextRotationAt(key, material.mintedAt);
    if (rotationDue && now >= rotationDue && !material.previous && !blockedReason && !expired) {
      material = freshMaterial(now, {
        hash: material.hash,
        validUntil: new Date(now.getTime() + rotationGraceMs(key)),
      });
      secret = await this.#writeSecret(key, layout, material, secret);
      changes.push({
        reason: 'Rotated',
        action: 'RotateKey',
        note: `rotated the key in Secret ${layout.name}; the previous key works until ${material.previous!.validUntil.toISOString()}`,
      });
    }

    // The previous key: deleted once its grace period is over.
    if (material.previous && now >= material.previous.validUntil) {
      await this.#deleteKey(material.previous.hash, call);
      await this.#routing.removeKey(material.previous.hash);
      material = { ...material, previous: undefined };
      changes.push({
        reason: 'PreviousKeyDeleted',
        action: 'DeleteKey',
        note: 'deleted the previous key: its rotation grace period is over',
      });
    }
    secret = await this.#writeSecret(key, layout, material, secret);
    known.add(material.hash);
    if (material.previous) known.add(material.previous.hash);
    await this.#forgetLostKeys(key, known, call, changes);

    // LiteLLM, current key then previous.
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
      previousSpend = await this.#syncExisting(
        material.previous.hash,
        { ...desired, alias: keyAlias(namespace, name, true) },
        now,
        call,
        changes,
      );
    }
    const persist = async (next: KeyMaterial) => {
      secret = await this.#writeSecret(key, layout, next, secret);
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
      expired,
      notReady: notReadyReason(key, access, expired, blockedReason),
      budgeted: desired.limits.max_budget !== null || team?.spec.limits?.maxBudget !== undefined,
      budgetExceeded: currentPolicy.budgetExceeded,
    };
    await this.#status.update(VIRTUAL_KEY_RESOURCE, key, (current) =>
      keyStatus(current, outcome, now),
    );
    this.#record(key, changes);

    const deadlines = [nextRotation, material.previous?.validUntil, expired ? undefined : expiresAt]
      .filter((d): d is Date => d !== undefined)
      .map((d) => d.getTime() - now.getTime() + DEADLINE_MARGIN_MS);
    return { requeueAfter: Math.max(1, Math.min(this.#resyncDelay(), ...deadlines)) };
  }

  /**
   * The current key in LiteLLM: registered when unknown, updated when it differs, replaced
   * by a fresh value when LiteLLM deleted it (`persist` writes that value to the Secret
   * before LiteLLM hears of it). Returns its spend and max budget in LiteLLM now; undefined
   * when it is not there.
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
    const observed = await this.#observe(material.hash, call);
    if (observed && observed.status !== 'deleted') {
      const ownership = ownershipOf(observed.metadata, desired.owner);
      if (ownership === 'other-owner' || ownership === 'unmanaged') {
        throw new Stop(
          'LiteLLMKeyConflict',
          'the key in the Secret is registered in LiteLLM for something else; delete the Secret to mint a new key',
        );
      }
      return this.#syncExisting(material.hash, desired, now, call, changes, observed);
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
    await this.#litellm.generateKey(generateRequest(desired, current.value, now), call);
    changes.push({
      reason: 'Registered',
      action: 'RegisterKey',
      note: `registered key ${desired.alias} in LiteLLM team ${desired.teamId} with models ${desired.models.join(', ') || '(none)'}`,
    });
    return { spend: 0, maxBudget: desired.limits.max_budget };
  }

  /**
   * The smallest update, then block / unblock, for a key LiteLLM has. Returns its spend and
   * max budget after the update; undefined when LiteLLM does not have it.
   */
  async #syncExisting(
    hash: string,
    desired: DesiredKey,
    now: Date,
    call: Call,
    changes: Change[],
    observed?: KeyRow,
  ): Promise<KeySpend | undefined> {
    const row = observed ?? (await this.#observe(hash, call));
    if (!row || row.status === 'deleted') return undefined;
    const spend: KeySpend = { spend: row.spend, maxBudget: row.max_budget };
    if (row.status === 'expired') return spend; // nothing to change on a dead key
    const update = keyUpdates(desired, row, now);
    if (update) {
      await this.#litellm.updateKey({ key: hash, ...update }, call);
      changes.push({
        reason: 'Updated',
        action: 'UpdateKey',
        note: `updated key ${desired.alias} in LiteLLM: ${Object.keys(update).join(', ')}`,
      });
    }
    if (update && 'max_budget' in update) spend.maxBudget = update.max_budget;
    const blocked = row.blocked === true;
    if (desired.blocked && !blocked) {
      await this.#litellm.blockKey(hash, call);
      changes.push({ reason: 'Blocked', action: 'BlockKey', note: `blocked key ${desired.alias}` });
    } else if (!desired.blocked && blocked) {
      await this.#litellm.unblockKey(hash, call);
      changes.push({
        reason: 'Unblocked',
        action: 'UnblockKey',
        note: `unblocked key ${desired.alias}`,
      });
    }
    return spend;
  }

  /**
   * A key whose Secret was renamed (spec.secret.name changed) moves to the new Secret with
   * its value; the old Secret is deleted after the new one is written.
   */
  async #carriedOver(
    key: VirtualKey,
    layout: SecretLayout,
  ): Promise<{ material: KeyMaterial; secret: V1Secret } | undefined> {
    const former = key.status?.secretName;
    if (!former || former === layout.name) return undefined;
    const old = await this.#secrets.read(key.metadata.namespace!, former);
    if (!old || !isOwnedBy(old, key)) return undefined;
    const material = materialOf(old, layout.apiKeyKey, key.status?.keyId);
    if (!material) return undefined;
    // Called only when the Secret of the new name does not exist.
    const secret = await this.#writeSecret(key, layout, material, undefined);
    await this.#secrets.delete(key.metadata.namespace!, former, old.metadata!.uid!);
    return { material, secret };
  }

  /** Keys status names that the Secret no longer holds: deleted in LiteLLM and the gateway. */
  async #forgetLostKeys(
    key: VirtualKey,
    known: ReadonlySet<string>,
    call: Call,
    changes: Change[],
  ): Promise<void> {
    const lost = key.status?.keyId;
    if (!lost || known.has(lost)) return;
    await this.#deleteKey(lost, call);
    await this.#routing.removeKey(lost);
    changes.push({
      type: 'Warning',
      reason: 'LostKeyDeleted',
      action: 'DeleteKey',
      note: 'the Secret no longer holds the key; deleted that key in LiteLLM',
    });
  }

  /**
   * Writes the Secret for `material` unless it already says exactly that. `current` is the
   * Secret as last read or written (undefined: there is none), so no write reads again.
   */
  async #writeSecret(
    key: VirtualKey,
    layout: SecretLayout,
    material: KeyMaterial,
    current: V1Secret | undefined,
  ): Promise<V1Secret> {
    const desired = desiredSecret(key, layout, material, this.#gatewayUrl, current);
    if (!current) {
      const { created, secret } = await this.#secrets.create(desired);
      // Someone else wrote it meanwhile (a stale cache, another replica): start over.
      if (!created) throw new Error(`Secret ${layout.name} appeared meanwhile; retrying`);
      return secret;
    }
    if (secretUpToDate(current, desired)) return current;
    return this.#secrets.replace(desired);
  }

  // ---- cleanup -------------------------------------------------------------------------

  async #cleanup(key: VirtualKey, context: ReconcileContext): Promise<Result> {
    const namespace = key.metadata.namespace!;
    const call: Call = {
      object: `VirtualKey ${namespace}/${key.metadata.name!}`,
      signal: context.signal,
    };
    const hashes = new Set<string>();
    if (key.status?.keyId) hashes.add(key.status.keyId);
    const secret = await this.#secrets.read(namespace, secretLayout(key).name);
    if (secret && isOwnedBy(secret, key)) {
      const material = materialOf(secret, secretLayout(key).apiKeyKey, key.status?.keyId);
      if (material) hashes.add(material.hash);
      if (material?.previous) hashes.add(material.previous.hash);
    }
    for (const hash of hashes) {
      await this.#deleteKey(hash, call);
      await this.#routing.removeKey(hash);
    }
    if (hashes.size > 0) {
      this.#record(key, [
        { reason: 'Deleted', action: 'DeleteKey', note: 'deleted the key in LiteLLM' },
      ]);
    }
    return {};
  }

  // ---- helpers -------------------------------------------------------------------------

  async #observe(hash: string, call: Call): Promise<KeyRow | undefined> {
    try {
      return (await this.#litellm.keyInfo(hash, call)).info;
    } catch (err) {
      if (findLiteLLMError(err)?.kind === 'notFound') return undefined;
      throw err;
    }
  }

  async #deleteKey(hash: string, call: Call): Promise<void> {
    try {
      await this.#litellm.deleteKeys({ keys: [hash] }, call);
    } catch (err) {
      if (findLiteLLMError(err)?.kind !== 'notFound') throw err;
    }
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

/** Ready=False and why, for a key that is registered; undefined when it is Ready. */
function notReadyReason(
  key: VirtualKey,
  access: KeyAccess,
  expired: boolean,
  blockedReason: string | undefined,
): KeyOutcome['notReady'] {
  if (expired) return { reason: 'Expired', message: 'the key has expired' };
  if (access.denial) return { reason: access.denial.reason, message: access.denial.message };
  if (key.spec.suspended)
    return { reason: 'Suspended', message: 'the key is suspended (spec.suspended)' };
  if (blockedReason)
    return { reason: blockedReason, message: `the key is blocked: ${blockedReason}` };
  if (access.wait) return { reason: access.wait.reason, message: access.wait.message };
  if (access.missing.length > 0 && key.spec.requireAllModels) {
    return {
      reason: 'ModelsNotSubscribed',
      message: `no Active ModelSubscription for ${access.missing.join(', ')}; the key reaches only ${access.models.join(', ') || 'nothing'}`,
    };
  }
  if (access.models.length === 0)
    return { reason: 'NoSubscribedModels', message: 'the key reaches no model' };
  return undefined;
}

function earliest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() <= b.getTime() ? a : b;
}
