// Finalizers, with kube-rs's guarantee (kube-runtime finalizer()): an object this operator
// has touched in LiteLLM cannot disappear from Kubernetes before the cleanup in LiteLLM
// succeeded.
//
//   not deleting, finalizer missing → add it first (so a delete from now on waits for us),
//                                      then apply
//   not deleting, finalizer present → apply
//   deleting, finalizer present     → cleanup; remove the finalizer only if cleanup succeeded
//   deleting, finalizer absent      → nothing: not ours to clean up (any more)
//   deleting, release annotation    → cleanup once more; if it fails, a Warning Event and
//                                      remove the finalizer anyway
//
// A finalizer must never wedge a namespace:
//
// - A cleanup that fails is retried with the object's backoff, whatever the error: the
//   error leaves here as a CleanupFailedError, which the controller never treats as
//   terminal (error-policy.ts). "Terminal" means "retrying the same spec cannot help", but
//   a delete waits on us, and what stands in the way (LiteLLM down, a key LiteLLM refuses
//   to delete today) can go away; dropping the retry would strand the finalizer for good.
// - When the outside system is gone for good, an admin sets
//   `llmtenancy.dev/release-finalizer: "true"` on the object being deleted. Cleanup is tried
//   once more (while LiteLLM works the annotation changes nothing, so nobody leaks a key
//   through it); when that fails, a Warning Event `FinalizerReleased` says so and why, and
//   the finalizer goes anyway. What the object had in LiteLLM still carries its owner
//   metadata, and the owner no longer exists, so orphan collection (ORPHAN_COLLECTION=on)
//   deletes it on a later pass.
//
// The annotation is read only while the object is being deleted: on a live object it does
// nothing. Who may set it: whoever may update the object. For a tenant (edit on one
// namespace) that is their own VirtualKeys: releasing skips only their own keys' cleanup, and
// only while LiteLLM fails; the gateway drops a released key once the routing prune sees its
// owner gone, and orphan collection deletes it in LiteLLM. Nothing of another team is
// reachable through it, so it is not restricted further (Teams and Users are cluster-scoped:
// admins only anyway).
//
// cleanup must tolerate apply never having run (the object may be deleted right after the
// finalizer was added) and having run halfway. Patches are JSON merge patches carrying
// metadata.resourceVersion: the finalizer list is replaced whole, so a stale copy must fail
// with 409 (retried with backoff from the fresh cache) rather than drop another
// controller's finalizer.
import { EventRecorder } from './events.ts';
import { isNotFound, type KubeClient } from './kube-client.ts';
import { isDeleting, type KubeObject } from './object.ts';
import type { Result } from './result.ts';

/** Set to "true" on an object being deleted: remove its finalizers without cleanup. */
export const RELEASE_FINALIZER_ANNOTATION = 'llmtenancy.dev/release-finalizer';

/**
 * A cleanup failed. Whatever caused it (a TerminalError included, as its cause), the
 * controller retries it with backoff: the object's deletion waits on it.
 */
export class CleanupFailedError extends Error {
  override readonly name = 'CleanupFailedError';
}

export function isCleanupFailure(err: unknown): boolean {
  return err instanceof CleanupFailedError;
}

export interface FinalizersOptions {
  fieldManager?: string;
  /** Where FinalizerReleased Events go. Default: an EventRecorder of the operator's own. */
  recorder?: Pick<EventRecorder, 'record'>;
}

export class Finalizers {
  readonly #kube: KubeClient;
  readonly #fieldManager: string | undefined;
  readonly #recorder: Pick<EventRecorder, 'record'>;

  constructor(kube: KubeClient, options: FinalizersOptions = {}) {
    this.#kube = kube;
    this.#fieldManager = options.fieldManager;
    this.#recorder =
      options.recorder ??
      new EventRecorder(kube, { reportingController: 'llmtenancy.dev/operator' });
  }

