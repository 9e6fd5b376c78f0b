// A controller: a work queue of request keys, N workers taking keys from it, and one
// reconciler. The queue guarantees one reconcile in flight per key and collapses duplicate
// events; the workers bound concurrency across keys. Results are handled exactly as in
// controller-runtime's reconcileHandler:
//
//   thrown error, policy "backoff"      → addRateLimited (per-key exponential backoff)
//   thrown error, policy "requeueAfter" → addAfter(ms) (Retry-After: a delay, not backoff)
//   thrown error, policy "terminal"     → forget, no requeue, recorded (but a failed
//                                         finalizer cleanup is backed off instead: a
//                                         deletion waits on it, see finalizers.ts)
//   { requeueAfter: ms }                → forget, addAfter(ms)
//   { requeue: true }                   → addRateLimited
//   {}                                  → forget
//
// Every delay asked for (requeueAfter, Retry-After) is raised to minRequeueAfterMs (1 s by
// default). controller-runtime has no such floor: it hands result.RequeueAfter to AddAfter as
// it is, so a reconciler that computes a deadline in the past and asks for "1 ms" runs in a
// tight loop, each pass costing API server and LiteLLM calls. The floor bounds any such bug
// to one reconcile per key per floor; the deadline itself belongs fixed in the reconciler
// (the warning below names the key). Backoff (thrown errors, requeue: true) is unchanged:
// the rate limiter already grows it.
//
// Metrics are controller-runtime's controller_runtime_* (see metrics.ts).
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { sleep, systemClock, type Clock } from './clock.ts';
import {
  defaultErrorPolicy,
  retryingCleanup,
  type ErrorDecision,
  type ErrorPolicy,
} from './error-policy.ts';
import { silentLogger, type Logger } from './logger.ts';
import {
  registerController,
  runtimeMetrics,
  type ControllerMetrics,
  type RuntimeMetrics,
} from './metrics.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { parseRequestKey, requestKey, type Request } from './request.ts';
import type { Result } from './result.ts';
import { stopsAtOnce } from './runnable.ts';
import { WorkQueue } from './work-queue.ts';

export interface ReconcileContext {
  /** Aborted when the controller stops and its grace period is over: give up early. */
  signal: AbortSignal;
  /** A child logger already carrying controller, namespace, name and reconcileID. */
  log: Logger;
}

export interface Reconciler {
  reconcile(request: Request, context: ReconcileContext): Promise<Result>;
}

export type ReconcileFunction = Reconciler['reconcile'];

export interface ControllerOptions {
  /** Unique per manager: the `controller` metric label and the work queue's name. */
  name: string;
  reconciler: Reconciler | ReconcileFunction;
  /** Reconciles running at once, on different keys. Default 1. */
  workers?: number;
  errorPolicy?: ErrorPolicy;
  /**
   * Called after a terminal error (not retried), e.g. to set Ready=False and emit an Event.
   * Its own failures are logged, never retried.
   */
  onTerminalError?: (
    request: Request,
    err: unknown,
    context: ReconcileContext,
  ) => Promise<void> | void;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  clock?: Clock;
  rateLimiter?: RateLimiter<string>;
  /** How long stop() lets in-flight reconciles finish before aborting their signal. Default 30 s. */
  stopGracePeriodMs?: number;
  /** The least delay of a requeueAfter or Retry-After; shorter ones are raised to it. Default 1 s. */
  minRequeueAfterMs?: number;
}

