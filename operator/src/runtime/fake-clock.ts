// A Clock for unit tests: time stands still until the test calls advance(), which fires
// every timer that has come due, in due-time order (ties in creation order), as a real
// clock would. Nothing here sleeps.
import type { Clock, TimerHandle } from './clock.ts';

interface FakeTimer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = {
      due: this.#now + Math.max(0, ms),
      seq: this.#seq++,
      fn,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers not yet fired nor cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Milliseconds until the next live timer fires, or undefined when none is pending. */
  nextTimerDueIn(): number | undefined {
    const due = this.#timers.filter((t) => !t.cancelled).map((t) => t.due);
    return due.length === 0 ? undefined : Math.min(...due) - this.#now;
  }

  /** Moves time forward by `ms`, firing due timers one by one (each may add more). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      const next = this.#timers
        .filter((t) => t.due <= target)
        .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = Math.max(this.#now, next.due);
      next.fn();
    }
    this.#now = target;
  }
}
