// A clock for the code under benchmark whose time can jump forward: advance() moves now()
// and at once fires every timer that became due, exactly as if that much time had passed.
// Benches use it to trigger a controller's periodic resync (its requeueAfter timers) at a
// chosen moment instead of waiting for it; until then it behaves as the real clock.
import type { Clock, TimerHandle } from '../../../operator/src/runtime/clock.ts';

interface Pending {
  due: number;
  fn: () => void;
  timer: NodeJS.Timeout;
}

export class BenchClock implements Clock {
  #offsetMs = 0;
  readonly #pending = new Set<Pending>();

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const entry: Pending = {
      due: this.now() + ms,
      fn,
      timer: setTimeout(
        () => {
          this.#pending.delete(entry);
          fn();
        },
        Math.max(0, ms),
      ),
    };
    entry.timer.unref();
    this.#pending.add(entry);
    return {
      cancel: () => {
        clearTimeout(entry.timer);
        this.#pending.delete(entry);
      },
    };
  }

  /** Moves time forward by `ms` and runs every timer now due; returns how many ran. */
  advance(ms: number): number {
    this.#offsetMs += ms;
    const now = this.now();
    const due = [...this.#pending].filter((entry) => entry.due <= now);
    for (const entry of due) {
      clearTimeout(entry.timer);
      this.#pending.delete(entry);
    }
    for (const entry of due) entry.fn();
    return due.length;
  }
}
