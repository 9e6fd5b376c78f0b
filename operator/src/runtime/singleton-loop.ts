// A loop the operator runs beside its controllers, one pass at a time: the model catalog's
// refresh, orphan collection, the routing sync, and whatever loop comes next.
//
//   manager.add(new SingletonLoop(manager, modelCatalogRefresher({ catalog })), { leaderOnly: true })
//
// A pass runs as soon as the loop starts, again after the delay the pass returns (floored like
// every requeue), at once when one of its triggers fires (Redis ready again, the model routes
// changed), and after a backoff when it throws. It is built on a Controller with a single
// request, so it has the work queue's guarantees (one pass in flight, triggers collapsed into
// one pass, per-loop backoff), its controller_runtime_* metrics under the loop's name, and the
// same stop as every controller: graceful on stop(), at once when the lease is lost.
import type { Controller, ControllerOptions, ReconcileContext } from './controller.ts';
import type { Manager } from './manager.ts';
import type { Runnable } from './runnable.ts';

/** Listens for something that should run a pass now; returns how to stop listening. */
export type LoopTrigger = (runNow: () => void) => () => void;

export interface SingletonLoopOptions extends Omit<
  ControllerOptions,
  'reconciler' | 'logger' | 'metrics'
> {
  /**
   * One pass; resolves with the time until the next one (ms; 0: none until a trigger fires).
   * A throw backs off.
   */
  pass: (context: ReconcileContext) => Promise<number>;
  /** Events that run a pass at once, listened to while the loop runs. */
  triggers?: readonly LoopTrigger[];
}

export class SingletonLoop implements Runnable {
  readonly name: string;
  /** The queue behind the loop (Manager.controllers lists it). */
  readonly controller: Controller;
  readonly #triggers: readonly LoopTrigger[];
  readonly #request: { name: string };

  /** `manager`: the one whose logger, metrics and requeue floor the loop shares. */
  constructor(manager: Pick<Manager, 'newController'>, options: SingletonLoopOptions) {
    const { pass, triggers, ...controllerOptions } = options;
    this.name = options.name;
    this.#request = { name: options.name };
    this.#triggers = triggers ?? [];
    this.controller = manager.newController({
      ...controllerOptions,
      reconciler: async (_request, context) => ({ requeueAfter: await pass(context) }),
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    const runNow = () => this.controller.enqueue(this.#request);
    const stopListening = this.#triggers.map((trigger) => trigger(runNow));
    try {
      runNow();
      await this.controller.start(signal);
    } finally {
      for (const stop of stopListening) stop();
    }
  }
}
