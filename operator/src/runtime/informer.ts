// An informer keeps a local cache of one resource type in step with the API server and
// tells handlers what changed, like client-go's reflector + shared informer, supervised by
// our own loop because every failure mode must end in a working watch:
//
//   list (paginated) ──► watch from the list's resourceVersion, allowWatchBookmarks=true
//        ▲                 │ each event (bookmarks too) advances the resourceVersion
//        │ 410 Gone        │ server ends the stream (timeoutSeconds, jittered) → watch again
//        └─────────────────┤ error / stream cut / silent past stallTimeout (watchdog)
//                          └──► watch again from the last resourceVersion after a jittered,
//                               capped exponential backoff (reset once events flow again)
//
// A relist diffs the fresh list against the cache, so objects deleted while the watch was
// down are reported as deletes. Periodic resync re-delivers every cached object to each
// handler (jittered), because LiteLLM drifts without any Kubernetes event.
import type { KubeConfig } from '@kubernetes/client-node';
import { Backoff, jittered, type BackoffOptions } from './backoff.ts';
import { ObjectStore } from './cache.ts';
import { sleep, systemClock, type Clock, type TimerHandle } from './clock.ts';
import {
  collectionPath,
  resolveResource,
  type GroupVersionKind,
  type ResourceType,
} from './discovery.ts';
import {
  getJson,
  isGone,
  KubeApiError,
  METADATA_LIST_ACCEPT,
  METADATA_WATCH_ACCEPT,
  watchEvents,
  type KubeStatus,
  type WatchEvent,
} from './kube-http.ts';
import { silentLogger, type Logger } from './logger.ts';
import { objectKey, type KubeObject } from './object.ts';

export interface EventHandler<T> {
  add?(object: T): void;
  update?(oldObject: T, newObject: T): void;
  delete?(object: T): void;
  /**
   * A periodic re-delivery of a cached object. Without this method resyncs arrive as
   * update(object, object). Kept apart so generation predicates, which drop updates that
   * changed nothing, do not also drop the resyncs meant to catch outside drift.
   */
  resync?(object: T): void;
}

export interface HandlerOptions {
  /** Re-deliver every cached object this often (± 10 % jitter); 0 turns it off. */
  resyncPeriodMs?: number;
}

export interface HandlerRegistration {
  remove(): void;
}

export interface ListPage<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

/** The transport an informer uses; kubeListWatcher talks to a real API server. */
export interface ListWatcher<T> {
  list(options: { limit: number; continue?: string; signal: AbortSignal }): Promise<ListPage<T>>;
  watch(options: {
    resourceVersion: string;
    timeoutSeconds: number;
    signal: AbortSignal;
  }): AsyncIterable<WatchEvent<T | KubeStatus>>;
}

export interface InformerOptions<T> {
  listWatcher: ListWatcher<T>;
  /** For logs: "ConfigMap v1 in ns-1". */
  description: string;
  logger?: Logger;
  clock?: Clock;
  /** Objects per list page. Default 500. */
  pageSize?: number;
  /** Server-side watch duration; each watch asks for a random value in [t, 2t). Default 300 s. */
  watchTimeoutSeconds?: number;
  /**
   * A watch that delivers nothing, not even a bookmark, for this long is presumed dead
   * and restarted. Servers send a bookmark about every minute. Default 150 s.
   */
  stallTimeoutMs?: number;
  /** Default resync period of handlers that do not set one. Default 0 (off). */
  resyncPeriodMs?: number;
  backoff?: BackoffOptions;
  /**
   * Applied to every object before it is cached or handed to handlers (client-go's
   * SetTransform): keep only what the controllers read, so the cache costs only that.
   */
  transform?: (object: T) => T;
}

/** Counters for logs, metrics and tests. */
export interface InformerStats {
  lists: number;
  watches: number;
  /** The resourceVersion the cache is at (client-go's LastSyncResourceVersion). */
  resourceVersion: string | undefined;
}

class WatchStalledError extends Error {
  override readonly name = 'WatchStalledError';
}

