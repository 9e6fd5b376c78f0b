// Whether the routing publisher has heard of every VirtualKey: its memory (key hash → record)
// is the source a Redis that lost the config is refilled from, and it starts empty with
// every process. Until each VirtualKey in the synced cache has been reconciled once since
// start, a refill would hold only some keys, and a gateway would refuse the others as
// unknown (401) although they are valid. So until then the publisher marks what it writes
// `incomplete` (contracts/routing/schema.ts › RoutingMeta), and gateways answer a key missing from
// an incomplete config with 503, never 401.
//
// "Reconciled" means the VirtualKey reconciler came to a decision: it returned, or gave up
// for good (a terminal error, no retry will come). A retryable failure (LiteLLM down) does
// not count: that key's record may not be known yet, and the config stays incomplete until
// the retry succeeds. Once complete, always complete: from then on every change goes
// through the publisher, whose memory follows it.
import type { VirtualKey } from '../../../crds/api/index.ts';
import type { ObjectStore } from '../runtime/cache.ts';
import type { Reconciler } from '../runtime/controller.ts';
import type { Request } from '../runtime/request.ts';
import { isTerminalError } from '../runtime/result.ts';

export class KeyInventory {
  readonly #keys: ObjectStore<VirtualKey>;
  readonly #synced: () => boolean;
  /** namespace/name of every VirtualKey reconciled since start. */
  readonly #reconciled = new Set<string>();
  #complete = false;
  readonly #onComplete = new Set<() => void>();

  /** `keys`: the VirtualKey controller's store; `synced`: whether its informer has synced. */
  constructor(keys: ObjectStore<VirtualKey>, synced: () => boolean) {
    this.#keys = keys;
    this.#synced = synced;
  }

  /** True once every VirtualKey in the synced cache has been reconciled since start. */
  get complete(): boolean {
    return this.#check();
  }

  #check(): boolean {
    if (this.#complete) return true;
    if (!this.#synced()) return false;
    const missing = this.#keys
      .list()
      .some((k) => !this.#reconciled.has(requestKey(k.metadata.namespace, k.metadata.name)));
    if (missing) return false;
    this.#complete = true;
    this.#reconciled.clear();
    for (const listener of this.#onComplete) listener();
    return true;
  }

  /** Keys reconciled so far, and how many the cache holds (for the start-up log). */
  get progress(): { reconciled: number; keys: number } {
    return { reconciled: this.#reconciled.size, keys: this.#keys.list().length };
  }

  /** Calls `listener` once, when the inventory becomes complete. */
  onComplete(listener: () => void): () => void {
    this.#onComplete.add(listener);
    return () => this.#onComplete.delete(listener);
  }

  /** `reconciler`, noting every request it comes to a decision on. */
  observe(reconciler: Reconciler): Reconciler {
    return {
      reconcile: async (request, context) => {
        try {
          const result = await reconciler.reconcile(request, context);
          this.#noted(request);
          return result;
        } catch (err) {
          if (isTerminalError(err)) this.#noted(request);
          throw err;
        }
      },
    };
  }

  #noted(request: Request): void {
    if (this.#complete) return;
    this.#reconciled.add(requestKey(request.namespace, request.name));
    this.#check(); // tells the listeners as soon as the last key is in
  }
}

function requestKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}
