// Publishes the gateway's routing config to Redis (layout: contracts/routing/redis-layout.ts).
//
// Every change is one script call (routing-scripts.ts): records, meta and the RoutingChange
// message in one atomic step, so a reader that sees a revision sees its records. The
// publisher remembers what it last wrote for each key (hash → JSON) and sends nothing when
// a put repeats it: reconcilers may call putKey on every pass without cost.
//
// That memory is also the source for restoring Redis: ensurePublished() notices a Redis
// that lost the config (restarted empty, flushed, restored from an older snapshot) and
// writes everything back in one step, under a new epoch that tells readers to reload. A
// change that finds the config lost triggers the same restore first, so a single put can
// never leave a Redis that looks complete but holds one record.
//
// Memory starts empty with every process, so a restore right after a start (Redis flushed
// while the operator was down) would hold only the keys reconciled so far. Until
// `knowsEveryKey` says otherwise (key-inventory.ts), a restore is marked incomplete, and
// gateways answer 503, never 401, for a key they do not find in it; once every key is known,
// the next check clears the mark.
//
// Operations run one at a time (a promise chain): a full republish must not interleave with a
// put whose record it would then delete while memory says it was written.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { routingKeys, type RoutingKeys } from '../../../contracts/routing/redis-layout.ts';
import {
  ROUTING_SCHEMA_VERSION,
  type KeyPolicy,
  type ModelRoutes,
} from '../../../contracts/routing/schema.ts';
import { isKeyHash } from '../litellm/hash.ts';
import { systemClock, type Clock } from '../runtime/clock.ts';
import type { Logger } from '../runtime/logger.ts';
import { decideRestore, type RepublishReason } from './restore-decision.ts';
import {
  InvalidRoutingRecordError,
  RoutingUnavailableError,
  type RoutingOperation,
} from './routing-errors.ts';
import { routingMetrics, type RoutingMetrics } from './routing-metrics.ts';
import { encodeKeyPolicy, encodeModelRoutes, readStoredRecord } from './routing-records.ts';
import { parseWriteReply, routingScripts, type RoutingScripts } from './routing-scripts.ts';

export interface RoutingPublisherOptions {
  /** A fail-fast client (createRoutingRedis): errors surface instead of queueing. */
  redis: Redis;
  /** Key prefix, for several installations in one Redis. Default "llmtenancy:". */
  prefix?: string;
  logger: Logger;
  /** Where the llmtenancy_routing_* metrics go. Default: a registry of its own. */
  registry?: Registry;
  /** For updatedAt. */
  clock?: Clock;
  /** A new epoch id for a full republish. Default: 16 random hex digits. */
  newEpoch?: () => string;
  /**
   * Whether this publisher has been told every key's record (KeyInventory.complete): a
   * restore made before then is marked incomplete. Default: always (callers that put every
   * key before anything else, as tests do).
   */
  knowsEveryKey?: () => boolean;
}

/** Records per HSCAN / HMGET round trip. */
const BATCH = 500;