export class Informer<T extends KubeObject> {
  readonly description: string;
  readonly store = new ObjectStore<T>();
  readonly #lw: ListWatcher<T>;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #pageSize: number;
  readonly #watchTimeoutSeconds: number;
  readonly #stallTimeoutMs: number;
  readonly #defaultResyncMs: number;
  readonly #backoff: Backoff;
  readonly #transform: (object: T) => T;
  readonly #handlers = new Set<{ handler: EventHandler<T>; resyncTimer?: TimerHandle }>();
  readonly #stop = new AbortController();
  readonly #synced: Promise<void>;
  #markSynced!: () => void;
  #hasSynced = false;
  #resourceVersion: string | undefined;
  #goneStreak = 0;
  #running: Promise<void> | undefined;
  readonly #stats = { lists: 0, watches: 0 };

  constructor(options: InformerOptions<T>) {
    this.description = options.description;
    this.#lw = options.listWatcher;
    this.#log = (options.logger ?? silentLogger).child({ informer: options.description });
    this.#clock = options.clock ?? systemClock;
    this.#pageSize = options.pageSize ?? 500;
    this.#watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? 150_000;
    this.#defaultResyncMs = options.resyncPeriodMs ?? 0;
    this.#backoff = new Backoff(options.backoff);
    this.#transform = options.transform ?? ((object) => object);
    this.#synced = new Promise((resolve) => (this.#markSynced = resolve));
  }

