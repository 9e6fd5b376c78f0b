// Waiting for the operator's answer, as `kubectl wait --for=condition=Ready` does, with
// progress: on a terminal one line redrawn in place, otherwise a line whenever the reason
// changes. Only a condition computed from the object's current generation counts.
import type { Condition } from '../crds/api/index.ts';
import type { CommandContext } from './command.ts';
import { isCurrent, readyCondition } from './output/conditions.ts';
import { shortDuration } from './output/time.ts';

export interface Watched {
  metadata: { generation?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

export type WaitOutcome<T> =
  | { done: true; object: T }
  | { done: false; object: T | undefined; condition: Condition | undefined };

export interface WaitOptions<T> {
  read: () => Promise<T | undefined>;
  /** The object is where we want it. */
  done: (object: T) => boolean;
  timeoutMs: number;
  intervalMs?: number;
  /** What is being waited for, e.g. "VirtualKey ml/app to be Ready". */
  what: string;
}

export async function waitFor<T extends Watched>(
  ctx: CommandContext,
  options: WaitOptions<T>,
): Promise<WaitOutcome<T>> {
  const started = Date.now();
  const interval = options.intervalMs ?? 500;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let frame = 0;
  let lastLine = '';
  let object: T | undefined;
  const clear = () => {
    if (ctx.io.interactive && lastLine) ctx.io.err('\r\x1b[2K');
  };
  for (;;) {
    object = await options.read();
    if (object && options.done(object)) {
      clear();
      return { done: true, object };
    }
    const condition = object ? readyCondition(object) : undefined;
    const current = object && condition && isCurrent(object, condition) ? condition : undefined;
    const state = current
      ? `${current.reason}: ${current.message}`
      : 'the operator has not reported on the current spec yet';
    const elapsed = shortDuration(Date.now() - started);
    if (ctx.io.interactive) {
      const line = `${frames[frame++ % frames.length]} waiting for ${options.what} (${elapsed}): ${state}`;
      ctx.io.err(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
      lastLine = line;
    } else if (state !== lastLine) {
      ctx.io.err(`waiting for ${options.what}: ${state}\n`);
      lastLine = state;
    }
    if (Date.now() - started >= options.timeoutMs) {
      clear();
      return { done: false, object, condition: current };
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
