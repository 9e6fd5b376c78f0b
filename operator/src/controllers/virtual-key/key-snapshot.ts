// This installation's keys in LiteLLM, read in pages (the client's listAllKeys: GET /key/list,
// 100 full rows a page) at most once per resync interval, so that a resync of N converged keys costs about N/100
// LiteLLM reads instead of N GET /key/info (observing one object at a time, as
// crossplane-runtime does, is a constant load on LiteLLM at 10,000 keys for nothing).
//
// A row is only ever evidence that nothing needs doing. owned-keys.ts uses it when it shows
// the key exactly as desired; any difference, a key missing from the snapshot, a key this
// operator wrote since the snapshot began, or no snapshot to be had, and the key is read live
// with /key/info before anything is written: a row is never written from.
//
// Taken when a reconcile asks for a row and the snapshot is older than the resync interval
// (single flight: the reconciles asking meanwhile wait for the same pages). A timer of its
// own would be out of phase with the keys' resyncs; taken on demand, every resync of a key
// last written at least one interval earlier finds a snapshot begun after that write, since
// the resync comes an interval (plus jitter) after its reconcile ended. Reconciles run on
// the leader only, so only the leader lists. A failed listing is not retried for a while;
// reads go live meanwhile.
//
// The spend sync lists the same rows every pass (every minute by default): it hands its listing
// over (`taking`), so with it on, a resync lists nothing of its own.
//
// A row keeps only the fields KeyRow names (knownFields): what owned-keys.ts compares and the
// spend it reports; LiteLLM's other fields are dropped, not held for every key.
//
// Consequence: a change made in LiteLLM behind the operator's back is corrected at the first
// resync that sees a snapshot taken after it, within two resync intervals instead of one; the
// spend the gateway's budget check reads from the row is as old as the snapshot.
import { isDeepStrictEqual } from 'node:util';
import type { LiteLLMClient } from '../../litellm/client.ts';
import { KeyRow } from '../../litellm/schemas.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import { installationOf } from '../shared/ownership.ts';

/** The fields of a key row the operator reads (KeyRow's); a row LiteLLM sends has many more. */
const KNOWN_FIELDS = Object.keys(KeyRow.shape) as (keyof KeyRow)[];

/**
 * `row` with only the fields the operator reads: LiteLLM 1.x sends some forty per key (its
 * budget table, permissions, per-model spend…), which at 10,000 keys is memory held for nothing.
 */
function knownFields(row: KeyRow): KeyRow {
  const kept: Record<string, unknown> = {};
  for (const field of KNOWN_FIELDS) if (row[field] !== undefined) kept[field] = row[field];
  return kept as KeyRow;
}

/** True when `held` (a kept row) and `row` agree on every field a kept row has. */
function sameKnownFields(held: KeyRow, row: KeyRow): boolean {
  return KNOWN_FIELDS.every((field) => isDeepStrictEqual(held[field], row[field]));
}

/** /key/list's largest page (CONTRACT-VERIFIED.md › GET /key/list). */
const PAGE_SIZE = 100;
/** After a failed listing, reads go live for this long (at most one interval). */
const RETRY_AFTER_FAILURE_MS = 30_000;

export interface KeySnapshotOptions {
  litellm: Pick<LiteLLMClient, 'listAllKeys'>;
  /** Only keys stamped with this installation id are kept (shared/ownership.ts). */
  installationId: string;
  /** A snapshot older than this is taken again before use: the VirtualKey resync interval. */
  maxAgeMs: number;
  clock?: Clock;
  pageSize?: number;
}

export class KeySnapshot {
  readonly #litellm: Pick<LiteLLMClient, 'listAllKeys'>;
  readonly #installation: string;
  readonly #maxAgeMs: number;
  readonly #clock: Clock;
  readonly #pageSize: number;
  readonly #rows = new Map<string, KeyRow>();
  /** When the current snapshot's first page was asked for; undefined: none yet. */
  #takenAt: number | undefined;
  #taking: Promise<void> | undefined;
  #retryAt = 0;
  /** When the operator last wrote each key (by hash), while that may postdate a snapshot. */
  readonly #writtenAt = new Map<string, number>();

