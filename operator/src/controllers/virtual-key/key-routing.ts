// What the VirtualKey reconciler needs of the routing publisher (operator/src/routing/):
// put a key's record, remove one. An interface, so the reconciler's tests can watch calls
// and the publisher stays free to batch or skip writes that change nothing.
import type { KeyPolicy } from '../../../../contracts/routing/schema.ts';

export interface KeyRouting {
  /** Publishes the record (a no-op when it is what was last published). */
  putKey(policy: KeyPolicy): Promise<void>;
  /** Removes the record of this key hash. */
  removeKey(keyHash: string): Promise<void>;
}

/** Redis could not be written: the reconcile fails and is retried with backoff. */
export function isRoutingUnavailable(err: unknown): boolean {
  return err instanceof Error && err.name === 'RoutingUnavailableError';
}
