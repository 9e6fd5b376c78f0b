// Jittered exponential backoff for reconnect loops (informer watches, leader election),
// like apimachinery's wait.Backoff with jitter: each failure doubles the delay up to a
// cap; jitter spreads many clients that failed together (an apiserver restart) so they do
// not reconnect in one thundering herd.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Adds up to jitter × delay at random. Default 1 (up to double), as client-go's reflector. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 800;
    this.#max = options.maxMs ?? 30_000;
    this.#jitter = options.jitter ?? 1;
    this.#random = options.random ?? Math.random;
  }

  get failures(): number {
    return this.#failures;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * 2 ** this.#failures);
    this.#failures++;
    return Math.min(this.#max, base * (1 + this.#random() * this.#jitter));
  }

  reset(): void {
    this.#failures = 0;
  }
}

/** `ms` stretched by up to `factor` at random (wait.Jitter): spreads periodic work. */
export function jittered(ms: number, factor: number, random: () => number = Math.random): number {
  return ms + ms * factor * random();
}