  constructor(options: KeySnapshotOptions) {
    this.#litellm = options.litellm;
    this.#installation = options.installationId;
    this.#maxAgeMs = options.maxAgeMs;
    this.#clock = options.clock ?? systemClock;
    this.#pageSize = options.pageSize ?? PAGE_SIZE;
  }

  /**
   * LiteLLM's row for `hash` as of a snapshot no older than the resync interval (taken
   * first when there is none); undefined when the key is not in it, the operator wrote it
   * since the snapshot began, or LiteLLM could not be listed.
   */
  async row(hash: string, signal?: AbortSignal): Promise<KeyRow | undefined> {
    if (!this.#fresh()) {
      if (this.#clock.now() < this.#retryAt) return undefined;
      try {
        await (this.#taking ??= this.#take(signal).finally(() => (this.#taking = undefined)));
      } catch {
        return undefined; // the caller reads live, and meets the failure itself if it lasts
      }
    }
    const written = this.#writtenAt.get(hash);
    if (written !== undefined && written >= this.#takenAt!) return undefined;
    return this.#rows.get(hash);
  }

  /**
   * Runs another loop's listing of every key (the spend sync's) and takes it as the snapshot
   * when it completes and began after the current one: that loop reads the same pages anyway.
   * Returns the listing as it came, for that loop's own use.
   */
  async taking(list: () => Promise<KeyRow[]>): Promise<KeyRow[]> {
    const startedAt = this.#clock.now();
    const all = await list();
    if (this.#takenAt === undefined || startedAt > this.#takenAt) this.#replace(all, startedAt);
    return all;
  }

  /** The operator (just) wrote this key: its row, if any, no longer tells how it is. */
  wrote(hash: string): void {
    this.#writtenAt.set(hash, this.#clock.now());
  }

  /** Rows held (this installation's keys). */
  get size(): number {
    return this.#rows.size;
  }

  #fresh(): boolean {
    return this.#takenAt !== undefined && this.#clock.now() - this.#takenAt <= this.#maxAgeMs;
  }

  /** Reads every page; the new snapshot replaces the old one only when all were read. */
  async #take(signal: AbortSignal | undefined): Promise<void> {
    const startedAt = this.#clock.now();
    let all: KeyRow[];
    try {
      all = await this.#litellm.listAllKeys({
        pageSize: this.#pageSize,
        signal,
        object: 'the VirtualKey snapshot',
      });
    } catch (err) {
      this.#retryAt = this.#clock.now() + Math.min(RETRY_AFTER_FAILURE_MS, this.#maxAgeMs);
      throw err;
    }
    this.#replace(all, startedAt);
  }

  /**
   * This installation's rows of a complete listing begun at `startedAt`, as the snapshot. A
   * row that reads as before keeps its object, in the same map: a listing of keys that did
   * not change (every minute, at 10,000 keys) leaves nothing behind but garbage of its own,
   * rather than 10,000 new rows scattered among it in the old generation.
   */
  #replace(all: readonly KeyRow[], startedAt: number): void {
    const listed = new Set<string>();
    for (const row of all) {
      if (!row.token || installationOf(row.metadata) !== this.#installation) continue;
      listed.add(row.token);
      const held = this.#rows.get(row.token);
      if (!held || !sameKnownFields(held, row)) this.#rows.set(row.token, knownFields(row));
    }
    for (const token of this.#rows.keys()) if (!listed.has(token)) this.#rows.delete(token);
    this.#takenAt = startedAt;
    for (const [hash, at] of this.#writtenAt) if (at < startedAt) this.#writtenAt.delete(hash);
  }
}
