// The gateway's Prometheus metrics, on a registry of its own (served on the management port).
// Labels are team and model at most: never a key, its hash or a user, so a scrape shows no
// secret and the series count stays bounded by what the operator configured.
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type LabelValues,
} from 'prom-client';

export type RequestLabels = 'team' | 'model' | 'status';

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<RequestLabels>;
  /** requests.inc without prom-client's per-call label hashing (see Tally). */
  countRequest(team: string, model: string, status: number): void;
  countTokens(team: string, model: string, prompt: number, completion: number): void;
  /** The gateway's own time per request (before forwarding plus after the answer's headers). */
  overhead: Histogram;
  /** From forwarding to the upstream's response headers. */
  upstreamLatency: Histogram<'model'>;
  tokens: Counter<'team' | 'model' | 'kind'>;
  rejections: Counter<'reason'>;
  keyLookups: Counter<'result'>;
  /** keyLookups.inc without prom-client's per-call label hashing (counted here, read at scrape). */
  countKeyLookup(result: KeyLookupResult): void;
  routingInvalidations: Counter<'kind'>;
  rateLimitFallbacks: Counter<'mode'>;
  /** Answers whose cost reached the spend counters, or did not: charged, failed, invalid. */
  spendCharges: Counter<'result'>;
  /** spendCharges.inc without prom-client's per-call label hashing (read at scrape). */
  countSpendCharge(result: SpendChargeResult): void;
  /** Requests admitted past a soft budget, by scope (key, team). */
  softBudgetWarnings: Counter<'scope'>;
  inFlight: Gauge;
  /** inFlight up and down by a plain count, read at scrape (no prom-client call per request). */
  requestStarted(): void;
  requestEnded(): void;
  redisUp: Gauge;
}

export type KeyLookupResult = 'hit' | 'negative_hit' | 'miss';
export type SpendChargeResult = 'charged' | 'failed' | 'invalid';

const PREFIX = 'llmtenancy_gateway_';

/**
 * Increments of a labelled counter gathered under one joined key and handed to prom-client
 * when it collects (a scrape): prom-client hashes the label object on every inc(), which the
 * gateway's profile showed on every request.
 */
class Tally<L extends string> {
  readonly #counts = new Map<string, { labels: Record<L, string>; n: number }>();

  add(key: string, labels: () => Record<L, string>, n: number): void {
    const entry = this.#counts.get(key);
    if (entry) entry.n += n;
    else this.#counts.set(key, { labels: labels(), n });
  }

  flushInto(counter: Counter<L>): void {
    for (const entry of this.#counts.values()) {
      if (entry.n > 0) counter.inc(entry.labels, entry.n);
      entry.n = 0;
    }
  }
}

export function createGatewayMetrics(
  options: { defaultMetrics?: boolean; cacheSize?: () => { found: number; absent: number } } = {},
): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const cacheSize = options.cacheSize;
  if (cacheSize) {
    new Gauge({
      name: `${PREFIX}key_cache_entries`,
      help: 'Key policies held in memory (found) and keys remembered as unknown (absent).',
      labelNames: ['kind'],
      registers,
      collect() {
        const size = cacheSize();
        this.set({ kind: 'found' }, size.found);
        this.set({ kind: 'absent' }, size.absent);
      },
    });
  }
  const lookups: Record<KeyLookupResult, number> = { hit: 0, negative_hit: 0, miss: 0 };
  const charges: Record<SpendChargeResult, number> = { charged: 0, failed: 0, invalid: 0 };
  let inFlight = 0;
  const requestTally = new Tally<RequestLabels>();
  const tokenTally = new Tally<'team' | 'model' | 'kind'>();
  const requests = new Counter({
    name: `${PREFIX}requests_total`,
    help: 'Requests answered, by team, model and HTTP status.',
    labelNames: ['team', 'model', 'status'],
    registers,
    collect() {
      requestTally.flushInto(this);
    },
  });
  const tokens = new Counter({
    name: `${PREFIX}tokens_total`,
    help: 'Tokens used, from the responses, by team, model and kind (prompt, completion).',
    labelNames: ['team', 'model', 'kind'],
    registers,
    collect() {
      tokenTally.flushInto(this);
    },
  });
  return {
    registry,
    requests,
    countRequest(team, model, status) {
      requestTally.add(
        `${team}\0${model}\0${status}`,
        () => ({ team, model, status: String(status) }),
        1,
      );
    },
    countTokens(team, model, prompt, completion) {
      const key = `${team}\0${model}`;
      tokenTally.add(`${key}\0p`, () => ({ team, model, kind: 'prompt' }), prompt);
      tokenTally.add(`${key}\0c`, () => ({ team, model, kind: 'completion' }), completion);
    },
    tokens,
    overhead: new Histogram({
      name: `${PREFIX}overhead_seconds`,
      help: "The gateway's own time per forwarded request, without the upstream's.",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
      registers,
    }),
    upstreamLatency: new Histogram({
      name: `${PREFIX}upstream_duration_seconds`,
      help: 'Time from forwarding a request to the upstream answer headers, by model.',
      labelNames: ['model'],
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    rejections: new Counter({
      name: `${PREFIX}rejections_total`,
      help: 'Requests refused by the gateway itself, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    keyLookups: new Counter({
      name: `${PREFIX}key_lookups_total`,
      help: 'Key lookups by result: hit, negative_hit (known unknown), miss (read from Redis).',
      labelNames: ['result'],
      registers,
      collect() {
        for (const result of Object.keys(lookups) as KeyLookupResult[]) {
          if (lookups[result] > 0) this.inc({ result }, lookups[result]);
          lookups[result] = 0;
        }
      },
    }),
    countKeyLookup(result) {
      lookups[result]++;
    },
    routingInvalidations: new Counter({
      name: `${PREFIX}routing_invalidations_total`,
      help: 'Routing config changes applied to the key cache: key (one record) or full (all).',
      labelNames: ['kind'],
      registers,
    }),
    rateLimitFallbacks: new Counter({
      name: `${PREFIX}rate_limit_fallbacks_total`,
      help: 'Admissions decided without Redis, by LIMITS_WHEN_REDIS_DOWN mode.',
      labelNames: ['mode'],
      registers,
    }),
    spendCharges: new Counter({
      name: `${PREFIX}spend_charges_total`,
      help: "Answers' costs (x-litellm-response-cost) added to the budget counters: charged, failed (Redis did not take it), invalid (not a non-negative number: ignored).",
      labelNames: ['result'],
      registers,
      collect() {
        for (const result of Object.keys(charges) as SpendChargeResult[]) {
          if (charges[result] > 0) this.inc({ result }, charges[result]);
          charges[result] = 0;
        }
      },
    }),
    countSpendCharge(result) {
      charges[result]++;
    },
    softBudgetWarnings: new Counter({
      name: `${PREFIX}soft_budget_warnings_total`,
      help: 'Requests admitted with their key or team past its soft budget, by scope.',
      labelNames: ['scope'],
      registers,
    }),
    inFlight: new Gauge({
      name: `${PREFIX}in_flight_requests`,
      help: 'Requests being forwarded now (streams included).',
      registers,
      collect() {
        this.set(inFlight);
      },
    }),
    requestStarted() {
      inFlight++;
    },
    requestEnded() {
      inFlight--;
    },
    redisUp: new Gauge({
      name: `${PREFIX}redis_up`,
      help: '1 when the Redis command connection is ready.',
      registers,
    }),
  };
}

export type { LabelValues };
