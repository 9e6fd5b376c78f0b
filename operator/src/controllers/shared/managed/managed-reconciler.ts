// The one reconciler of objects that live in LiteLLM (Teams, Users), in crossplane-runtime's
// shape (pkg/reconciler/managed): the kind supplies an external client (external-client.ts)
// and what its status and Events say; everything else is here, the same for every kind.
//
//   finalizer   added before LiteLLM is touched; removed only after cleanup (finalizers.ts)
//   blocked     the client says it cannot go on yet → waiting
//   observe     absent → create (409: observe again; still absent → the client decides)
//   ownership   ours → go on; a previous incarnation, or unmanaged with the adopt
//               annotation → adopted; another owner (or unmanaged) → waiting on a conflict
//   update      when the kind's diff finds a difference or our metadata is off (missing,
//               another uid, a legacy object without installation id, the released mark)
//   status      the kind's synced status; Events for every change made and every
//               condition that turned; requeue after the jittered resync interval
//   delete      ours → deletionPolicy Delete: delete (404 is fine); Orphan: leave it,
//               marked released so the orphan collector spares it and a recreated object
//               of the same name adopts it; not ours → left alone
//
// Outcomes are values: synced, or waiting (Ready=False with a reason, no error, looked at
// again at the resync interval). A failed LiteLLM call becomes Ready=False with its reason
// (litellm-failure.ts), a Warning Event when Ready turns to it, and is rethrown for the
// controller's backoff (or as a TerminalError when retrying cannot help).
import { findLiteLLMError } from '../../../litellm/errors.ts';
import { jittered } from '../../../runtime/backoff.ts';
import { getCondition, type Condition } from '../../../runtime/conditions.ts';
import type { ReconcileContext, Reconciler } from '../../../runtime/controller.ts';
import type { ResourceType } from '../../../runtime/discovery.ts';
import type { EventRecorder } from '../../../runtime/events.ts';
import type { Finalizers } from '../../../runtime/finalizers.ts';
import type { KubeObject } from '../../../runtime/object.ts';
import type { Request } from '../../../runtime/request.ts';
import { done, type Result } from '../../../runtime/result.ts';
import type { StatusOf, StatusWriter } from '../../../runtime/status.ts';
import { litellmFailure, reconcileErrorFor } from '../litellm-failure.ts';
import {
  ADOPT_ANNOTATION,
  hasOwnerMetadata,
  holderOf,
  mergeOwnerMetadata,
  ofAnotherInstallation,
  ownerMetadata,
  ownershipOf,
  type OwnerRef,
  type Ownership,
} from '../ownership.ts';
import { isReleased, withoutReleasedMark, withReleasedMark } from '../released.ts';
import type {
  Call,
  Change,
  ExternalClient,
  ExternalContext,
  Observed,
  Waiting,
} from './external-client.ts';

/** Spread periodic resyncs of many objects over 10 % of the interval. */
const RESYNC_JITTER = 0.1;

/** What the managed reconciler reads of an object: a name, a uid, conditions, a policy. */
export type ManagedObject = KubeObject & {
  metadata: NonNullable<KubeObject['metadata']>;
  /** deletionPolicy, when the kind has one (VirtualKeys have none: Delete). */
  spec: object;
  status?: { conditions?: Condition[] };
};

/** Why an object is not Ready: a waiting outcome, or a failed call. */
export interface NotReady {
  reason: string;
  message: string;
  /** The waiting outcome's kind detail (Waiting.detail). */
  detail?: unknown;
  /** True for a failed call (what status recorded stays), false for waiting. */
  failed: boolean;
  /** metadata.generation of the object the reconcile read (not of a fresher copy). */
  generation: number | undefined;
}

