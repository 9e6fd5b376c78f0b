// What the Manager runs, in controller-runtime's shape (pkg/manager: Runnable,
// LeaderElectionRunnable): anything with a start(signal) that works until the signal aborts.
// Controllers are runnables; so are the operator's singleton loops (singleton-loop.ts), and
// whatever loop comes next needs no wiring of its own:
//
//   manager.add(runnable, { leaderOnly: true })
//
// Leader-only runnables (the default, as in controller-runtime) start when this replica wins
// the lease (at once when election is off) and are stopped when it loses it; the others start
// on every replica once the caches have synced. A runnable stops when its signal aborts:
//
//   - reason LeadershipLostError → at once (stopsAtOnce): another replica may already lead,
//     and the manager does not wait;
//   - any other reason (stop(), SIGTERM) → gracefully: finish what is in flight, then resolve.
//
// A runnable whose start() rejects before its signal aborted has failed: the manager logs it,
// stops everything else and start() rejects with RunnableFailedError, so the process exits
// non-zero, as a controller-runtime manager returns a runnable's error from Start.

export interface Runnable {
  /** Unique per manager: logs, and a failure's message. */
  readonly name: string;
  /** Works until `signal` aborts; resolves once stopped. A rejection before that is a failure. */
  start(signal: AbortSignal): Promise<void>;
}

/** A runnable that says for itself whether it needs the lease (controller-runtime's). */
export interface LeaderElectionRunnable extends Runnable {
  needLeaderElection(): boolean;
}

export interface AddOptions {
  /**
   * Run only while this replica holds the lease. Default: the runnable's own
   * needLeaderElection(), else true.
   */
  leaderOnly?: boolean;
}

/** The lease was lost while leading: exit and restart clean. */
export class LeadershipLostError extends Error {
  override readonly name = 'LeadershipLostError';
}

/** A runnable's start() rejected while it was meant to run. */
export class RunnableFailedError extends Error {
  override readonly name = 'RunnableFailedError';
  readonly runnable: string;

  constructor(runnable: string, cause: unknown) {
    super(
      `runnable ${runnable} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.runnable = runnable;
  }
}

/** True when the runnable must stop now rather than finish its work: the lease is lost. */
export function stopsAtOnce(signal: AbortSignal): boolean {
  return signal.reason instanceof LeadershipLostError;
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