export const DEFAULT_MIN_REQUEUE_AFTER_MS = 1_000;

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  readonly workers: number;
  readonly #reconcile: ReconcileFunction;
  readonly #errorPolicy: ErrorPolicy;
  readonly #onTerminalError: ControllerOptions['onTerminalError'];
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #clock: Clock;
  readonly #gracePeriodMs: number;
  readonly #minRequeueAfterMs: number;
  /** Keys whose too-short requeue was already logged as a warning (once per key and streak). */
  readonly #flooredKeys = new Set<string>();
  readonly #abort = new AbortController();
  #workerLoops: Promise<void>[] = [];
  #stopping: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.workers = options.workers ?? 1;
    if (!Number.isInteger(this.workers) || this.workers < 1)
      throw new RangeError('workers must be an integer ≥ 1');
    const { reconciler } = options;
    this.#reconcile =
      typeof reconciler === 'function' ? reconciler : (req, ctx) => reconciler.reconcile(req, ctx);
    this.#errorPolicy = retryingCleanup(options.errorPolicy ?? defaultErrorPolicy);
    this.#onTerminalError = options.onTerminalError;
    this.#log = (options.logger ?? silentLogger).child({ controller: this.name });
    this.#clock = options.clock ?? systemClock;
    this.#gracePeriodMs = options.stopGracePeriodMs ?? 30_000;
    this.#minRequeueAfterMs = options.minRequeueAfterMs ?? DEFAULT_MIN_REQUEUE_AFTER_MS;
    if (!(this.#minRequeueAfterMs >= 0)) throw new RangeError('minRequeueAfterMs must be ≥ 0');
    const metrics = options.metrics ?? runtimeMetrics(new Registry());
    this.#metrics = metrics.controllers;
    registerController(this.#metrics, this.name, this.workers);
    this.queue = new WorkQueue<string>({
      name: this.name,
      clock: this.#clock,
      rateLimiter: options.rateLimiter,
      metrics: metrics.workQueues,
    });
  }

  get started(): boolean {
    return this.#workerLoops.length > 0;
  }

  /** Queues a reconcile of `request` (collapsed with any already queued for it). */
  enqueue(request: Request): void {
    this.queue.add(requestKey(request));
  }

  /** Starts the workers. Events may be enqueued before: they wait in the queue. */
  start(): void;
  /**
   * As a Runnable (runnable.ts): starts the workers and runs until `signal` aborts, then
   * stops, at once when the lease is lost (abort), else gracefully (stop); resolves after.
   */
  start(signal: AbortSignal): Promise<void>;
  start(signal?: AbortSignal): Promise<void> | void {
    if (!this.started && !this.#stopping) {
      this.#log.info({ workers: this.workers }, 'starting workers');
      this.#workerLoops = Array.from({ length: this.workers }, () => this.#worker());
    }
    if (signal) return this.#runUntil(signal);
  }

  /** Stops as the signal aborts, in the same tick: after a lost lease no reconcile may start. */
  #runUntil(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = () => {
        const stopped = stopsAtOnce(signal) ? this.abort(signal.reason as Error) : this.stop();
        void stopped.then(resolve);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Stops taking work and resolves once every in-flight reconcile has returned. Reconciles
   * still running after the grace period see their signal aborted.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * Leadership lost: start no reconcile any more and abort the signal of every one in flight
   * now, without a grace period. Resolves once they have returned; a caller that must not
   * wait for them (the manager, then the process exits) need not.
   */
  abort(reason: Error): Promise<void> {
    this.queue.shutDown();
    this.#abort.abort(reason);
    this.#stopping ??= Promise.all(this.#workerLoops).then(() => {
      this.#log.info('aborted');
    });
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.queue.shutDown();
    const finished = Promise.all(this.#workerLoops).then(() => true);
    const grace = new AbortController();
    const graceOver = sleep(this.#clock, this.#gracePeriodMs, grace.signal).then(
      () => false,
      () => false,
    );
    if (!(await Promise.race([finished, graceOver]))) {
      this.#log.warn('reconciles still running after the grace period; aborting them');
      this.#abort.abort(new Error(`controller ${this.name} stopped`));
    }
    grace.abort();
    await finished;
    this.#log.info('stopped');
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        // client-go hands out what is still queued after shutDown; a stopping controller
        // starts no new reconcile (the next leader or start relists everything anyway).
        if (this.queue.shuttingDown) continue;
        this.#metrics.activeWorkers.inc({ controller: this.name });
        try {
          await this.#reconcileHandler(key);
        } finally {
          this.#metrics.activeWorkers.dec({ controller: this.name });
        }
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #reconcileHandler(key: string): Promise<void> {
    const request = parseRequestKey(key);
    const log = this.#log.child({
      namespace: request.namespace,
      name: request.name,
      reconcileID: randomUUID(),
    });
    const context: ReconcileContext = { signal: this.#abort.signal, log };
    const started = performance.now();
    let result: Result | undefined;
    let error: unknown;
    let failed = false;
    try {
      result = await this.#reconcile(request, context);
    } catch (err) {
      failed = true;
      error = err;
    }
    this.#metrics.reconcileTime.observe(
      { controller: this.name },
      (performance.now() - started) / 1000,
    );

    if (failed) {
      this.#metrics.reconcileErrors.inc({ controller: this.name });
      this.#metrics.reconcileTotal.inc({ controller: this.name, result: 'error' });
      const decision = this.#decide(error, request, log);
      switch (decision.action) {
        case 'terminal':
          this.#metrics.terminalReconcileErrors.inc({ controller: this.name });
          this.queue.forget(key);
          this.#flooredKeys.delete(key);
          log.error({ err: error }, 'reconciler error (terminal, not retried)');
          await this.#recordTerminal(request, error, context);
          return;
        case 'requeueAfter':
          log.info(
            { err: error, requeueAfterMs: decision.ms },
            'reconciler error; retrying when asked',
          );
          this.queue.addAfter(key, this.#floored(key, decision.ms, log));
          return;
        case 'backoff':
          log.error({ err: error, retries: this.queue.retries(key) }, 'reconciler error');
          this.queue.addRateLimited(key);
          return;
      }
    }

    const requeueAfter = result?.requeueAfter ?? 0;
    if (requeueAfter > 0) {
      this.queue.forget(key);
      this.queue.addAfter(key, this.#floored(key, requeueAfter, log));
      this.#metrics.reconcileTotal.inc({ controller: this.name, result: 'requeue_after' });
      log.debug({ requeueAfterMs: requeueAfter }, 'reconciled; requeued after delay');
    } else if (result?.requeue) {
      this.#flooredKeys.delete(key);
      this.queue.addRateLimited(key);
      this.#metrics.reconcileTotal.inc({ controller: this.name, result: 'requeue' });
      log.debug('reconciled; requeued with backoff');
    } else {
      this.#flooredKeys.delete(key);
      this.queue.forget(key);
      this.#metrics.reconcileTotal.inc({ controller: this.name, result: 'success' });
      log.debug('reconciled');
    }
  }

  /** `ms` raised to the floor; the first raise in a streak of them is a warning. */
  #floored(key: string, ms: number, log: Logger): number {
    if (ms >= this.#minRequeueAfterMs) {
      this.#flooredKeys.delete(key);
      return ms;
    }
    if (!this.#flooredKeys.has(key)) {
      this.#flooredKeys.add(key);
      log.warn(
        { requeueAfterMs: ms, minRequeueAfterMs: this.#minRequeueAfterMs },
        'requeue asked for less than the floor; raised to it (a reconciler deadline in the past?)',
      );
    }
    return this.#minRequeueAfterMs;
  }

  /** The policy's decision; a policy that throws must not kill the worker: back off. */
  #decide(error: unknown, request: Request, log: Logger): ErrorDecision {
    try {
      return this.#errorPolicy(error, request);
    } catch (policyError) {
      log.error({ err: policyError }, 'error policy threw; backing off');
      return { action: 'backoff' };
    }
  }

  async #recordTerminal(
    request: Request,
    error: unknown,
    context: ReconcileContext,
  ): Promise<void> {
    if (!this.#onTerminalError) return;
    try {
      await this.#onTerminalError(request, error, context);
    } catch (err) {
      context.log.error({ err }, 'recording a terminal error failed');
    }
  }
}
