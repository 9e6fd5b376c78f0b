// Time as a dependency. The rate limiter, the work queue and the controller ask a Clock for
// "now" and for timers instead of calling Date.now()/setTimeout directly, so unit tests can
// move time forward by hand (fake-clock.ts) and never sleep or assert on wall-clock time.

/** A cancellable timer handle; opaque to callers. */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds (0 or less: on a later turn of the event loop). */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

/** The real clock. Timers are unref'd: a pending delayed requeue never keeps a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/** Resolves after `ms` on `clock`, or at once (rejecting) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      timer.cancel();
      reject(signal!.reason as Error);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
