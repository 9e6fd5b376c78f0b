// The gateway's view of the routing config the operator publishes (contracts/routing): KeyPolicies
// read from Redis on first use and cached (policy-cache.ts), model routes held whole.
//
// Staying current:
// - every change the operator makes is announced on the changes channel: a changed key is
//   dropped from the cache (the next request reads it again), `full` or a new epoch drops all;
// - pub/sub delivers at most once, so a gap is detected: after the subscriber reconnects, and
//   by a check of the meta revision every `checkIntervalMs`, a revision newer than the last
//   announcement seen drops the whole cache (which keys changed is unknown);
// - a load racing an invalidation of the same key is used for its request but not cached.
// While Redis is unreachable, cached keys keep working and uncached ones are 'unavailable'.
// A record that is missing while the config's meta is missing too (Redis restarted empty and
// the operator has not refilled it yet) is 'unavailable', not 'absent': the key may be valid.
// So is one missing from a config marked incomplete (RoutingMeta.incomplete: an operator
// restarted after Redis lost the config and has not heard of every key yet). A refill marked
// incomplete does not throw away what this instance knew: the policies it had cached are
// kept aside and answer for keys the refill lacks until the config is complete again or the
// key's own record arrives or is announced changed (stale by as much as while the config is
// missing, and no more).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { routingKeys, type RoutingKeys } from '../../../contracts/routing/redis-layout.ts';
import {
  KeyPolicy,
  ModelRoutes,
  RoutingChange,
  parseRoutingJson,
} from '../../../contracts/routing/schema.ts';
import type { GatewayMetrics } from '../observability/gateway-metrics.ts';
import { PolicyCache, cachedPolicy, type CachedPolicy } from './policy-cache.ts';

export type Lookup =
  { kind: 'found'; entry: CachedPolicy } | { kind: 'absent' } | { kind: 'unavailable' };

export interface RoutingViewOptions {
  /** Commands (reads). Shared with the rate limiter. */
  redis: Redis;
  /** A connection of its own for SUBSCRIBE. */
  subscriber: Redis;
  prefix: string;
  negativeTtlMs: number;
  /** How often the meta revision is compared with the announcements seen. Default 5 s. */
  checkIntervalMs?: number;
  logger: Logger;
  metrics?: GatewayMetrics;
  maxEntries?: number;
}

const ABSENT: Lookup = { kind: 'absent' };
const UNAVAILABLE: Lookup = { kind: 'unavailable' };

