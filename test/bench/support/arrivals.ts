// When did each object first reach a state, as seen by a watch: an Informer handler calls
// observe() with every object it gets, and the first time `reached` is true for an object
// its arrival time (performance.now()) is kept and anyone waiting for it is woken. Wait
// before acting (a watch event can arrive before the create call that caused it returns),
// or use seen(), which also answers for objects that arrived earlier.
import type { EventHandler } from '../../../operator/src/runtime/informer.ts';
import { objectKey, type KubeObject } from '../../../operator/src/runtime/object.ts';

export class Arrivals<T extends KubeObject> {
  readonly #reached: (object: T) => boolean;
  readonly #times = new Map<string, number>();
  readonly #waiters = new Map<string, ((at: number) => void)[]>();
  /** Called on each first arrival, with the object and its key. */
  onArrival: ((object: T, key: string, at: number) => void) | undefined;

  constructor(reached: (object: T) => boolean = () => true) {
    this.#reached = reached;
  }

  /** An Informer event handler feeding this (adds and updates). */
  get handler(): EventHandler<T> {
    return { add: (o) => this.observe(o), update: (_old, o) => this.observe(o) };
  }

  observe(object: T): void {
    const key = objectKey(object);
    if (this.#times.has(key) || !this.#reached(object)) return;
    const at = performance.now();
    this.#times.set(key, at);
    this.onArrival?.(object, key, at);
    for (const wake of this.#waiters.get(key) ?? []) wake(at);
    this.#waiters.delete(key);
  }

  get size(): number {
    return this.#times.size;
  }

  time(key: string): number | undefined {
    return this.#times.get(key);
  }

  /** The arrival time of `key` ("namespace/name"), waiting up to `timeoutMs` for it. */
  seen(key: string, timeoutMs: number, what = key): Promise<number> {
    const known = this.#times.get(key);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.#waiters.get(key);
        list?.splice(list.indexOf(wake), 1);
        reject(new Error(`${what} did not arrive within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const wake = (at: number) => {
        clearTimeout(timer);
        resolve(at);
      };
      this.#waiters.set(key, [...(this.#waiters.get(key) ?? []), wake]);
    });
  }
}

/** Runs `fn` for 0…n−1 with at most `limit` running at once; resolves when all are done. */
export async function forEachLimit(
  n: number,
  limit: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
}