/** Everything a kind tells the managed reconciler, besides its external client. */
export interface ManagedKind<T extends ManagedObject, O> {
  /** "Team", "User": the owner kind in LiteLLM metadata and in call descriptions. */
  kind: string;
  resource: ResourceType;
  finalizer: string;
  /** An external client for `object`, its desired state read from the caches. */
  connect(object: T, context: ExternalContext): ExternalClient<T, O>;
  /** The status saying why the object is not Ready, from the object as stored now. */
  notReadyStatus(current: T, notReady: NotReady, now: Date): StatusOf<T>;
  /** Reason and message of a conflict: the LiteLLM id is held by something not ours. */
  conflictReason: string;
  conflictMessage(id: string, ownership: 'other-owner' | 'unmanaged', holder: string): string;
  /** Which ownerships cleanup deletes (or releases); anything else is left alone. */
  cleansUp: ReadonlySet<Ownership>;
  /**
   * True when the object recorded in its status that it holds the LiteLLM object: then it
   * is ours even if someone edited its metadata (never one of another installation).
   */
  pinned?(object: T): boolean;
  adopted(id: string, ownership: 'previous-incarnation' | 'unmanaged'): Change;
  /** Told when our own object's metadata had to be put back; nothing is told when absent. */
  restored?(id: string): Change;
  orphaned(id: string): Change;
  /** Told once deleted; without it the client tells what it deleted itself. */
  deleted?(id: string): Change;
  /**
   * A failure of something besides LiteLLM the kind depends on (VirtualKey: Redis), as the
   * Ready reason to record; the error is rethrown as it is, for the controller's backoff.
   */
  failure?(err: unknown): { reason: string; message: string } | undefined;
  /**
   * Folds the changes of one pass into one Event per type (notes joined), so a new object
   * costs one Event rather than one per step.
   */
  coalesceEvents?: boolean;
  /** Drops what the kind remembers of an object that is going away. */
  forget?(object: T): void;
}

export interface ManagedReconcilerDeps<T extends ManagedObject, O> {
  kind: ManagedKind<T, O>;
  /** The object a request names, from the cache; undefined when gone. */
  lookup(request: Request): T | undefined;
  finalizers: Pick<Finalizers, 'reconcile'>;
  status: Pick<StatusWriter, 'update'>;
  recorder: Pick<EventRecorder, 'record'>;
  /** Stamped into every LiteLLM object this installation makes; others' are never touched. */
  installationId: string;
  /** How often a converged object is compared with LiteLLM again (jittered by +10 %). */
  resyncIntervalMs: number;
  now?: () => Date;
  random?: () => number;
}

type Outcome<O> = { kind: 'synced'; observed: Observed<O> } | Waiting;

export class ManagedReconciler<T extends ManagedObject, O> implements Reconciler {
  readonly #deps: ManagedReconcilerDeps<T, O>;
  readonly #kind: ManagedKind<T, O>;
  readonly #now: () => Date;
  readonly #random: () => number;

  constructor(deps: ManagedReconcilerDeps<T, O>) {
    this.#deps = deps;
    this.#kind = deps.kind;
    this.#now = deps.now ?? (() => new Date());
    this.#random = deps.random ?? Math.random;
  }

