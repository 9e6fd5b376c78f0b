// The Manager's runnables (runnable.ts), kept in two groups as controller-runtime's
// runnableGroup keeps them: leader-only ones, started when the lease is won and stopped when
// it is lost, and the others, started once the caches have synced. Each runs with a signal of
// its own; stopping a group aborts those signals with the reason the runnable reads
// (stopsAtOnce: a lost lease, or a graceful stop). A runnable runs at most once: a manager
// that lost its lease exits, and the next process starts everything anew.
import { silentLogger, type Logger } from './logger.ts';
import {
  RunnableFailedError,
  type AddOptions,
  type LeaderElectionRunnable,
  type Runnable,
} from './runnable.ts';

interface Entry {
  runnable: Runnable;
  leaderOnly: boolean;
  /** Set once started: how to stop it, and its start()'s outcome. */
  run?: { stop: AbortController; done: Promise<void> };
}

export interface RunnablesOptions {
  logger?: Logger;
  /** Told once per failed runnable (the Manager stops, and start() rejects with the first). */
  onFailure: (failure: RunnableFailedError) => void;
}

export class Runnables {
  readonly #entries: Entry[] = [];
  readonly #log: Logger;
  readonly #onFailure: (failure: RunnableFailedError) => void;

  constructor(options: RunnablesOptions) {
    this.#log = options.logger ?? silentLogger;
    this.#onFailure = options.onFailure;
  }

  add(runnable: Runnable, options: AddOptions = {}): void {
    if (this.#entries.some((e) => e.runnable.name === runnable.name)) {
      throw new Error(`a runnable named ${runnable.name} already exists`);
    }
    const leaderOnly =
      options.leaderOnly ??
      (runnable as Partial<LeaderElectionRunnable>).needLeaderElection?.() ??
      true;
    this.#entries.push({ runnable, leaderOnly });
  }

  /** What runs, for the effective configuration. */
  describe(): { name: string; leaderOnly: boolean }[] {
    return this.#entries.map((e) => ({ name: e.runnable.name, leaderOnly: e.leaderOnly }));
  }

  /** Starts the group's runnables that have not run yet. */
  start(leaderOnly: boolean): void {
    for (const entry of this.#group(leaderOnly)) {
      if (entry.run) continue;
      const stop = new AbortController();
      entry.run = { stop, done: this.#run(entry.runnable, stop.signal) };
    }
  }

  /** Aborts the group's signals with `reason`; resolves once its runnables have returned. */
  async stop(leaderOnly: boolean, reason: Error): Promise<void> {
    const runs = this.#group(leaderOnly).flatMap((e) => (e.run ? [e.run] : []));
    for (const run of runs) run.stop.abort(reason);
    await Promise.all(runs.map((run) => run.done));
  }

  #group(leaderOnly: boolean): Entry[] {
    return this.#entries.filter((e) => e.leaderOnly === leaderOnly);
  }

  async #run(runnable: Runnable, signal: AbortSignal): Promise<void> {
    const log = this.#log.child({ runnable: runnable.name });
    try {
      await runnable.start(signal);
      if (!signal.aborted) log.info('runnable returned before it was stopped');
    } catch (err) {
      if (signal.aborted) {
        // Giving up on being stopped is how it should end; anything else is worth a line.
        if (err !== signal.reason) log.warn({ err }, 'runnable failed while stopping');
        return;
      }
      log.error({ err }, 'runnable failed');
      this.#onFailure(new RunnableFailedError(runnable.name, err));
    }
  }
}
