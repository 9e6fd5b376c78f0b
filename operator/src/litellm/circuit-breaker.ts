// A circuit breaker in front of LiteLLM. After `failureThreshold` consecutive failures that
// mean "LiteLLM is not serving" (the client's `unavailable` kind) it opens: calls fail at once
// with an `unavailable` error instead of each waiting for a timeout, so a LiteLLM outage
// costs the operator's workers nothing and LiteLLM is not hammered while it restarts. After
// `coolDownMs` one call goes through as a probe (half-open): success closes the circuit,
// failure opens it for another cool-down. Any answer from LiteLLM, even a 4xx, is a success
// here: the server is up.
//
// A dozen lines of state, tested with a fake clock (circuit-breaker.test.ts); a library
// (opossum, cockatiel) would bring its own timers, events and option surface for the same.

export type CircuitState = 'closed' | 'open' | 'halfOpen';

export interface CircuitBreakerOptions {
  /** Consecutive `unavailable` failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before a probe is let through. Default 10 s. */
  coolDownMs?: number;
  /** Clock (ms); injectable for tests. */
  now?: () => number;
  /** Called on every state change (metrics, logs). */
  onStateChange?: (state: CircuitState) => void;
}

/** The answer to "may I send a request now?". */
export type Permit = { allowed: true; probe: boolean } | { allowed: false; retryAfterMs: number };

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  readonly #now: () => number;
  readonly #onStateChange: ((state: CircuitState) => void) | undefined;
  #state: CircuitState = 'closed';
  #consecutiveFailures = 0;
  #openedAt = 0;
  #probeInFlight = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.coolDownMs = options.coolDownMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#onStateChange = options.onStateChange;
  }

  get state(): CircuitState {
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** Asks to send one request. A permit with `probe: true` must be settled by one of the three below. */
  acquire(): Permit {
    if (this.#state === 'closed') return { allowed: true, probe: false };
    const reopensIn = this.#openedAt + this.coolDownMs - this.#now();
    if (this.#state === 'open') {
      if (reopensIn > 0) return { allowed: false, retryAfterMs: reopensIn };
      this.#setState('halfOpen');
    }
    // half-open: exactly one probe at a time; the others wait for its outcome.
    if (this.#probeInFlight)
      return { allowed: false, retryAfterMs: Math.min(this.coolDownMs, 1_000) };
    this.#probeInFlight = true;
    return { allowed: true, probe: true };
  }

  /** LiteLLM answered (any HTTP status that does not mean "unavailable"). */
  recordSuccess(): void {
    this.#probeInFlight = false;
    this.#consecutiveFailures = 0;
    if (this.#state !== 'closed') this.#setState('closed');
  }

  /** LiteLLM was unavailable (network error, timeout, 502/503/504). */
  recordFailure(): void {
    this.#probeInFlight = false;
    this.#consecutiveFailures++;
    if (
      this.#state === 'halfOpen' ||
      (this.#state === 'closed' && this.#consecutiveFailures >= this.failureThreshold)
    ) {
      this.#openedAt = this.#now();
      this.#setState('open');
    }
  }

  /** The request ended without telling anything about LiteLLM (the caller aborted it). */
  release(): void {
    this.#probeInFlight = false;
  }

  #setState(state: CircuitState): void {
    this.#state = state;
    this.#onStateChange?.(state);
  }
}
