// A child process of the test bed: output goes to a log file (the terminal stays quiet, the
// log stays readable after a failure), errors quote the end of that log, and the child is
// killed when we stop it or when this Node process exits for any reason, so no server is
// left running behind a crashed or interrupted test run.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { onExit } from 'signal-exit';
import { pollUntil, type PollOptions } from './wait.ts';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the child exits, however that happens. */
  readonly exited: Promise<ExitStatus>;
  /** True once `exited` has settled. */
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
  stop(graceMs?: number): Promise<void>;
  /** An Error naming this process and `problem`, with the last lines of its log. */
  failure(problem: string): Promise<Error>;
}

export interface StartProcessOptions {
  /** Short name used in errors, e.g. `etcd`. */
  name: string;
  command: string;
  args: readonly string[];
  logFile: string;
  /** Message for the error thrown when `command` does not exist. */
  notFound?: string;
}

const TAIL_LINES = 30;

/** The last `lines` lines of a log file, or a note that it could not be read. */
export async function tailOfLog(logFile: string, lines = TAIL_LINES): Promise<string> {
  try {
    const text = await readFile(logFile, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n') || '(log is empty)';
  } catch (err) {
    return `(could not read ${logFile}: ${(err as Error).message})`;
  }
}

export async function startProcess(options: StartProcessOptions): Promise<ManagedProcess> {
  const { name, command, args, logFile } = options;
  // The child writes straight into the file: nothing to pump, nothing lost if we crash.
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  try {
    await once(child, 'spawn');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(options.notFound ?? `${name}: ${command} not found`, { cause: err });
    }
    throw new Error(`${name}: could not start ${command}: ${(err as Error).message}`, {
      cause: err,
    });
  }

  // Synchronous SIGKILL on exit/SIGINT/SIGTERM/uncaught error; signal-exit re-raises the
  // signal afterwards so the exit code stays what it would have been without us.
  const removeExitHook = onExit(() => {
    child.kill('SIGKILL');
  });
  let done = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      removeExitHook();
      resolve({ code, signal });
    });
  });

  const proc: ManagedProcess = {
    name,
    pid: child.pid!,
    logFile,
    exited,
    hasExited: () => done,
    async stop(graceMs = 5_000) {
      if (done) return;
      child.kill('SIGTERM');
      // Unref'd: a pending grace timer must not keep Node alive after the child is gone.
      const stopped = await Promise.race([
        exited.then(() => true),
        sleep(graceMs, false, { ref: false }),
      ]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async failure(problem) {
      const tail = await tailOfLog(logFile);
      return new Error(
        `${name} ${problem}\n--- last ${TAIL_LINES} lines of ${logFile} ---\n${tail}`,
      );
    },
  };
  return proc;
}

/**
 * Polls `ready` until it returns true. Fails fast, quoting the log, when the process exits
 * first; on timeout the error quotes the log too.
 */
export function waitUntilReady(
  proc: ManagedProcess,
  ready: () => Promise<boolean>,
  options: Pick<PollOptions, 'what' | 'timeoutMs' | 'intervalMs'>,
): Promise<void> {
  return pollUntil(ready, {
    ...options,
    fatal: async () => {
      if (!proc.hasExited()) return undefined;
      const { code, signal } = await proc.exited;
      return proc.failure(`exited (${signal ?? `code ${code}`}) before ${options.what} was ready`);
    },
    timeoutError: (message) => proc.failure(message),
  });
}