export class RoutingView {
  readonly cache: PolicyCache;
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #keys: RoutingKeys;
  readonly #log: Logger;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #checkIntervalMs: number;
  readonly #loading = new Map<string, Promise<Lookup>>();
  /** Grows with every invalidation: a load that saw it change must not cache its result. */
  #generation = 0;
  #epoch: string | undefined;
  /** The newest revision announced or read. */
  #revision = -1;
  /** A newer revision the last check saw before its announcement arrived. */
  #suspectRevision: number | undefined;
  #configPresent = false;
  /** The first SUBSCRIBE went through (ioredis repeats it after every reconnect). */
  #subscribed = false;
  #models: ModelRoutes | undefined;
  /** Policies cached before a refill marked incomplete, for the keys it lacks. */
  readonly #keptAside = new Map<string, CachedPolicy>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: RoutingViewOptions) {
    this.#redis = options.redis;
    this.#subscriber = options.subscriber;
    this.#keys = routingKeys(options.prefix);
    this.#log = options.logger.child({ component: 'routing-view' });
    this.#metrics = options.metrics;
    this.#checkIntervalMs = options.checkIntervalMs ?? 5_000;
    this.cache = new PolicyCache({
      negativeTtlMs: options.negativeTtlMs,
      ...(options.maxEntries ? { maxEntries: options.maxEntries } : {}),
    });
  }

  /**
   * Subscribes and reads the meta and models. Returns without waiting for Redis: a gateway
   * started while Redis is down answers /healthz, is not ready, and catches up once it is.
   */
  async start(): Promise<void> {
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#keys.channel) this.#onChange(message);
    });
    // ioredis subscribes again by itself (before 'ready') after a reconnect; what was
    // published meanwhile is lost, so check the revision once it is back.
    this.#subscriber.on('ready', () => {
      if (this.#subscribed) void this.check({ afterGap: true });
    });
    // The subscriber queues the command until it is connected: this resolves when it is.
    this.#subscriber.subscribe(this.#keys.channel).then(
      () => {
        this.#subscribed = true;
        void this.check({ afterGap: true });
      },
      (err: unknown) =>
        this.#log.error({ err: errorFields(err) }, 'cannot subscribe to routing changes'),
    );
    await this.check({ afterGap: true });
    this.#timer = setInterval(() => void this.check({ afterGap: false }), this.#checkIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
  }

  /** The routing config was read from Redis at least once: the gateway can serve. */
  get loaded(): boolean {
    return this.#epoch !== undefined;
  }

  /** Current now: Redis answers, changes are subscribed and the config is in Redis. */
  get current(): boolean {
    return (
      this.#subscribed &&
      this.#subscriber.status === 'ready' &&
      this.#configPresent &&
      this.#redis.status === 'ready'
    );
  }

  get models(): ModelRoutes | undefined {
    return this.#models;
  }

  /** The cached answer for `hash`, without I/O; undefined when Redis must be asked. */
  cached(hash: string): Lookup | undefined {
    const hit = this.cache.get(hash);
    if (hit === undefined) return undefined;
    if (hit === 'absent') {
      this.#metrics?.countKeyLookup('negative_hit');
      return ABSENT;
    }
    this.#metrics?.countKeyLookup('hit');
    return { kind: 'found', entry: hit };
  }

  /** Reads `hash` from Redis; concurrent loads of one key share one read. */
  load(hash: string): Promise<Lookup> {
    const running = this.#loading.get(hash);
    if (running) return running;
    this.#metrics?.countKeyLookup('miss');
    const loading = this.#read(hash).finally(() => this.#loading.delete(hash));
    this.#loading.set(hash, loading);
    return loading;
  }

  async #read(hash: string): Promise<Lookup> {
    if (this.#redis.status !== 'ready') return UNAVAILABLE;
    const generation = this.#generation;
    let record: string | null;
    let epoch: string | null;
    let incomplete: string | null;
    try {
      const replies = await this.#redis
        .pipeline()
        .hget(this.#keys.keys, hash)
        .hmget(this.#keys.meta, 'epoch', 'incomplete')
        .exec();
      if (!replies || replies.some(([err]) => err)) return UNAVAILABLE;
      record = replies[0]![1] as string | null;
      [epoch = null, incomplete = null] = replies[1]![1] as (string | null)[];
    } catch {
      return UNAVAILABLE;
    }
    const cacheable = generation === this.#generation;
    if (record === null) {
      if (epoch === null || incomplete !== null) {
        // The key may be valid: what this instance knew of it, else 503 (never 401).
        const kept = this.#keptAside.get(hash);
        return kept ? { kind: 'found', entry: kept } : UNAVAILABLE;
      }
      if (cacheable) this.cache.setAbsent(hash);
      return ABSENT;
    }
    this.#keptAside.delete(hash);
    const policy = parseRoutingJson(KeyPolicy, record);
    if (!policy || policy.keyHash !== hash) {
      // Remembered like an unknown key, so its callers do not each read and log it again.
      if (cacheable) this.cache.setAbsent(hash);
      this.#log.warn(
        'a routing record is not a KeyPolicy of this schema version; refusing its key',
      );
      return ABSENT;
    }
    if (!cacheable) return { kind: 'found', entry: cachedPolicy(policy) };
    return { kind: 'found', entry: this.cache.setFound(policy) };
  }

  #onChange(message: string): void {
    const change = parseRoutingJson(RoutingChange, message);
    if (!change) {
      this.#log.warn('ignoring a routing change message of another format');
      return;
    }
    if (change.complete) this.#completed();
    if (change.epoch !== this.#epoch || change.full) {
      if (change.incomplete) this.#keepAside();
      else this.#completed();
      this.#dropAll(change.epoch !== this.#epoch ? 'new epoch' : 'full publish');
      this.#epoch = change.epoch;
      this.#revision = change.revision;
      this.#configPresent = true;
      void this.#loadModels();
      return;
    }
    this.#revision = Math.max(this.#revision, change.revision);
    for (const hash of change.keys ?? []) {
      this.#generation++;
      this.cache.invalidate(hash);
      this.#keptAside.delete(hash);
      this.#metrics?.routingInvalidations.inc({ kind: 'key' });
    }
    if (change.models) void this.#loadModels();
  }

  /**
   * Compares Redis's meta with what was announced. `afterGap`: messages may have been lost
   * (start, reconnect), so any newer revision drops the cache at once; a periodic check gives
   * an announcement in flight one more interval to arrive.
   */
  async check({ afterGap }: { afterGap: boolean }): Promise<void> {
    if (this.#stopped) return;
    let meta: Record<string, string>;
    try {
      meta = await this.#redis.hgetall(this.#keys.meta);
    } catch {
      return; // unreachable: cached keys keep working; the next check or reconnect catches up
    }
    const epoch = meta.epoch;
    const revision = meta.revision === undefined ? undefined : Number(meta.revision);
    if (epoch === undefined || revision === undefined || !Number.isFinite(revision)) {
      if (this.#configPresent) {
        this.#log.warn(
          'the routing config is missing from Redis (restarted or flushed); cached keys keep working until the operator refills it',
        );
      }
      this.#configPresent = false;
      return;
    }
    this.#configPresent = true;
    if (meta.incomplete === undefined) this.#completed();
    if (epoch !== this.#epoch) {
      if (meta.incomplete !== undefined) this.#keepAside();
      if (this.#epoch !== undefined) this.#dropAll('new epoch');
      this.#epoch = epoch;
      this.#revision = revision;
      this.#suspectRevision = undefined;
      await this.#loadModels();
      return;
    }
    if (revision <= this.#revision) {
      this.#suspectRevision = undefined;
      return;
    }
    const missed =
      afterGap || (this.#suspectRevision !== undefined && this.#suspectRevision > this.#revision);
    if (missed) {
      this.#dropAll(`announcements missed (revision ${this.#revision} → ${revision})`);
      this.#revision = revision;
      this.#suspectRevision = undefined;
      await this.#loadModels();
    } else {
      this.#suspectRevision = revision;
    }
  }

  /** Sets the cached policies aside for the keys an incomplete refill lacks. */
  #keepAside(): void {
    for (const entry of this.cache.foundEntries()) {
      this.#keptAside.set(entry.policy.keyHash, entry);
    }
  }

  /** The config is complete: a key it lacks is unknown. */
  #completed(): void {
    if (this.#keptAside.size === 0) return;
    this.#log.info({ dropped: this.#keptAside.size }, 'routing config complete again');
    this.#keptAside.clear();
  }

  #dropAll(why: string): void {
    this.#generation++;
    const { found } = this.cache.size;
    this.cache.clear();
    this.#metrics?.routingInvalidations.inc({ kind: 'full' });
    this.#log.info({ dropped: found, why }, 'dropped every cached key policy');
  }

  async #loadModels(): Promise<void> {
    try {
      const json = await this.#redis.get(this.#keys.models);
      this.#models = json === null ? undefined : parseRoutingJson(ModelRoutes, json);
    } catch {
      // kept as they were; the next change or check reloads them
    }
  }
}

function errorFields(err: unknown): { name: string; message: string } {
  return err instanceof Error
    ? { name: err.name, message: err.message }
    : { name: 'Error', message: String(err) };
}
