// The budget alert outbox: the spend sync hands it alerts (enqueue never blocks nor throws)
// and it delivers each to every sink, a few at a time, in the background, so a slow or
// failing receiver never delays or fails a spend pass.
//
// - Bounded: at most `capacity` deliveries wait (ready or backing off). One more is dropped,
//   counted (result "dropped") and logged; the spend sync has already remembered the alert
//   in status, so it is not sent again.
// - Retries: a DeliveryError that is retryable waits jittered exponential backoff (equal
//   jitter: attempt 1 → [initial/2, initial), doubling up to maxDelayMs), or the receiver's
//   Retry-After when it gave one (capped at maxDelayMs), up to maxAttempts in all.
// - In memory only: alerts still queued when the operator stops are lost (logged with their
//   number). Status remembers what fired, not what was delivered.
// - As a manager Runnable it runs on every replica; stopping aborts attempts in flight.
import type { Registry } from 'prom-client';
import { backoffDelay } from '../../../litellm/retry.ts';
import { systemClock, type Clock, type TimerHandle } from '../../../runtime/clock.ts';
import type { Logger } from '../../../runtime/logger.ts';
import type { Runnable } from '../../../runtime/runnable.ts';
import { alertMetrics, type AlertMetrics, type DeliveryResult } from './alert-metrics.ts';
import { DeliveryError, type AlertSink } from './alert-sink.ts';
import type { BudgetAlert } from './budget-alert.ts';

export interface AlertRetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const defaultAlertRetry: AlertRetryPolicy = Object.freeze({
  maxAttempts: 8,
  initialDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
});

export interface AlertOutboxOptions {
  sinks: readonly AlertSink[];
  registry: Registry;
  log: Logger;
  /** Deliveries waiting at most (default 1000). */
  capacity?: number;
  /** Attempts in flight at most (default 4). */
  concurrency?: number;
  retry?: AlertRetryPolicy;
  clock?: Clock;
  random?: () => number;
}

/** What the spend sync needs of the outbox. */
export interface AlertQueue {
  enqueue(alert: BudgetAlert): void;
}

interface Delivery {
  sink: AlertSink;
  alert: BudgetAlert;
  attempts: number;
}

export class AlertOutbox implements AlertQueue, Runnable {
  readonly name = 'budget-alert-outbox';
  readonly #sinks: readonly AlertSink[];
  readonly #log: Logger;
  readonly #metrics: AlertMetrics;
  readonly #capacity: number;
  readonly #concurrency: number;
  readonly #retry: AlertRetryPolicy;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #stop = new AbortController();
  #ready: Delivery[] = [];
  #backingOff = new Map<Delivery, TimerHandle>();
  #inFlight = 0;
  #idle: (() => void)[] = [];

  constructor(options: AlertOutboxOptions) {
    this.#sinks = options.sinks;
    this.#log = options.log;
    this.#metrics = alertMetrics(
      options.registry,
      options.sinks.map((s) => s.name),
    );
    this.#capacity = options.capacity ?? 1000;
    this.#concurrency = options.concurrency ?? 4;
    this.#retry = options.retry ?? defaultAlertRetry;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  /** Deliveries waiting: ready, in flight or backing off. */
  get pending(): number {
    return this.#ready.length + this.#backingOff.size + this.#inFlight;
  }

  enqueue(alert: BudgetAlert): void {
    if (this.#stop.signal.aborted) return;
    for (const sink of this.#sinks) {
      if (this.#ready.length + this.#backingOff.size >= this.#capacity) {
        this.#count(sink, 'dropped');
        this.#log.warn(
          { sink: sink.name, alert: alert.id },
          'budget alert outbox full: alert dropped',
        );
        continue;
      }
      this.#ready.push({ sink, alert, attempts: 0 });
    }
    this.#pump();
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!signal.aborted)
      await new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    this.close();
  }

  /** Stops: attempts in flight are aborted, what waits is dropped (and logged). */
  close(): void {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    for (const timer of this.#backingOff.values()) timer.cancel();
    const lost = this.#ready.length + this.#backingOff.size;
    this.#ready = [];
    this.#backingOff.clear();
    if (lost > 0) this.#log.warn({ lost }, 'operator stopping: undelivered budget alerts dropped');
    this.#settle();
  }

  /** Resolves when nothing is ready or in flight (deliveries backing off may remain). */
  settled(): Promise<void> {
    if (this.#ready.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#ready.length > 0) {
      const delivery = this.#ready.shift()!;
      this.#inFlight++;
      void this.#attempt(delivery).finally(() => {
        this.#inFlight--;
        this.#pump();
        this.#settle();
      });
    }
  }

  async #attempt(delivery: Delivery): Promise<void> {
    const { sink, alert } = delivery;
    delivery.attempts++;
    const stopTimer = this.#metrics.duration.startTimer({ sink: sink.name });
    try {
      const outcome = await sink.deliver(alert, this.#stop.signal);
      stopTimer();
      this.#count(sink, outcome === 'skipped' ? 'skipped' : 'delivered');
    } catch (err) {
      stopTimer();
      if (this.#stop.signal.aborted) return;
      const error =
        err instanceof DeliveryError
          ? err
          : new DeliveryError(err instanceof Error ? err.message : String(err), true);
      const context = { sink: sink.name, alert: alert.id, attempt: delivery.attempts };
      if (!error.retryable || delivery.attempts >= this.#retry.maxAttempts) {
        this.#count(sink, 'failed');
        this.#log.warn(
          { ...context, error: error.message },
          error.retryable
            ? 'budget alert not delivered: out of attempts'
            : 'budget alert refused: not retried',
        );
        return;
      }
      const delay = Math.min(
        this.#retry.maxDelayMs,
        error.retryAfterMs ?? backoffDelay(this.#retry, delivery.attempts, this.#random),
      );
      this.#count(sink, 'retried');
      this.#log.info(
        { ...context, error: error.message, retryInMs: delay },
        'budget alert delivery failed: retrying',
      );
      this.#backingOff.set(
        delivery,
        this.#clock.setTimer(() => {
          if (!this.#backingOff.delete(delivery)) return;
          this.#ready.push(delivery);
          this.#pump();
        }, delay),
      );
    }
  }

  #count(sink: AlertSink, result: DeliveryResult): void {
    this.#metrics.deliveries.inc({ sink: sink.name, result });
  }

  #settle(): void {
    if (this.#ready.length > 0 || this.#inFlight > 0) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