  get stats(): InformerStats {
    return { ...this.#stats, resourceVersion: this.#resourceVersion };
  }

  /** True once the first full list is in the cache and was delivered to handlers. */
  hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** Resolves once synced; rejects if `signal` aborts first or the informer stops. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    const stopped = [this.#stop.signal, ...(signal ? [signal] : [])];
    return new Promise((resolve, reject) => {
      const onAbort = () =>
        reject(new Error(`${this.description}: stopped before the cache synced`));
      for (const s of stopped) {
        if (s.aborted) return onAbort();
        s.addEventListener('abort', onAbort, { once: true });
      }
      void this.#synced.then(() => {
        for (const s of stopped) s.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /**
   * Registers a handler. Added after the informer synced, it first gets an add for every
   * cached object, so late registrations miss nothing.
   */
  addEventHandler(handler: EventHandler<T>, options: HandlerOptions = {}): HandlerRegistration {
    const registration: { handler: EventHandler<T>; resyncTimer?: TimerHandle } = { handler };
    this.#handlers.add(registration);
    if (this.#hasSynced) for (const object of this.store.list()) this.#call(handler, 'add', object);
    const period = options.resyncPeriodMs ?? this.#defaultResyncMs;
    if (period > 0) {
      const arm = () => {
        registration.resyncTimer = this.#clock.setTimer(
          () => {
            if (!this.#handlers.has(registration)) return;
            if (this.#hasSynced) this.#resync(handler);
            arm();
          },
          jittered(period, 0.1),
        );
      };
      arm();
    }
    return {
      remove: () => {
        registration.resyncTimer?.cancel();
        this.#handlers.delete(registration);
      },
    };
  }

  /** Starts list+watch in the background (idempotent). */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Stops watching and resyncing; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#stop.abort(new Error('informer stopped'));
    for (const registration of this.#handlers) registration.resyncTimer?.cancel();
    await this.#running;
  }

  async #run(): Promise<void> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted) {
      try {
        if (this.#resourceVersion === undefined) await this.#list();
        await this.#watch();
      } catch (err) {
        if (stopped.aborted) break;
        let delay: number;
        if (isGone(err)) {
          // The resourceVersion was compacted away: only a new list can resume. Relist at
          // once the first time; back off if the server keeps answering Gone.
          this.#resourceVersion = undefined;
          delay = this.#goneStreak++ === 0 ? 0 : this.#backoff.next();
          this.#log.info(
            { delayMs: Math.round(delay) },
            'resourceVersion expired (410 Gone); relisting',
          );
        } else {
          delay = this.#backoff.next();
          this.#log.warn({ err, delayMs: Math.round(delay) }, 'list/watch failed; retrying');
        }
        if (delay > 0) await sleep(this.#clock, delay, stopped).catch(() => {});
      }
    }
  }

  async #list(): Promise<void> {
    const signal = this.#stop.signal;
    let items: T[] = [];
    let resourceVersion: string | undefined;
    let token: string | undefined;
    let limit = this.#pageSize;
    do {
      let page: ListPage<T>;
      try {
        page = await this.#lw.list({ limit, continue: token, signal });
      } catch (err) {
        // The continue token expired between pages: list everything in one go instead.
        if (token !== undefined && isGone(err)) {
          this.#log.info('list continuation expired; listing without pagination');
          items = [];
          token = undefined;
          limit = 0;
          continue;
        }
        throw err;
      }
      for (const item of page.items) items.push(this.#transform(item));
      resourceVersion ??= page.metadata.resourceVersion;
      token = page.metadata.continue || undefined;
    } while (token !== undefined);
    this.#stats.lists++;

    const delta = this.store.replace(items);
    this.#resourceVersion = resourceVersion ?? '';
    for (const object of delta.deleted) this.#emit('delete', object);
    for (const object of delta.added) this.#emit('add', object);
    for (const change of delta.updated) this.#emit('update', change.new, change.old);
    this.#log.debug({ objects: items.length, resourceVersion }, 'listed');
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#markSynced();
      this.#log.info({ objects: items.length }, 'cache synced');
    }
  }

  async #watch(): Promise<void> {
    const abort = new AbortController();
    const onStop = () => abort.abort(this.#stop.signal.reason);
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    let lastActivity = this.#clock.now();
    let stalled = false;
    let watchdog: TimerHandle | undefined;
    const armWatchdog = (ms: number) => {
      watchdog = this.#clock.setTimer(() => {
        const silentFor = this.#clock.now() - lastActivity;
        if (silentFor >= this.#stallTimeoutMs) {
          stalled = true;
          abort.abort(new WatchStalledError(`watch silent for ${silentFor} ms`));
        } else {
          armWatchdog(this.#stallTimeoutMs - silentFor);
        }
      }, ms);
    };
    armWatchdog(this.#stallTimeoutMs);
    this.#stats.watches++;
    const startedAt = this.#clock.now();
    let events = 0;
    try {
      const timeoutSeconds = Math.floor(jittered(this.#watchTimeoutSeconds, 1));
      const stream = this.#lw.watch({
        resourceVersion: this.#resourceVersion!,
        timeoutSeconds,
        signal: abort.signal,
      });
      for await (const event of stream) {
        lastActivity = this.#clock.now();
        events++;
        this.#apply(event);
        this.#backoff.reset();
        this.#goneStreak = 0;
      }
      // The server ended the watch (its timeout): resume from where we are, no backoff.
      // A stream that closed at once with nothing in it is not that, but a broken proxy or
      // server: back off rather than reconnect in a tight loop.
      if (events === 0 && this.#clock.now() - startedAt < (timeoutSeconds * 1000) / 2) {
        throw new Error('the watch stream closed early without any event');
      }
    } catch (err) {
      if (stalled)
        throw new WatchStalledError(
          `no event for ${this.#stallTimeoutMs} ms; restarting the watch`,
          { cause: err },
        );
      throw err;
    } finally {
      watchdog?.cancel();
      this.#stop.signal.removeEventListener('abort', onStop);
      abort.abort();
    }
  }

  #apply(event: WatchEvent<T | KubeStatus>): void {
    const resourceVersion = (event.object as KubeObject).metadata?.resourceVersion;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const object = this.#transform(event.object as T);
        const old = this.store.set(object);
        if (old) this.#emit('update', object, old);
        else this.#emit('add', object);
        break;
      }
      case 'DELETED': {
        const object = this.#transform(event.object as T);
        this.store.delete(objectKey(object));
        this.#emit('delete', object); // the final state, as the server last had it
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = event.object as KubeStatus;
        throw new KubeApiError(status.code ?? 500, status, `watch ${this.description}`);
      }
      default:
        throw new Error(`unknown watch event type ${String((event as { type: unknown }).type)}`);
    }
    if (resourceVersion) this.#resourceVersion = resourceVersion;
  }

  #emit(kind: 'add' | 'update' | 'delete', object: T, old?: T): void {
    for (const { handler } of this.#handlers) this.#call(handler, kind, object, old);
  }

  #resync(handler: EventHandler<T>): void {
    for (const object of this.store.list()) this.#call(handler, 'resync', object);
  }