  async reconcile(request: Request, context: ReconcileContext): Promise<Result> {
    const object = this.#deps.lookup(request);
    if (!object) return done; // gone: the finalizer made sure LiteLLM was cleaned up first
    return this.#deps.finalizers.reconcile(object, this.#kind.finalizer, {
      apply: (current) =>
        this.#reportingFailures(current, context, () => this.#apply(current, context)),
      cleanup: (current) =>
        this.#reportingFailures(current, context, () => this.#cleanup(current, context)),
    });
  }

  // ---- apply ---------------------------------------------------------------------------

  async #apply(object: T, context: ReconcileContext): Promise<Result> {
    const now = this.#now();
    const changes: Change[] = [];
    const external = this.#kind.connect(object, {
      call: this.#call(object, context),
      now,
      changes,
      log: context.log,
    });
    try {
      const outcome = external.blocked?.() ?? (await this.#sync(object, external, changes));
      if (outcome.kind === 'waiting') {
        const { reason, message, detail } = outcome;
        const notReady = { reason, message, detail, failed: false };
        await this.#writeNotReady(object, notReady, now, context, external.latest?.());
        return { requeueAfter: this.#resyncDelay() };
      }
      await external.publish?.(outcome.observed);
      const latest = external.latest?.() ?? object;
      const written = await this.#deps.status.update(this.#kind.resource, latest, (current) =>
        external.syncedStatus(current, outcome.observed, now),
      );
      if (written.outcome === 'updated' && external.statusChanges) {
        changes.push(...external.statusChanges(object, written.object));
      }
      const due = external.dueInMs?.(now) ?? Infinity;
      return { requeueAfter: Math.max(1, Math.min(this.#resyncDelay(), due)) };
    } finally {
      // What was changed in LiteLLM is told even when a later step failed.
      this.#record(object, changes);
    }
  }

  async #sync(object: T, external: ExternalClient<T, O>, changes: Change[]): Promise<Outcome<O>> {
    const owner = this.#ownerOf(object);
    let observation = await external.observe();
    if ('kind' in observation) return observation;
    if (!observation.exists) {
      try {
        const created = await external.create(ownerMetadata(owner));
        if ('kind' in created) return created;
        observation = { exists: true, ...created };
      } catch (err) {
        // Taken meanwhile: by our own attempt whose answer was lost, another replica, or
        // something else. Look again and judge by ownership.
        const conflict = findLiteLLMError(err);
        if (conflict?.kind !== 'conflict') throw err;
        observation = await external.observe();
        if ('kind' in observation) return observation;
        if (!observation.exists) {
          const waiting = external.createConflict?.(conflict);
          if (waiting) return waiting;
          throw err;
        }
      }
    }

    const ownership = this.#ownership(object, external, observation);
    if (ownership === 'other-owner' || (ownership === 'unmanaged' && !adoptionRequested(object))) {
      const holder = holderOf(observation.metadata, this.#deps.installationId);
      return {
        kind: 'waiting',
        reason: this.#kind.conflictReason,
        message: this.#kind.conflictMessage(external.id, ownership, holder),
      };
    }
    // A kind that judges ownership itself keeps its own metadata.
    const metadataStale =
      !external.ownership &&
      (!hasOwnerMetadata(observation.metadata, owner) || isReleased(observation.metadata));
    if (!observation.upToDate || metadataStale) {
      const metadata = metadataStale
        ? withoutReleasedMark(mergeOwnerMetadata(observation.metadata, owner))
        : undefined;
      const waiting = await external.update(observation, metadata);
      if (waiting) return waiting;
    }
    if (ownership !== 'ours') changes.push(this.#kind.adopted(external.id, ownership));
    else if (metadataStale && this.#kind.restored) changes.push(this.#kind.restored(external.id));
    return { kind: 'synced', observed: observation };
  }

  // ---- cleanup -------------------------------------------------------------------------

  /** Tolerates apply never having run: nothing in LiteLLM, or not ours, is nothing to do. */
  async #cleanup(object: T, context: ReconcileContext): Promise<Result> {
    this.#kind.forget?.(object);
    const now = this.#now();
    const changes: Change[] = [];
    const external = this.#kind.connect(object, {
      call: this.#call(object, context),
      now,
      changes,
      log: context.log,
    });
    try {
      const observation = await external.observe();
      if ('kind' in observation || !observation.exists) return done;
      const ownership = this.#ownership(object, external, observation);
      if (!this.#kind.cleansUp.has(ownership)) {
        context.log.info({ id: external.id, ownership }, 'LiteLLM object is not ours; leaving it');
        return done;
      }
      if (deletionPolicyOf(object) === 'Orphan') {
        if (!isReleased(observation.metadata)) {
          await external.updateMetadata(observation, withReleasedMark(observation.metadata, now));
        }
        changes.push(this.#kind.orphaned(external.id));
        return done;
      }
      try {
        await external.delete(observation);
      } catch (err) {
        if (findLiteLLMError(err)?.kind !== 'notFound') throw err;
      }
      if (this.#kind.deleted) changes.push(this.#kind.deleted(external.id));
      return done;
    } finally {
      this.#record(object, changes);
    }
  }

  // ---- failures, status, events --------------------------------------------------------

  /**
   * A failed LiteLLM call becomes Ready=False with its reason, then is rethrown for the
   * controller: a retryable one backs off (or waits Retry-After), an invalid one is
   * terminal. Nothing is written when the controller is stopping.
   */
  async #reportingFailures(
    object: T,
    context: ReconcileContext,
    run: () => Promise<Result>,
  ): Promise<Result> {
    try {
      return await run();
    } catch (err) {
      if (context.signal.aborted) throw err;
      const failure = litellmFailure(err);
      const other = failure ? undefined : this.#kind.failure?.(err);
      const why = failure ?? other;
      if (!why) throw err;
      const { reason, message } = why;
      await this.#writeNotReady(object, { reason, message, failed: true }, this.#now(), context)
        // The failure is what gets retried; the next attempt writes status again.
        .catch((statusError: unknown) =>
          context.log.warn({ err: statusError }, 'could not record the failure in status'),
        );
      throw failure ? reconcileErrorFor(failure, err) : err;
    }
  }

  /** Writes why the object is not Ready; a Warning Event when Ready turns to this reason. */
  async #writeNotReady(
    object: T,
    notReady: Omit<NotReady, 'generation'>,
    now: Date,
    context: ReconcileContext,
    latest: T = object,
  ): Promise<void> {
    const why = { ...notReady, generation: object.metadata.generation };
    const written = await this.#deps.status.update(this.#kind.resource, latest, (current) =>
      this.#kind.notReadyStatus(current, why, now),
    );
    const before = getCondition(object.status?.conditions, 'Ready');
    if (
      written.outcome === 'updated' &&
      (before?.reason !== notReady.reason || before.status !== 'False')
    ) {
      this.#record(object, [{ type: 'Warning', reason: notReady.reason, note: notReady.message }]);
    }
    context.log.debug({ outcome: written.outcome }, 'status written');
  }

  #record(object: T, changes: readonly Change[]): void {
    const events = this.#kind.coalesceEvents ? coalesced(changes) : changes;
    // The recorder never throws; nothing waits for the Events.
    for (const { type = 'Normal', ...change } of events) {
      void this.#deps.recorder.record(object, { type, ...change });
    }
  }

  // ---- helpers -------------------------------------------------------------------------

  #ownership(object: T, external: ExternalClient<T, O>, observed: Observed<O>): Ownership {
    if (external.ownership) return external.ownership(observed);
    const { metadata } = observed;
    const pinned =
      this.#kind.pinned?.(object) === true &&
      !ofAnotherInstallation(metadata, this.#deps.installationId);
    return pinned ? 'ours' : ownershipOf(metadata, this.#ownerOf(object));
  }

  #ownerOf(object: T): OwnerRef {
    return {
      kind: this.#kind.kind,
      name: object.metadata.name!,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      uid: object.metadata.uid!,
      installation: this.#deps.installationId,
    };
  }

  #call(object: T, context: ReconcileContext): Call {
    const { namespace, name, uid } = object.metadata;
    return {
      object: `${this.#kind.kind} ${namespace ? `${namespace}/` : ''}${name!}`,
      subject: { kind: this.#kind.kind, ...(namespace && { namespace }), name: name!, uid },
      signal: context.signal,
    };
  }

  #resyncDelay(): number {
    return Math.round(jittered(this.#deps.resyncIntervalMs, RESYNC_JITTER, this.#random));
  }
}

function deletionPolicyOf(object: ManagedObject): 'Delete' | 'Orphan' {
  const { deletionPolicy } = object.spec as { deletionPolicy?: 'Delete' | 'Orphan' };
  return deletionPolicy ?? 'Delete';
}

function adoptionRequested(object: ManagedObject): boolean {
  return object.metadata.annotations?.[ADOPT_ANNOTATION] === 'true';
}

/**
 * One Event per type for the changes of one pass: the first change's reason and action,
 * every note of that type in order.
 */
export function coalesced(changes: readonly Change[]): Change[] {
  const out: Change[] = [];
  for (const type of ['Warning', 'Normal'] as const) {
    const ofType = changes.filter((c) => (c.type ?? 'Normal') === type);
    if (ofType.length === 0) continue;
    out.push({ ...ofType[0]!, type, note: ofType.map((c) => c.note).join('; ') });
  }
  return out;
}
