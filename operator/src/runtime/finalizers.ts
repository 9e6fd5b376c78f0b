// Finalizers, with kube-rs's guarantee (kube-runtime finalizer()): an object this operator
// has touched in LiteLLM cannot disappear from Kubernetes before the cleanup in LiteLLM
// succeeded.
//
//   not deleting, finalizer missing → add it first (so a delete from now on waits for us),
//                                      then apply
//   not deleting, finalizer present → apply
//   deleting, finalizer present     → cleanup; remove the finalizer only if cleanup succeeded
//   deleting, finalizer absent      → nothing: not ours to clean up (any more)
//
// cleanup must tolerate apply never having run (the object may be deleted right after the
// finalizer was added) and having run halfway. Patches are JSON merge patches carrying
// metadata.resourceVersion: the finalizer list is replaced whole, so a stale copy must fail
// with 409 (retried with backoff from the fresh cache) rather than drop another
// controller's finalizer.
import {
  ApiException,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
} from '@kubernetes/client-node';
import { isDeleting, type KubeObject } from './object.ts';
import type { Result } from './result.ts';

export class Finalizers {
  readonly #api: KubernetesObjectApi;
  readonly #fieldManager: string | undefined;

  constructor(kc: KubeConfig, options: { fieldManager?: string } = {}) {
    this.#api = KubernetesObjectApi.makeApiClient(kc);
    this.#fieldManager = options.fieldManager;
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
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  async #patchFinalizers<T extends KubeObject>(object: T, finalizers: string[]): Promise<T> {
    const { apiVersion, kind, metadata } = object;
    if (!apiVersion || !kind || !metadata?.name)
      throw new TypeError('object needs apiVersion, kind and metadata.name');
    if (!metadata.resourceVersion)
      throw new TypeError('object needs metadata.resourceVersion (optimistic concurrency)');
    const patch = {
      apiVersion,
      kind,
      metadata: {
        name: metadata.name,
        ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
        resourceVersion: metadata.resourceVersion,
        finalizers,
      },
    };
    return (await this.#api.patch(
      patch,
      undefined,
      undefined,
      this.#fieldManager,
      undefined,
      PatchStrategy.MergePatch,
    )) as unknown as T;
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
      const result = (await handlers.cleanup(object)) ?? {};
      // A cleanup asking to be run again later has not finished: keep the finalizer.
      if (result.requeueAfter || result.requeue) return result;
      await this.remove(object, finalizer);
      return {};
    }
    const current = Finalizers.has(object, finalizer) ? object : await this.add(object, finalizer);
    return handlers.apply(current);
  }
}