export class RoutingPublisher {
  readonly layout: RoutingKeys;
  readonly #redis: Redis;
  readonly #scripts: RoutingScripts;
  readonly #log: Logger;
  readonly #metrics: RoutingMetrics;
  readonly #clock: Clock;
  readonly #newEpoch: () => string;
  readonly #knowsEveryKey: () => boolean;
  /** key hash → the JSON this publisher last wrote for it. */
  readonly #records = new Map<string, string>();
  #models: string | undefined;
  /** The epoch and revision of our last write or look; undefined/0 before the first. */
  #epoch: string | undefined;
  #revision = 0;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: RoutingPublisherOptions) {
    this.#redis = options.redis;
    this.layout = routingKeys(options.prefix);
    this.#scripts = routingScripts(options.redis);
    this.#log = options.logger.child({ routing: this.layout.meta });
    this.#metrics = routingMetrics(options.registry ?? new Registry());
    this.#clock = options.clock ?? systemClock;
    this.#newEpoch = options.newEpoch ?? (() => randomBytes(8).toString('hex'));
    this.#knowsEveryKey = options.knowsEveryKey ?? (() => true);
  }

  /** Key records held in memory (written and not removed). */
  get recordCount(): number {
    return this.#records.size;
  }

  get epoch(): string | undefined {
    return this.#epoch;
  }

  get revision(): number {
    return this.#revision;
  }

  /** Writes one key's policy; nothing is sent when it equals the last write for that key. */
  async putKey(policy: KeyPolicy): Promise<void> {
    const { keyHash, json } = encodeKeyPolicy(policy);
    await this.#exclusive(async () => {
      if (this.#records.get(keyHash) === json) {
        this.#metrics.skipped.inc({ op: 'put_key' });
        return;
      }
      await this.#write('put_key', 'put', [keyHash, json]);
      this.#records.set(keyHash, json);
      this.#metrics.records.set(this.#records.size);
    });
  }

  /** Removes one key's record (announced only when there was one). Idempotent. */
  async removeKey(keyHash: string): Promise<void> {
    if (!isKeyHash(keyHash)) throw new InvalidRoutingRecordError('not a key hash');
    await this.#exclusive(async () => {
      await this.#write('remove_key', 'del', [keyHash]);
      this.#records.delete(keyHash);
      this.#metrics.records.set(this.#records.size);
    });
  }

  /** Writes the model routes; nothing is sent when they equal the last write. */
  async putModels(routes: ModelRoutes): Promise<void> {
    const json = encodeModelRoutes(routes);
    await this.#exclusive(async () => {
      if (this.#models === json) {
        this.#metrics.skipped.inc({ op: 'put_models' });
        return;
      }
      await this.#write('put_models', 'models', [json]);
      this.#models = json;
    });
  }

  /**
   * Checks that Redis still holds the config and restores it when not (see
   * restore-decision.ts). True when it wrote anything back.
   */
  ensurePublished(): Promise<boolean> {
    return this.#exclusive(() => this.#restore());
  }

  /**
   * Removes records whose owner is not live, or that are not a current KeyPolicy, in one
   * announced change; returns how many. Only pass an `isLive` backed by a synced cache: an
   * empty one would remove every record. A record rewritten since it was scanned is kept.
   */
  async prune(isLive: (policy: KeyPolicy) => boolean): Promise<number> {
    const doomed = new Map<string, string>();
    const reasons: Record<string, number> = {};
    let cursor = '0';
    do {
      const [next, entries] = await this.#call('prune', () =>
        this.#redis.hscan(this.layout.keys, cursor, 'COUNT', BATCH),
      );
      cursor = next;
      for (let i = 0; i + 1 < entries.length; i += 2) {
        const field = entries[i]!;
        const json = entries[i + 1]!;
        const record = readStoredRecord(field, json);
        let reason: string;
        if (!record.valid) reason = record.reason;
        else if (!isLive(record.policy)) reason = 'owner gone';
        else continue;
        doomed.set(field, json);
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
    } while (cursor !== '0');
    if (doomed.size === 0) return 0;

    return this.#exclusive(async () => {
      const removed = await this.#write('prune', 'prune', [...doomed].flat());
      for (const hash of removed) this.#records.delete(hash);
      this.#metrics.records.set(this.#records.size);
      this.#log.info({ removed: removed.length, found: reasons }, 'pruned routing records');
      return removed.length;
    });
  }

  /** Runs `operation` after every operation started before it has finished. */
  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => {});
    return result;
  }

  /**
   * One incremental change. When Redis lost the config, or another publisher's full publish
   * changed the epoch, restores first and tries once more. Returns the hashes removed.
   */
  async #write(
    op: RoutingOperation,
    scriptOp: 'put' | 'del' | 'prune' | 'models' | 'complete',
    args: readonly string[],
    { restoreFirst = true } = {},
  ): Promise<string[]> {
    const send = async () =>
      parseWriteReply(
        await this.#call(op, () =>
          this.#scripts.write(
            [this.layout.keys, this.layout.meta, this.layout.models],
            [
              this.layout.channel,
              this.#epoch ?? '',
              this.#now(),
              ROUTING_SCHEMA_VERSION,
              scriptOp,
              ...args,
            ],
          ),
        ),
      );
    let reply = await send();
    if (reply.status !== 'applied' && restoreFirst) {
      await this.#restore();
      reply = await send();
    }
    if (reply.status !== 'applied') {
      this.#metrics.writeErrors.inc({ op });
      throw new RoutingUnavailableError(
        op,
        'the routing config in Redis changed while this change was being written (another publisher?)',
      );
    }
    this.#saw(reply.revision);
    this.#metrics.writes.inc({ op });
    return reply.removed;
  }

  async #restore(): Promise<boolean> {
    this.#metrics.keysKnown.set(this.#knowsEveryKey() ? 1 : 0);
    const meta = await this.#call('republish', () => this.#redis.hgetall(this.layout.meta));
    const decision = decideRestore(meta, { epoch: this.#epoch, revision: this.#revision });
    switch (decision.action) {
      case 'current':
        return this.#completeIfKnown(meta);
      case 'republish':
        await this.#republish(decision.reason);
        return true;
      case 'adopt': {
        // Someone else's full publish (or our first look): nothing lost, but our records may
        // not be in it, so write back those it lacks.
        this.#epoch = decision.epoch;
        this.#revision = decision.revision;
        this.#metrics.lastRevision.set(decision.revision);
        const restored = await this.#reassert();
        const completed = await this.#completeIfKnown(meta);
        if (restored.records === 0 && !restored.models) return completed;
        this.#metrics.republishes.inc({ reason: 'epoch_changed' });
        this.#log.info(
          restored,
          'routing config was republished by another publisher; restored what it lacked of ours',
        );
        return true;
      }
    }
  }

  /** Clears Redis's incomplete mark once this publisher knows every key. True when it did. */
  async #completeIfKnown(meta: Record<string, string>): Promise<boolean> {
    if (meta.incomplete === undefined || !this.#knowsEveryKey()) return false;
    await this.#write('complete', 'complete', [], { restoreFirst: false });
    this.#log.info(
      { records: this.#records.size },
      'every key is known again: the routing config is marked complete',
    );
    return true;
  }

  async #republish(reason: RepublishReason): Promise<void> {
    const epoch = this.#newEpoch();
    const incomplete = !this.#knowsEveryKey();
    const revision = await this.#call('republish', () =>
      this.#scripts.republish(
        [this.layout.keys, this.layout.meta, this.layout.models],
        [
          this.layout.channel,
          epoch,
          this.#now(),
          ROUTING_SCHEMA_VERSION,
          this.#revision,
          this.#models ?? '',
          incomplete ? '1' : '',
          ...[...this.#records].flat(),
        ],
      ),
    );
    if (typeof revision !== 'number') throw new Error('unexpected reply from the republish script');
    this.#epoch = epoch;
    this.#revision = revision;
    this.#metrics.lastRevision.set(revision);
    this.#metrics.writes.inc({ op: 'republish' });
    this.#metrics.republishes.inc({ reason });
    this.#log.info(
      {
        reason,
        records: this.#records.size,
        models: this.#models !== undefined,
        revision,
        incomplete,
      },
      incomplete
        ? 'routing config republished to Redis, marked incomplete: not every key is known yet since the start'
        : 'routing config republished to Redis',
    );
  }

  /** Writes back what Redis lacks of our memory; says what that was. */
  async #reassert(): Promise<{ records: number; models: boolean }> {
    const missing: string[] = [];
    const hashes = [...this.#records.keys()];
    for (let i = 0; i < hashes.length; i += BATCH) {
      const batch = hashes.slice(i, i + BATCH);
      const stored = await this.#call('republish', () =>
        this.#redis.hmget(this.layout.keys, ...batch),
      );
      batch.forEach((hash, j) => {
        const json = this.#records.get(hash)!;
        if (stored[j] !== json) missing.push(hash, json);
      });
    }
    if (missing.length > 0) {
      await this.#write('republish', 'put', missing, { restoreFirst: false });
    }
    let models = false;
    if (this.#models !== undefined) {
      const stored = await this.#call('republish', () => this.#redis.get(this.layout.models));
      if (stored !== this.#models) {
        await this.#write('republish', 'models', [this.#models], { restoreFirst: false });
        models = true;
      }
    }
    return { records: missing.length / 2, models };
  }

  /** Runs one Redis call; any failure becomes a RoutingUnavailableError. */
  async #call<T>(op: RoutingOperation, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      this.#metrics.writeErrors.inc({ op });
      throw RoutingUnavailableError.from(op, err);
    }
  }

  #saw(revision: number): void {
    this.#revision = revision;
    this.#metrics.lastRevision.set(revision);
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }
}