  /** One handler call; a throwing handler is logged and never stops the informer. */
  #call(
    handler: EventHandler<T>,
    kind: 'add' | 'update' | 'delete' | 'resync',
    object: T,
    old?: T,
  ): void {
    try {
      switch (kind) {
        case 'add':
          handler.add?.(object);
          break;
        case 'update':
          handler.update?.(old!, object);
          break;
        case 'delete':
          handler.delete?.(object);
          break;
        case 'resync':
          if (handler.resync) handler.resync(object);
          else handler.update?.(object, object);
          break;
      }
    } catch (err) {
      this.#log.error({ err, event: kind, key: objectKey(object) }, 'event handler threw');
    }
  }
}

export interface KubeListWatcherOptions {
  /** Watch one namespace only (namespaced kinds); default all. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * List and watch metadata only (PartialObjectMetadata, as controller-runtime's
   * metadata-only watches): objects arrive without data, spec or status, so neither the
   * wire nor the cache carries them. For kinds whose controllers read the rest live.
   */
  metadataOnly?: boolean;
}

/**
 * A ListWatcher for a real API server. `target` may be a resolved ResourceType or only an
 * apiVersion + kind, resolved through discovery on first use.
 */
export function kubeListWatcher<T extends KubeObject>(
  kc: KubeConfig,
  target: ResourceType | GroupVersionKind,
  options: KubeListWatcherOptions = {},
): ListWatcher<T> & { resource(): Promise<ResourceType> } {
  let resolved: Promise<ResourceType> | undefined =
    'plural' in target ? Promise.resolve(target) : undefined;
  const resource = () => {
    resolved ??= resolveResource(kc, target).catch((err: unknown) => {
      resolved = undefined; // try discovery again next time
      throw err;
    });
    return resolved;
  };
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  const metadataOnly = options.metadataOnly ?? false;
  return {
    resource,
    async list({ limit, continue: token, signal }) {
      const r = await resource();
      const page = await getJson<ListPage<T>>(
        kc,
        collectionPath(r, options.namespace),
        { ...selectors, limit: limit > 0 ? limit : undefined, continue: token },
        signal,
        metadataOnly ? METADATA_LIST_ACCEPT : undefined,
      );
      // An empty PartialObjectMetadataList comes with items null.
      page.items ??= [];
      // List items carry no apiVersion/kind; give them the ones watch events carry.
      // Metadata-only objects say PartialObjectMetadata: they stand for the watched kind.
      for (const item of page.items) {
        if (metadataOnly) Object.assign(item, { apiVersion: r.apiVersion, kind: r.kind });
        item.apiVersion ??= r.apiVersion;
        item.kind ??= r.kind;
      }
      return page;
    },
    async *watch({ resourceVersion, timeoutSeconds, signal }) {
      const r = await resource();
      const events = watchEvents<T | KubeStatus>(
        kc,
        collectionPath(r, options.namespace),
        { ...selectors, resourceVersion, timeoutSeconds, allowWatchBookmarks: true },
        signal,
        metadataOnly ? METADATA_WATCH_ACCEPT : undefined,
      );
      for await (const event of events) {
        if (metadataOnly && event.type !== 'ERROR') {
          Object.assign(event.object as KubeObject, { apiVersion: r.apiVersion, kind: r.kind });
        }
        yield event;
      }
    },
  };
}
