// What a kind supplies to the managed reconciler (managed-reconciler.ts) for the object it
// keeps in LiteLLM, in crossplane-runtime's shape (pkg/reconciler/managed, ExternalClient):
// observe / create / update / delete, each idempotent, built once per reconcile with the
// desired state already read from the caches, so the four calls only compare and write.
//
// Observe says whether the LiteLLM object exists and whether it is up to date (the kind's
// desired-state diff); ownership metadata is the managed reconciler's business: it hands
// the metadata to write to create and update, and never lets a kind touch an object it
// does not own.
import type { AuditObject } from '../../../../../contracts/audit/audit-record.ts';
import type { EventSpec } from '../../../runtime/events.ts';
import type { Logger } from '../../../runtime/logger.ts';
import type { StatusOf } from '../../../runtime/status.ts';
import type { LiteLLMError } from '../../../litellm/errors.ts';
import type { Ownership } from '../ownership.ts';

/** One change made in LiteLLM (or found there), told as an Event; Normal unless said. */
export type Change = Omit<EventSpec, 'type'> & { type?: EventSpec['type'] };

/** Metadata as LiteLLM stores it on teams, users and keys. */
export type LiteLLMMetadata = Record<string, unknown> | null | undefined;

/** What a LiteLLM call needs to know about the reconcile it is made for. */
export interface Call {
  /** The object it is made for, e.g. "Team ml-research" (in errors and logs). */
  object: string;
  /** The same object as the audit trail names it (kind, namespace, name, uid). */
  subject?: AuditObject;
  signal: AbortSignal;
}

/** Handed to a kind's connect: the call context, the time of this pass, and a place for changes. */
export interface ExternalContext {
  call: Call;
  now: Date;
  /** Changes the client made; recorded as Events once the pass is over. */
  changes: Change[];
  /** The reconcile's logger (controller, object and reconcileID already on it). */
  log: Logger;
}

/** The LiteLLM object as observed (or as just created). */
export interface Observed<O> {
  resource: O;
  /** Its metadata, where ownership is read from. */
  metadata: LiteLLMMetadata;
  /** False when the kind's desired-state diff finds something to write. */
  upToDate: boolean;
}

/** What observe found; or that the reconcile must wait (what it read says it cannot go on). */
export type ExternalObservation<O> = ({ exists: true } & Observed<O>) | { exists: false } | Waiting;

/**
 * A reconcile that cannot go on until something outside it changes (another object
 * holds the LiteLLM id, a dependency is not ready): Ready=False with this reason, no error,
 * looked at again at the resync interval or when a watch fires.
 */
export interface Waiting {
  kind: 'waiting';
  reason: string;
  message: string;
  /** What the kind's notReadyStatus also shows (VirtualKey: the team and missing models). */
  detail?: unknown;
}

export interface ExternalClient<T, O> {
  /** The LiteLLM id of the object (team_id, user_id), for notes and logs. */
  readonly id: string;
  /** Why the object cannot be made yet (read from the caches before observing), if so. */
  blocked?(): Waiting | undefined;
  /** Reads the LiteLLM object; exists: false when LiteLLM has none (404). */
  observe(): Promise<ExternalObservation<O>>;
  /**
   * Whose the observed object is, for a kind that judges it itself (a VirtualKey's keys,
   * row by row); without it, the managed reconciler reads `metadata` and restores ours.
   * A kind that judges ownership keeps its metadata itself.
   */
  ownership?(observed: Observed<O>): Ownership;
  /**
   * Creates it with `metadata` (ours), or says why it must wait. A LiteLLM 409 is rethrown
   * as it is: the managed reconciler observes again and judges ownership.
   */
  create(metadata: Record<string, string>): Promise<Observed<O> | Waiting>;
  /**
   * Makes an existing object what the object's spec says. `metadata`, when given, is the
   * whole metadata to write with it (ownership restored or taken over).
   */
  update(
    observed: Observed<O>,
    metadata: Record<string, unknown> | undefined,
  ): Promise<void | Waiting>;
  /** Writes only the metadata (deletionPolicy Orphan's released mark). */
  updateMetadata(observed: Observed<O>, metadata: Record<string, unknown>): Promise<void>;
  /** Deletes it; a 404 is taken care of by the managed reconciler. */
  delete(observed: Observed<O>): Promise<void>;
  /**
   * Publishes what others read of the synced object (crossplane's connection details; a
   * VirtualKey's gateway records), after LiteLLM is in sync and before status.
   */
  publish?(observed: Observed<O>): Promise<void>;
  /**
   * The object as the client last wrote it (a VirtualKey records key values in status
   * before LiteLLM hears of them): status is written over this copy, not a stale one.
   */
  latest?(): T;
  /**
   * Create answered 409 yet observe finds nothing (the id is free but something else, an
   * e-mail address, is taken): the outcome to report, or undefined to fail with `error`.
   */
  createConflict?(error: LiteLLMError): Waiting | undefined;
  /** The status once LiteLLM matches, computed from the object as stored now (`current`). */
  syncedStatus(current: T, observed: Observed<O>, now: Date): StatusOf<T>;
  /** Events the written status tells (a condition that turned), from before and after. */
  statusChanges?(before: T, after: T): Change[];
  /** When the object must be looked at again sooner than the resync (ms from now). */
  dueInMs?(now: Date): number | undefined;
}
