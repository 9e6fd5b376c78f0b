// Polling for "is it ready yet?", with errors that say what we waited for and why it never
// happened (the last error the check threw), and a way to give up early when waiting
// cannot succeed any more (the server process died).
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** What we wait for, for the error message: `https://…/readyz`, `CRD teams.x established`. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Checked before each try; an Error returned ends the wait at once with that error. */
  fatal?: () => Promise<Error | undefined>;
  /** Builds the error thrown on timeout from our message (e.g. to append a log). */
  timeoutError?: (message: string) => Error | Promise<Error>;
}

export async function pollUntil(
  ready: () => Promise<boolean>,
  options: PollOptions,
): Promise<void> {
  const { what, timeoutMs, intervalMs = 50, fatal, timeoutError = (m) => new Error(m) } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const fatalError = await fatal?.();
    if (fatalError) throw fatalError;
    try {
      if (await ready()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last error: ${describeError(lastError)})`;
      throw await timeoutError(`not ready after ${timeoutMs / 1000}s: ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** An error's message and its cause's, which is where fetch and client-node put the reason. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${describeError(err.cause)}` : '';
  return err.message + cause;
}
