// The key Secrets' watch, less the echo of the operator's own writes. A reconcile that writes
// a Secret (a mint, a rotation) goes on with the Secret as written, so the watch event of that
// very write (its resourceVersion) tells it nothing; enqueueing it would reconcile every new
// key a second time for nothing. Every other event still enqueues the owning VirtualKey: a
// tenant's edit, a deletion, an event nobody can tell apart (controller-runtime's predicates
// drop only what is known to be accounted for; so do we).
//
// The watch event of a write may arrive before the write's response does. While a write of
// a Secret is in flight, its events are held back; when the write returns they are dropped
// when they carry its resourceVersion, and enqueued otherwise (or when the write failed:
// whether it took effect is unknown). The cache holds metadata only (watches.ts), so the
// resourceVersion is all there is to compare, and all that is needed: the API server gives
// every write a new one.
import type { V1Secret } from '@kubernetes/client-node';
import type { EventHandler } from '../../runtime/informer.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Request } from '../../runtime/request.ts';
import { KeyValues } from './key-values.ts';
import { keyForSecret } from './watches.ts';

type KeySecret = V1Secret & KubeObject;

/** Own resourceVersions remembered per Secret whose events have not arrived (yet): a bound. */
const MAX_REMEMBERED = 8;

interface InFlight {
  writes: number;
  /** resourceVersions seen while a write was in flight, and whom they enqueue. */
  held: Map<string, readonly Request[]>;
}

export class OwnSecretWrites {
  readonly #written = new Map<string, Set<string>>();
  readonly #inFlight = new Map<string, InFlight>();
  #enqueue: (request: Request) => void = () => {};

  /**
   * Runs `write` (a create or replace of namespace/name) and remembers the resourceVersion it
   * returns as the operator's own. `before` is the resourceVersion the Secret had (undefined:
   * none): a write that changed nothing returns it, and nothing is remembered.
   */
  async around<T extends V1Secret>(
    namespace: string,
    name: string,
    before: string | undefined,
    write: () => Promise<T>,
  ): Promise<T> {
    const id = secretId(namespace, name);
    const flight: InFlight = this.#inFlight.get(id) ?? { writes: 0, held: new Map() };
    this.#inFlight.set(id, flight);
    flight.writes++;
    let written: string | undefined;
    try {
      const secret = await write();
      const version = secret.metadata?.resourceVersion;
      if (version && version !== before) written = version;
      return secret;
    } finally {
      flight.writes--;
      if (written !== undefined && !flight.held.delete(written)) this.#remember(id, written);
      if (flight.writes === 0) {
        this.#inFlight.delete(id);
        // Whatever else arrived meanwhile was not this write: a tenant's, or unknown.
        for (const requests of flight.held.values()) requests.forEach((r) => this.#enqueue(r));
      }
    }
  }

  /** The Secret watch's handler: enqueues the owning VirtualKey of every change but ours. */
  handler(enqueue: (request: Request) => void): EventHandler<KeySecret> {
    this.#enqueue = enqueue;
    const enqueueOwner = (secret: KeySecret) => keyForSecret(secret).forEach(enqueue);
    return {
      add: (secret) => this.#changed(secret),
      update: (before, after) => {
        if (before.metadata?.resourceVersion !== after.metadata?.resourceVersion)
          this.#changed(after);
      },
      delete: (secret) => {
        this.#written.delete(secretId(secret.metadata?.namespace, secret.metadata?.name));
        enqueueOwner(secret);
      },
      resync: enqueueOwner,
    };
  }

  /** Own resourceVersions not yet seen (for tests: nothing is kept that never arrives). */
  get remembered(): number {
    let n = 0;
    for (const versions of this.#written.values()) n += versions.size;
    return n;
  }

  #changed(secret: KeySecret): void {
    const id = secretId(secret.metadata?.namespace, secret.metadata?.name);
    const version = secret.metadata?.resourceVersion ?? '';
    const ours = this.#written.get(id);
    if (ours?.delete(version)) {
      if (ours.size === 0) this.#written.delete(id);
      return;
    }
    // A change that is not ours: the owner reconciles. Versions of ours still awaited are
    // older than this one and may never come (a relist skips them): forget them.
    this.#written.delete(id);
    const flight = this.#inFlight.get(id);
    if (flight) {
      flight.held.set(version, keyForSecret(secret));
      return;
    }
    keyForSecret(secret).forEach((r) => this.#enqueue(r));
  }

  #remember(id: string, version: string): void {
    const versions = this.#written.get(id) ?? new Set<string>();
    versions.add(version);
    if (versions.size > MAX_REMEMBERED) versions.delete(versions.values().next().value!);
    this.#written.set(id, versions);
  }
}

/**
 * KeyValues whose Secret writes (create or replace, mints and carry-overs included) are
 * remembered as the operator's own by `writes`.
 */
export class TrackedKeyValues extends KeyValues {
  readonly #writes: OwnSecretWrites;

  constructor(writes: OwnSecretWrites, ...args: ConstructorParameters<typeof KeyValues>) {
    super(...args);
    this.#writes = writes;
  }

  override write(...args: Parameters<KeyValues['write']>): ReturnType<KeyValues['write']> {
    const [key, layout, , current] = args;
    return this.#writes.around(
      key.metadata.namespace!,
      layout.name,
      current?.metadata?.resourceVersion,
      () => super.write(...args),
    );
  }
}

function secretId(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}
