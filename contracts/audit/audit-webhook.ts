// The audit trail's optional webhook (AUDIT_WEBHOOK_URL): records are sent in batches, in
// order, as
//
//   POST <url>   {"records": [<AuditRecord>, …]}      (at most 100 a request)
//
// signed as every webhook of the project is (contracts/webhook/signed-post.ts). A sink never
// waits (audit-record.ts), so records queue in memory and one delivery runs at a time; a
// failure a retry can fix (unreachable, timeout, 408, 429, 5xx) is retried with jittered
// backoff, Retry-After honoured, and the same batch is sent again before any later record, so
// order holds. A refusal for good (another 4xx) drops that batch with an error log: the
// receiver will not take it. The queue is bounded: past `maxQueued` records waiting (besides
// the batch being sent) the oldest go, counted in
// llmtenancy_audit_webhook_records_total{outcome="dropped"}. The audit log stream keeps every
// record either way: the webhook is a copy for a SIEM, never the only one.
import { Counter, Gauge, type Registry } from 'prom-client';
import { backoffDelay, type BackoffPolicy } from '../http/backoff.ts';
import { DeliveryError } from '../webhook/signed-post.ts';
import type { AuditRecord, AuditSink } from './audit-record.ts';

/** What the webhook logs: delivery failures, never a record or a URL. */
export interface AuditWebhookLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface AuditWebhookOptions {
  /** One delivery attempt of a body (signedPoster). */
  post(body: string, signal: AbortSignal): Promise<void>;
  log: AuditWebhookLog;
  registry?: Registry;
  /** Records a request carries at most. Default 100. */
  batchSize?: number;
  /** Records kept waiting at most; older ones are dropped first. Default 10,000. */
  maxQueued?: number;
  /** Default 1 s doubling to 1 min. */
  backoff?: BackoffPolicy;
  random?: () => number;
}

export class AuditWebhook implements AuditSink {
  readonly #options: AuditWebhookOptions;
  readonly #batchSize: number;
  readonly #maxQueued: number;
  readonly #backoff: BackoffPolicy;
  /** Records waiting for a batch. */
  readonly #queue: AuditRecord[] = [];
  /** The batch being sent, until delivered or dropped. */
  #sending: AuditRecord[] = [];
  readonly #stopping = new AbortController();
  readonly #records: Counter<'outcome'> | undefined;
  readonly #queued: Gauge | undefined;
  #delivering: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: AuditWebhookOptions) {
    this.#options = options;
    this.#batchSize = options.batchSize ?? 100;
    this.#maxQueued = options.maxQueued ?? 10_000;
    this.#backoff = options.backoff ?? { initialDelayMs: 1_000, maxDelayMs: 60_000 };
    if (options.registry) {
      this.#records = new Counter({
        name: 'llmtenancy_audit_webhook_records_total',
        help: 'Audit records the webhook delivered, or dropped (queue full, or refused for good)',
        labelNames: ['outcome'],
        registers: [options.registry],
      });
      this.#queued = new Gauge({
        name: 'llmtenancy_audit_webhook_queued',
        help: 'Audit records waiting for the webhook',
        registers: [options.registry],
      });
    }
  }

  write(record: AuditRecord): void {
    if (this.#stopping.signal.aborted) return;
    this.#queue.push(record);
    if (this.#queue.length > this.#maxQueued) {
      const dropped = this.#queue.splice(0, this.#queue.length - this.#maxQueued).length;
      this.#records?.inc({ outcome: 'dropped' }, dropped);
      this.#options.log.warn(
        { dropped, maxQueued: this.#maxQueued },
        'audit webhook queue full: oldest records dropped (the audit log keeps them)',
      );
    }
    this.#queued?.set(this.pending);
    this.#delivering ??= this.#deliverAll().finally(() => (this.#delivering = undefined));
  }

  /** Records written but not yet delivered. */
  get pending(): number {
    return this.#sending.length + this.#queue.length;
  }

  /**
   * Delivers what is queued, giving up after `graceMs` (a stopping process). Records still
   * queued then are dropped and counted.
   */
  async close(graceMs = 5_000): Promise<void> {
    const grace = setTimeout(() => this.#stop(), graceMs);
    grace.unref();
    this.#wake?.(); // a retry waiting out its backoff tries once more now
    await this.#delivering;
    clearTimeout(grace);
    this.#stop();
  }

  #stop(): void {
    this.#stopping.abort();
    this.#wake?.();
    if (this.pending > 0) {
      this.#records?.inc({ outcome: 'dropped' }, this.pending);
      this.#queue.length = 0;
      this.#sending = [];
      this.#queued?.set(0);
    }
  }

  async #deliverAll(): Promise<void> {
    let attempt = 0;
    while (this.pending > 0 && !this.#stopping.signal.aborted) {
      if (this.#sending.length === 0) this.#sending = this.#queue.splice(0, this.#batchSize);
      const batch = this.#sending;
      try {
        await this.#options.post(JSON.stringify({ records: batch }), this.#stopping.signal);
        this.#settle('delivered');
        attempt = 0;
      } catch (err) {
        if (this.#stopping.signal.aborted) return;
        const failure =
          err instanceof DeliveryError ? err : new DeliveryError(String(err), true, undefined);
        if (!failure.retryable) {
          this.#settle('dropped');
          this.#options.log.error(
            { records: batch.length, err: failure.message },
            'audit webhook refused a batch for good: dropped (the audit log keeps it)',
          );
          continue;
        }
        attempt += 1;
        const waitMs =
          failure.retryAfterMs ?? backoffDelay(this.#backoff, attempt, this.#options.random);
        this.#options.log.warn(
          { records: this.pending, attempt, retryInMs: waitMs, err: failure.message },
          'audit webhook delivery failed: retrying',
        );
        await this.#sleep(waitMs);
      }
    }
  }

  /** The batch being sent is done with. */
  #settle(outcome: 'delivered' | 'dropped'): void {
    this.#records?.inc({ outcome }, this.#sending.length);
    this.#sending = [];
    this.#queued?.set(this.pending);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }
}
