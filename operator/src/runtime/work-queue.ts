// The work queue between informers and reconcile workers, with client-go's semantics
// (util/workqueue: Typed + delaying + rate limiting), because controllers depend on them:
//
// - de-duplicating: an item added N times while it waits is handed out once ("dirty" set);
// - one worker per item: an item being processed is never handed to a second worker; if it
//   is added again meanwhile, it is handed out once more after done() (nothing is lost);
// - addAfter(item, ms): delayed adds, the earliest ready time wins;
// - addRateLimited / forget / retries: the per-item backoff of a RateLimiter;
// - shutDown: adds are ignored, waiting get()s resolve with undefined once the queue is
//   empty; shutDownWithDrain additionally waits until every handed-out item is done().
//
// Items are compared with ===, so use strings (controllers use "namespace/name" keys).
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import { DelayHeap } from './delay-heap.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.ts';

/** Callbacks with client-go's workqueue metric semantics; see metrics.ts for Prometheus. */
export interface WorkQueueMetrics {
  /** An item entered the queue (adds_total, depth). */
  added(): void;
  /** An item was handed out after waiting `queuedSeconds` (depth, queue_duration_seconds). */
  handedOut(queuedSeconds: number): void;
  /** An item was done after `workSeconds` of processing (work_duration_seconds). */
  done(workSeconds: number): void;
  /** A delayed or rate-limited add (retries_total). */
  retried(): void;
}

/** What the unfinished_work / longest_running_processor gauges read at scrape time. */
export interface InFlightWork {
  unfinishedWorkSeconds: number;
  longestRunningProcessorSeconds: number;
}

export interface WorkQueueMetricsProvider {
  forQueue(name: string, inFlight: () => InFlightWork): WorkQueueMetrics;
}

export const noopWorkQueueMetrics: WorkQueueMetricsProvider = {
  forQueue: () => ({ added() {}, handedOut() {}, done() {}, retried() {} }),
};

export interface WorkQueueOptions<T> {
  /** The `name` label of the workqueue_* metrics (controllers use their own name). */
  name: string;
  clock?: Clock;
  rateLimiter?: RateLimiter<T>;
  metrics?: WorkQueueMetricsProvider;
}

export class WorkQueue<T = string> {
  readonly name: string;
  readonly #clock: Clock;
  readonly #rateLimiter: RateLimiter<T>;
  readonly #metrics: WorkQueueMetrics;

  /** Ready items in FIFO order; each is also in #dirty. */
  #queue: T[] = [];
  /** Items that need processing: queued, or re-added while being processed. */
  readonly #dirty = new Set<T>();
  /** Items handed out and not yet done(), with when they were handed out. */
  readonly #processing = new Map<T, number>();
  /** When each dirty item was first added, for queue_duration_seconds. */
  readonly #addedAt = new Map<T, number>();
  readonly #waiting = new DelayHeap<T>();
  #waitingTimer: { handle: TimerHandle; at: number } | undefined;
  /** Resolvers of get() calls waiting for an item. */
  readonly #getters: ((item: T | undefined) => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions<T>) {
    this.name = options.name;
    this.#clock = options.clock ?? systemClock;
    this.#rateLimiter =
      options.rateLimiter ?? defaultControllerRateLimiter<T>({ clock: this.#clock });
    this.#metrics = (options.metrics ?? noopWorkQueueMetrics).forQueue(this.name, () =>
      this.#inFlight(),
    );
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Items ready to be handed out (not counting delayed ones nor ones being processed). */
  len(): number {
    return this.#queue.length;
  }

  /** Items waiting for a delayed add. */
  waitingLen(): number {
    return this.#waiting.size;
  }

  /** Items handed out and not yet done. */
  processingLen(): number {
    return this.#processing.size;
  }

  add(item: T): void {
    if (this.#shuttingDown) return;
    if (this.#dirty.has(item)) return; // already queued, or queued to run again after done()
    this.#metrics.added();
    if (!this.#addedAt.has(item)) this.#addedAt.set(item, this.#clock.now());
    this.#dirty.add(item);
    if (this.#processing.has(item)) return; // done() will queue it
    this.#queue.push(item);
    this.#dispatch();
  }

  /** Adds `item` after `ms`; if it already waits for a later time, the earlier time wins. */
  addAfter(item: T, ms: number): void {
    if (this.#shuttingDown) return;
    this.#metrics.retried();
    if (ms <= 0) {
      this.add(item);
      return;
    }
    this.#waiting.push(item, this.#clock.now() + ms);
    this.#armWaitingTimer();
  }

  /** Adds `item` after the rate limiter's delay for it (one more retry). */
  addRateLimited(item: T): void {
    this.addAfter(item, this.#rateLimiter.when(item));
  }

  /** Clears `item`'s backoff: call when it was processed successfully. */
  forget(item: T): void {
    this.#rateLimiter.forget(item);
  }

  retries(item: T): number {
    return this.#rateLimiter.retries(item);
  }

  /**
   * The next item, once one is ready; undefined once the queue is shut down and empty.
   * The caller must call done(item) when it has finished with it.
   */
  get(): Promise<T | undefined> {
    if (this.#queue.length > 0) return Promise.resolve(this.#handOut());
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks `item` as processed; if it was added again meanwhile, it is queued again now. */
  done(item: T): void {
    const startedAt = this.#processing.get(item);
    if (startedAt === undefined) return;
    this.#processing.delete(item);
    this.#metrics.done((this.#clock.now() - startedAt) / 1000);
    if (this.#dirty.has(item)) {
      this.#queue.push(item);
      this.#dispatch();
    }
    if (this.#processing.size === 0) {
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
  }

  /** Stops accepting adds; idle get()s resolve with undefined once the queue is empty. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#waitingTimer?.handle.cancel();
    this.#waitingTimer = undefined;
    this.#waiting.clear();
    this.#dispatch();
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
  }

  /** shutDown, then resolves once every handed-out item is done(). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #handOut(): T {
    const item = this.#queue.shift()!;
    const now = this.#clock.now();
    this.#dirty.delete(item);
    this.#processing.set(item, now);
    const addedAt = this.#addedAt.get(item) ?? now;
    this.#addedAt.delete(item);
    this.#metrics.handedOut((now - addedAt) / 1000);
    return item;
  }

  /** Hands ready items to waiting get()s. */
  #dispatch(): void {
    while (this.#getters.length > 0 && this.#queue.length > 0) {
      this.#getters.shift()!(this.#handOut());
    }
  }

  /** One timer, for the earliest waiting item; re-armed when an earlier one arrives. */
  #armWaitingTimer(): void {
    const at = this.#waiting.peekReadyAt();
    if (at === undefined || this.#shuttingDown) return;
    if (this.#waitingTimer && this.#waitingTimer.at <= at) return;
    this.#waitingTimer?.handle.cancel();
    const handle = this.#clock.setTimer(() => {
      this.#waitingTimer = undefined;
      for (const item of this.#waiting.popReady(this.#clock.now())) this.add(item);
      this.#armWaitingTimer();
    }, at - this.#clock.now());
    this.#waitingTimer = { handle, at };
  }

  #inFlight(): InFlightWork {
    const now = this.#clock.now();
    let unfinished = 0;
    let longest = 0;
    for (const startedAt of this.#processing.values()) {
      const seconds = (now - startedAt) / 1000;
      unfinished += seconds;
      longest = Math.max(longest, seconds);
    }
    return { unfinishedWorkSeconds: unfinished, longestRunningProcessorSeconds: longest };
  }
}