  /** True when an admin asked to release the finalizers of `object` (being deleted). */
  static releaseRequested(object: KubeObject): boolean {
    return (
      isDeleting(object) && object.metadata?.annotations?.[RELEASE_FINALIZER_ANNOTATION] === 'true'
    );
  }

  static has(object: KubeObject, finalizer: string): boolean {
    return object.metadata?.finalizers?.includes(finalizer) ?? false;
  }

  /** Adds `finalizer` (no request when present). Returns the object as stored. */
  async add<T extends KubeObject>(object: T, finalizer: string): Promise<T> {
    if (Finalizers.has(object, finalizer)) return object;
    return this.#patchFinalizers(object, [...(object.metadata?.finalizers ?? []), finalizer]);
  }

  /**
   * Removes `finalizer` (no request when absent). Returns the object as stored, or
   * undefined when that removal let the API server delete it (or it was already gone).
   */
  async remove<T extends KubeObject>(object: T, finalizer: string): Promise<T | undefined> {
    if (!Finalizers.has(object, finalizer)) return object;
    try {
      return await this.#patchFinalizers(
        object,
        (object.metadata?.finalizers ?? []).filter((f) => f !== finalizer),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #patchFinalizers<T extends KubeObject>(object: T, finalizers: string[]): Promise<T> {
    const { apiVersion, kind, metadata } = object;
    if (!apiVersion || !kind || !metadata?.name)
      throw new TypeError('object needs apiVersion, kind and metadata.name');
    if (!metadata.resourceVersion)
      throw new TypeError('object needs metadata.resourceVersion (optimistic concurrency)');
    const ref = {
      name: metadata.name,
      ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
    };
    const patch = { metadata: { resourceVersion: metadata.resourceVersion, finalizers } };
    return this.#kube.mergePatch<T>({ apiVersion, kind }, ref, patch, {
      fieldManager: this.#fieldManager,
    });
  }

  /**
   * Runs `apply` or `cleanup` for `object` under `finalizer`, as described at the top of
   * this file. Errors of apply and cleanup propagate (the controller retries them).
   */
  async reconcile<T extends KubeObject>(
    object: T,
    finalizer: string,
    handlers: {
      apply: (object: T) => Promise<Result>;
      cleanup: (object: T) => Promise<Result | void>;
    },
  ): Promise<Result> {
    if (isDeleting(object)) {
      if (!Finalizers.has(object, finalizer)) return {};
      if (Finalizers.releaseRequested(object)) {
        // One more cleanup first: released is only what cannot be cleaned up now.
        const failure = await cleanupFailure(() => handlers.cleanup(object));
        if (failure !== undefined) {
          // The Event first: it names what was skipped even when the removal must be retried.
          await this.#recorder.record(object, {
            type: 'Warning',
            reason: 'FinalizerReleased',
            action: 'ReleaseFinalizer',
            note: `finalizer ${finalizer} removed without cleanup (annotation ${RELEASE_FINALIZER_ANNOTATION}; cleanup: ${failure}); what this object left in LiteLLM is deleted by orphan collection`,
          });
        }
        await this.remove(object, finalizer);
        return {};
      }
      let result: Result;
      try {
        result = (await handlers.cleanup(object)) ?? {};
      } catch (err) {
        throw new CleanupFailedError(
          `cleanup before removing finalizer ${finalizer} failed: ${(err as Error)?.message ?? String(err)}`,
          { cause: err },
        );
      }
      // A cleanup asking to be run again later has not finished: keep the finalizer.
      if (result.requeueAfter || result.requeue) return result;
      await this.remove(object, finalizer);
      return {};
    }
    const current = Finalizers.has(object, finalizer) ? object : await this.add(object, finalizer);
    return handlers.apply(current);
  }
}

/** Why `cleanup` did not finish (threw, or asked to run again), or undefined when it did. */
async function cleanupFailure(cleanup: () => Promise<Result | void>): Promise<string | undefined> {
  try {
    const result = (await cleanup()) ?? {};
    return result.requeue || result.requeueAfter ? 'not finished' : undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
