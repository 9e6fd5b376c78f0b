// The shared rate limiter: every gateway instance counts in the same Redis, one script call
// per admission and one per settle (limit-scripts.ts), so limits hold across instances.
//
// admit() throws when Redis does not answer (unreachable, timed out, script error): whether to
// count locally, admit or refuse then is FallbackRateLimiter's choice, not ours. Give it a
// client that fails fast (enableOfflineQueue off, a short commandTimeout): a request should
// not wait for a Redis that is down.
//
// settle() never throws. A settle that fails loses the request's tokens and leaves its
// parallel slot held until the lease ends; `leaseMs` bounds that, so it must exceed the
// longest request the gateway lets run (a longer request's slot is freed early).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { scopeBaseKey } from './limit-keys.ts';
import { toAdmission } from './limit-decision.ts';
import { limitScripts, type LimitScripts, type ScriptScope } from './limit-scripts.ts';
import type { Admission, AdmissionRequest, RateLimiter } from './rate-limiter.ts';

export interface RedisRateLimiterOptions {
  redis: Redis;
  /** Key prefix, as the routing config's (e.g. "llmtenancy:"). */
  prefix: string;
  /** How long a parallel slot is held when its request never settles. */
  leaseMs: number;
  logger?: Logger | undefined;
  /** Called for every settle Redis did not take (for a metric). */
  onSettleError?: ((error: unknown) => void) | undefined;
}

export class RedisRateLimiter implements RateLimiter {
  readonly #scripts: LimitScripts;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #log: Logger | undefined;
  readonly #onSettleError: ((error: unknown) => void) | undefined;
  /** While settles keep failing, only the first is logged as a warning. */
  #settleFailing = false;

  constructor(options: RedisRateLimiterOptions) {
    if (!Number.isInteger(options.leaseMs) || options.leaseMs <= 0) {
      throw new Error('leaseMs must be a positive integer');
    }
    scopeBaseKey(options.prefix, 't', 'team', 't'); // rejects a prefix with braces now
    this.#scripts = limitScripts(options.redis);
    this.#prefix = options.prefix;
    this.#leaseMs = options.leaseMs;
    this.#log = options.logger;
    this.#onSettleError = options.onSettleError;
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    // Nothing to count: no round trip.
    if (request.scopes.length === 0) return { allowed: true, statuses: [], countedBy: 'redis' };
    const reply = await this.#scripts.admit(
      this.#scriptScopes(request),
      request.requestId,
      this.#leaseMs,
    );
    return toAdmission({ scopes: request.scopes, ...reply, countedBy: 'redis' });
  }

  async settle(
    request: AdmissionRequest,
    tokens: number,
    countedBy: 'redis' | 'local' | 'none',
  ): Promise<void> {
    if (countedBy !== 'redis') return;
    const scopes = this.#scriptScopes(request).filter(
      (s) => s.tpm !== undefined || s.maxParallelRequests !== undefined,
    );
    if (scopes.length === 0) return;
    try {
      await this.#scripts.settle(scopes, request.requestId, tokens);
      if (this.#settleFailing) this.#log?.info('rate-limit settles reach Redis again');
      this.#settleFailing = false;
    } catch (err) {
      this.#onSettleError?.(err);
      const fields = { err: { name: (err as Error).name, message: (err as Error).message } };
      if (this.#settleFailing) {
        this.#log?.debug(fields, 'rate-limit settle failed');
      } else {
        this.#settleFailing = true;
        this.#log?.warn(
          fields,
          "rate-limit settle failed: the request's tokens are not counted and its parallel slot is held until its lease ends",
        );
      }
    }
  }

  #scriptScopes(request: AdmissionRequest): ScriptScope[] {
    return request.scopes.map((s) => ({
      base: scopeBaseKey(this.#prefix, request.team, s.kind, s.id),
      rpm: s.rpm,
      tpm: s.tpm,
      maxParallelRequests: s.maxParallelRequests,
    }));
  }
}
